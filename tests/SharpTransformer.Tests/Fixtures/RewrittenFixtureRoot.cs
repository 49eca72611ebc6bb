using SharpTransformer.IO;

namespace SharpTransformer.Tests.Fixtures;

/// <summary>
/// A temporary fixture root holding the base fixtures saved the other ways the fixtures README allows (written with
/// <see cref="SafeTensorsWriter"/>): GPT-2 under hub names (<c>transformer.</c> prefix, an explicit <c>lm_head.weight</c>
/// beside the tied embedding) in F32, F16 and BF16; Llama and BERT in BF16. Each expected.safetensors is rewritten to match:
/// gradients under the checkpoint's own names, <c>grad.lm_head.weight</c> equal to <c>grad.wte.weight</c> (tied: one tensor
/// in PyTorch, so both names carry the whole gradient). And bert-tiny as a RobertaForMaskedLM checkpoint (roberta. and lm_head.
/// names, positions shifted as RoBERTa counts them) that must give the same outputs. Deleted when the test class is done.
/// </summary>
public sealed class RewrittenFixtureRoot : IDisposable
{
    /// <summary>The root folder.</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("sharpt-fixtures-").FullName;

    private readonly object _sync = new();

    /// <summary>The folder of a variant, written on first use.</summary>
    public string Variant(string name)
    {
        lock (_sync)
        {
            string dir = Path.Combine(Root, name);
            if (Directory.Exists(dir)) return dir;
            if (name == "roberta-from-bert-tiny") WriteRoberta(Path.Combine(TestPaths.Fixtures, "bert-tiny"), dir);
            else
            {
                var (source, dtype, prefix, lmHead) = name switch
                {
                    "gpt2-tiny-hub-names-f32" => ("gpt2-tiny", SafeTensorsDType.F32, "transformer.", true),
                    "gpt2-tiny-hub-names-f16" => ("gpt2-tiny", SafeTensorsDType.F16, "transformer.", true),
                    "gpt2-tiny-hub-names-bf16" => ("gpt2-tiny", SafeTensorsDType.BF16, "transformer.", true),
                    "llama-tiny-bf16" => ("llama-tiny", SafeTensorsDType.BF16, "", false),
                    "bert-tiny-bf16" => ("bert-tiny", SafeTensorsDType.BF16, "", false),
                    _ => throw new ArgumentException($"unknown variant '{name}'", nameof(name)),
                };
                Write(Path.Combine(TestPaths.Fixtures, source), dir, dtype, prefix, lmHead);
            }
            return dir;
        }
    }

    /// <summary>Writes every variant (for the root-level check).</summary>
    public void WriteAll()
    {
        foreach (var v in RewrittenFixtureRootTests.Variants) Variant(v);
    }

    // Weights in dtype, each name behind prefix, and (lmHead) an lm_head.weight holding the tied embedding's values; the expected
    // outputs as they are, every grad.<name> renamed as its tensor, and grad.lm_head.weight = grad.<embedding> (the same tensor).
    private static void Write(string src, string dir, SafeTensorsDType dtype, string prefix, bool lmHead)
    {
        Directory.CreateDirectory(dir);
        foreach (var f in new[] { "config.json", "expected.json" }) File.Copy(Path.Combine(src, f), Path.Combine(dir, f));
        using (var model = SafeTensorsFile.Open(Path.Combine(src, "model.safetensors")))
        {
            var w = new SafeTensorsWriter().Metadata("format", "pt");
            foreach (var n in model.Names.Order(StringComparer.Ordinal)) w.Add(prefix + n, model.ShapeOf(n), model.ReadFloats(n), dtype);
            if (lmHead) w.Add("lm_head.weight", model.ShapeOf("wte.weight"), model.ReadFloats("wte.weight"), dtype);
            w.Save(Path.Combine(dir, "model.safetensors"));
        }
        using var expected = SafeTensorsFile.Open(Path.Combine(src, "expected.safetensors"));
        var e = new SafeTensorsWriter();
        foreach (var n in expected.Names.Order(StringComparer.Ordinal))
        {
            if (expected.Entries[n].DType == SafeTensorsDType.I64) { e.Add(n, expected.ShapeOf(n), expected.ReadInts(n)); continue; }
            var values = expected.ReadFloats(n);
            if (!n.StartsWith("grad.", StringComparison.Ordinal)) { e.Add(n, expected.ShapeOf(n), values); continue; }
            string tensor = n["grad.".Length..];
            e.Add("grad." + prefix + tensor, expected.ShapeOf(n), values);
            if (lmHead && tensor == "wte.weight") e.Add("grad.lm_head.weight", expected.ShapeOf(n), values);
        }
        e.Save(Path.Combine(dir, "expected.safetensors"));
    }

