namespace SharpTransformer.Data;

/// <summary>
/// A data file is malformed. The message starts with <c>file:line:</c>, and <see cref="FileName"/> and
/// <see cref="LineNumber"/> say where, so the line can be found and fixed.
/// </summary>
public sealed class DataFormatException : FormatException
{
    /// <summary>Creates the exception; the message is prefixed with <c>file:line: </c>.</summary>
    public DataFormatException(string fileName, int lineNumber, string message, Exception? inner = null)
        : base($"{fileName}:{lineNumber}: {message}", inner)
    {
        FileName = fileName;
        LineNumber = lineNumber;
    }

    /// <summary>The file, as given to the reader.</summary>
    public string FileName { get; }

    /// <summary>The 1-based line the problem is on (for a record spanning lines, its first line).</summary>
    public int LineNumber { get; }
}
