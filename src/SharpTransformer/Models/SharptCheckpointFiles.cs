using SharpTransformer.IO;

namespace SharpTransformer.Models;

/// <summary>Finds the checkpoint file that the <c>sharpt</c> commands write into an output folder, and tells it from a Hugging Face folder.</summary>
internal static class SharptCheckpointFiles
{
    /// <summary><paramref name="path"/> itself when it is a file, else the first of <paramref name="names"/> in that folder.</summary>
    public static string Resolve(string path, string caller, params string[] names)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (File.Exists(path)) return path;
        if (Directory.Exists(path))
        {
            foreach (var n in names)
                if (File.Exists(System.IO.Path.Combine(path, n))) return System.IO.Path.Combine(path, n);
            throw new FileNotFoundException($"{caller}: '{path}' holds none of {string.Join(", ", names)}.", path);
        }
        throw new FileNotFoundException($"{caller}: no checkpoint file or folder at '{path}'.", path);
    }

    /// <summary>The model kind of a SharpTransformer checkpoint at <paramref name="path"/> (file or output folder), or null when there is none.</summary>
    public static string? KindAt(string path)
    {
        string? file = File.Exists(path) ? path
            : Directory.Exists(path) && !File.Exists(System.IO.Path.Combine(path, "config.json"))
                ? new[] { "model.safetensors", "best.safetensors", "last.safetensors" }.Select(n => System.IO.Path.Combine(path, n)).FirstOrDefault(File.Exists)
                : null;
        if (file is null) return null;
        try
        {
            using var f = SafeTensorsFile.Open(file);
            return f.Metadata.TryGetValue("format", out var fmt) && fmt == "sharptransformer-checkpoint-v1" && f.Metadata.TryGetValue("model_kind", out var k) ? k : null;
        }
        catch (InvalidDataException) { return null; }
    }
}
