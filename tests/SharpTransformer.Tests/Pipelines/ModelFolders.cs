using System.Text.Json.Nodes;
using SharpTransformer.IO;

namespace SharpTransformer.Tests.Pipelines;

/// <summary>Hugging Face folders built from the fixtures for the Auto and pipeline tests (the fixtures hold no tokenizer files).</summary>
internal static class ModelFolders
{
    public static string Fixture(string name) => Path.Combine(TestPaths.Fixtures, name);

    /// <summary>A temp folder with <paramref name="files"/> of a fixture copied in.</summary>
    public static string CopyOf(string fixture, string target, params string[] files)
    {
        Directory.CreateDirectory(target);
        foreach (var f in files) File.Copy(Path.Combine(Fixture(fixture), f), Path.Combine(target, f), overwrite: true);
        return target;
    }

    /// <summary>gpt2-tiny with GPT-2's own vocabulary as vocab.json + merges.txt.</summary>
    public static string Gpt2Tiny(string target)
    {
        CopyOf("gpt2-tiny", target, "config.json", "model.safetensors");
        File.Copy(Path.Combine(TestPaths.Data, "gpt2", "encoder.json"), Path.Combine(target, "vocab.json"), true);
        File.Copy(Path.Combine(TestPaths.Data, "gpt2", "vocab.bpe"), Path.Combine(target, "merges.txt"), true);
        return target;
    }

    /// <summary>The word of id <paramref name="id"/> in <see cref="WriteBertTinyTokenizer"/>'s vocabulary (103 is [MASK] with <paramref name="mask"/>).</summary>
    public static string Word(int id, bool mask = true) => id switch { 0 => "[PAD]", 1 => "[UNK]", 103 when mask => "[MASK]", _ => $"w{id}" };

    /// <summary>The text whose tokens are <paramref name="ids"/> under <see cref="WriteBertTinyTokenizer"/>.</summary>
    public static string Text(IEnumerable<int> ids, bool mask = true) => string.Join(' ', ids.Select(i => Word(i, mask)));

    /// <summary>
    /// A tokenizer.json for bert-tiny's 1,000 ids: id i is the word "w{i}" (0 [PAD], 1 [UNK], 103 [MASK] with <paramref name="mask"/>),
    /// and the template adds no special tokens, with token type 0 on the first text and 1 on the second, so a text pair gives the
    /// fixture's inputs.
    /// </summary>
    public static void WriteBertTinyTokenizer(string target, bool mask = true)
    {
        var vocab = new JsonObject();
        for (int i = 0; i < 1000; i++) vocab[Word(i, mask)] = i;
        JsonObject Added(int id) => new() { ["id"] = id, ["content"] = Word(id, mask), ["special"] = true };
        JsonObject Seq(string id, int type) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = type } };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = mask ? new JsonArray(Added(0), Added(1), Added(103)) : new JsonArray(Added(0), Added(1)),
            ["normalizer"] = new JsonObject { ["type"] = "BertNormalizer", ["lowercase"] = true },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Seq("A", 0)),
                ["pair"] = new JsonArray(Seq("A", 0), Seq("B", 1)),
                ["special_tokens"] = new JsonObject(),
            },
            ["model"] = new JsonObject { ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##", ["vocab"] = vocab },
        };
        File.WriteAllText(Path.Combine(target, "tokenizer.json"), root.ToJsonString());
    }

    /// <summary>bert-tiny (BertForPreTraining) with <see cref="WriteBertTinyTokenizer"/>'s tokenizer.</summary>
    public static string BertTiny(string target, bool mask = true)
    {
        CopyOf("bert-tiny", target, "config.json", "model.safetensors");
        WriteBertTinyTokenizer(target, mask);
        return target;
    }

    /// <summary>The fixture's expected inputs and outputs.</summary>
    public static (int[] Ids, int[] Types, int[] Mask, Dictionary<string, float[]> Outputs) BertTinyExpected()
    {
        using var f = SafeTensorsFile.Open(Path.Combine(Fixture("bert-tiny"), "expected.safetensors"));
        var outputs = new[] { "last_hidden_state", "pooler_output", "mlm_logits" }.ToDictionary(n => n, f.ReadFloats);
        return (f.ReadInts("input_ids"), f.ReadInts("token_type_ids"), f.ReadInts("attention_mask"), outputs);
    }

    /// <summary>Rewrites <paramref name="file"/> without the tensors <paramref name="drop"/> selects, in <paramref name="type"/>.</summary>
    public static void Rewrite(string file, Func<string, bool> drop, SafeTensorsDType type = SafeTensorsDType.F32)
    {
        var writer = new SafeTensorsWriter().Metadata("format", "pt");
        using (var f = SafeTensorsFile.Open(file))
            foreach (var n in f.Names.Where(n => !drop(n))) writer.Add(n, f.ShapeOf(n), f.ReadFloats(n), type);
        writer.Save(file);
    }

    /// <summary>Sets config.json's architectures.</summary>
    public static void SetArchitecture(string folder, string arch)
    {
        string path = Path.Combine(folder, "config.json");
        var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        o["architectures"] = new JsonArray(arch);
        File.WriteAllText(path, o.ToJsonString());
    }
}
