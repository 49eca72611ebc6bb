namespace SharpTransformer.Data;

/// <summary>A recoverable problem found while reading a data file (for example a skipped empty line).</summary>
/// <param name="FileName">The file, as given to the reader.</param>
/// <param name="LineNumber">The 1-based line.</param>
/// <param name="Message">What was found and what the reader did about it.</param>
public sealed record DataWarning(string FileName, int LineNumber, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{FileName}:{LineNumber}: {Message}";
}
