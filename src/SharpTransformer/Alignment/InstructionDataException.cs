namespace SharpTransformer.Alignment;

/// <summary>
/// An instruction or preference data file is malformed: the message starts with <c>file: record N</c> (0-based, in file order;
/// with the line for JSON lines) and names the field, and the properties say the same for a program.
/// </summary>
public sealed class InstructionDataException : FormatException
{
    /// <summary>Creates the exception; the message is prefixed with the file and record.</summary>
    /// <param name="fileName">The file, as given to the reader.</param>
    /// <param name="recordIndex">The 0-based record in file order, or -1 for the file as a whole.</param>
    /// <param name="field">The field at fault, or null.</param>
    /// <param name="message">What is wrong.</param>
    /// <param name="line">The 1-based line of the record, when known.</param>
    /// <param name="inner">The underlying error.</param>
    public InstructionDataException(string fileName, int recordIndex, string? field, string message, int? line = null, Exception? inner = null)
        : base(Prefix(fileName, recordIndex, line) + message, inner)
    {
        FileName = fileName;
        RecordIndex = recordIndex;
        Field = field;
    }

    /// <summary>The file, as given.</summary>
    public string FileName { get; }
    /// <summary>The 0-based record in file order, or -1 when the file as a whole is at fault.</summary>
    public int RecordIndex { get; }
    /// <summary>The field at fault, or null.</summary>
    public string? Field { get; }

    private static string Prefix(string file, int record, int? line) =>
        record < 0 ? $"{file}: " : line is { } l ? $"{file}: record {record} (line {l}): " : $"{file}: record {record}: ";
}
