namespace SharpTransformer.Cli.Commands;

/// <summary>Reads the checkpoints the commands load, through the library's readers.</summary>
internal static class CheckpointFile
{
    /// <summary>
    /// Reads <paramref name="path"/> with <paramref name="load"/> (<c>LanguageModelCheckpoint.Load</c>, <c>TextClassifier.Load</c>,
    /// <c>TaggerCheckpoint.Load</c>), turning a missing, damaged or foreign file into a one-line error that names it.
    /// </summary>
    public static T Load<T>(string path, Func<string, T> load)
    {
        try
        {
            return load(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or FormatException or ArgumentException
            or System.Text.Json.JsonException or OverflowException or IndexOutOfRangeException or KeyNotFoundException)
        {
            // The readers' own messages start with the file they read, or quote the path they were given.
            string reason = e.Message.ReplaceLineEndings(" ");
            bool named = reason.StartsWith(path, StringComparison.Ordinal) || reason.Contains($"'{path}'", StringComparison.Ordinal);
            throw new CliException(named ? reason : $"{path}: not a readable checkpoint ({reason})");
        }
    }
}
