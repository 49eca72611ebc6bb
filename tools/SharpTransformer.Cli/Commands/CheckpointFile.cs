using SharpTransformer.IO;

namespace SharpTransformer.Cli.Commands;

/// <summary>Reads the checkpoints the commands load.</summary>
internal static class CheckpointFile
{
    /// <summary>Reads <paramref name="path"/>, turning a damaged or foreign file into a one-line error that names it.</summary>
    public static Checkpoint Read(string path)
    {
        try
        {
            return Checkpoint.Load(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or FormatException or ArgumentException
            or System.Text.Json.JsonException or OverflowException or IndexOutOfRangeException)
        {
            string reason = e.Message.ReplaceLineEndings(" ");
            if (reason.StartsWith(path + ": ", StringComparison.Ordinal)) reason = reason[(path.Length + 2)..];
            throw new CliException($"{path}: not a readable checkpoint ({reason})");
        }
    }
}
