using System.Text.Json;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.IO;

/// <summary>
/// A tokenizer stored as JSON inside a checkpoint, so a checkpoint alone is enough to encode and decode:
/// a character tokenizer keeps its characters; a file-based tokenizer (BPE, WordPiece) keeps its files' contents.
/// </summary>
public static class TokenizerSnapshot
{
    /// <summary>The snapshot of a character tokenizer.</summary>
    public static string FromChars(CharTokenizer tokenizer)
    {
        var chars = Enumerable.Range(0, tokenizer.VocabSize).Select(i => tokenizer.IdToToken(i)!).ToArray();
        return JsonSerializer.Serialize(new Dictionary<string, object> { ["kind"] = "char", ["chars"] = chars });
    }

    /// <summary>The snapshot of a tokenizer loaded from vocabulary files (as <see cref="Tokenizer.FromFiles"/> reads them).</summary>
    public static string FromFiles(string vocabPath, string? mergesPath, bool lowercase)
    {
        var d = new Dictionary<string, object>
        {
            ["kind"] = "files",
            ["vocab_name"] = Path.GetFileName(vocabPath),
            ["vocab"] = File.ReadAllText(vocabPath),
            ["lowercase"] = lowercase,
        };
        if (mergesPath is not null)
        {
            d["merges_name"] = Path.GetFileName(mergesPath);
            d["merges"] = File.ReadAllText(mergesPath);
        }
        return JsonSerializer.Serialize(d);
    }

    /// <summary>Rebuilds the tokenizer of a snapshot.</summary>
    public static Tokenizer Restore(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var r = doc.RootElement;
        string kind = r.GetProperty("kind").GetString() ?? "";
        switch (kind)
        {
            case "char":
                return new CharTokenizer(r.GetProperty("chars").EnumerateArray().Select(e => e.GetString()!));
            case "files":
                {
                    var dir = Directory.CreateTempSubdirectory("sharpt-tok-");
                    try
                    {
                        string vocab = Path.Combine(dir.FullName, r.GetProperty("vocab_name").GetString()!);
                        File.WriteAllText(vocab, r.GetProperty("vocab").GetString());
                        string? merges = null;
                        if (r.TryGetProperty("merges", out var m))
                        {
                            merges = Path.Combine(dir.FullName, r.GetProperty("merges_name").GetString()!);
                            File.WriteAllText(merges, m.GetString());
                        }
                        return Tokenizer.FromFiles(vocab, merges, r.GetProperty("lowercase").GetBoolean());
                    }
                    finally { dir.Delete(recursive: true); }
                }
            default:
                throw new InvalidDataException($"Tokenizer snapshot: unknown kind '{kind}'.");
        }
    }
}