    // bert-tiny as a RobertaForMaskedLM checkpoint that computes the same outputs: names under roberta. and lm_head. (with the
    // tied lm_head.decoder.weight stored), no pooler or NSP head, and the position table shifted by one row, because RoBERTa
    // counts positions from pad_token_id + 1 (here 0 + 1; every padding token of the inputs has id 0, no other token does). The
    // row RoBERTa gives padding tokens is zero; those positions are masked in the comparison. Expected: the outputs a masked-LM
    // model gives (last_hidden_state, mlm_logits), unchanged.
    private static void WriteRoberta(string src, string dir)
    {
        Directory.CreateDirectory(dir);
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(src, "config.json")))!.AsObject();
        int positions = (int)config["max_position_embeddings"]!;
        config["model_type"] = "roberta";
        config["architectures"] = new System.Text.Json.Nodes.JsonArray("RobertaForMaskedLM");
        config["max_position_embeddings"] = positions + 1;
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        File.Copy(Path.Combine(src, "expected.json"), Path.Combine(dir, "expected.json"));
        using (var model = SafeTensorsFile.Open(Path.Combine(src, "model.safetensors")))
        {
            var w = new SafeTensorsWriter().Metadata("format", "pt");
            foreach (var n in model.Names.Order(StringComparer.Ordinal))
            {
                var values = model.ReadFloats(n);
                var shape = model.ShapeOf(n);
                if (n.StartsWith("bert.pooler.", StringComparison.Ordinal) || n.StartsWith("cls.seq_relationship.", StringComparison.Ordinal)) continue;
                if (n == "bert.embeddings.position_embeddings.weight")
                {
                    values = [.. new float[shape[1]], .. values];
                    shape = [shape[0] + 1, shape[1]];
                }
                string renamed = n.StartsWith("bert.", StringComparison.Ordinal) ? "roberta." + n["bert.".Length..]
                    : n.Replace("cls.predictions.transform.dense.", "lm_head.dense.", StringComparison.Ordinal)
                        .Replace("cls.predictions.transform.LayerNorm.", "lm_head.layer_norm.", StringComparison.Ordinal)
                        .Replace("cls.predictions.bias", "lm_head.bias", StringComparison.Ordinal);
                w.Add(renamed, shape, values);
                if (n == "bert.embeddings.word_embeddings.weight") w.Add("lm_head.decoder.weight", shape, values);
            }
            w.Save(Path.Combine(dir, "model.safetensors"));
        }
        using var expected = SafeTensorsFile.Open(Path.Combine(src, "expected.safetensors"));
        var e = new SafeTensorsWriter();
        foreach (var n in new[] { "input_ids", "token_type_ids", "attention_mask" }) e.Add(n, expected.ShapeOf(n), expected.ReadInts(n));
        foreach (var n in new[] { "last_hidden_state", "mlm_logits" }) e.Add(n, expected.ShapeOf(n), expected.ReadFloats(n));
        e.Save(Path.Combine(dir, "expected.safetensors"));
    }

    /// <summary>Deletes the root.</summary>
    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
