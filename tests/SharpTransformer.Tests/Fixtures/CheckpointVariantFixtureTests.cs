using SharpTransformer.IO;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;

namespace SharpTransformer.Tests.Fixtures;

/// <summary>The same fixture weights saved the other ways Hugging Face checkpoints come: F16, BF16, the transformer. prefix,
/// an explicit lm_head.weight beside tied embeddings, a __metadata__ entry; and broken files that must be rejected with a full list.</summary>
public class CheckpointVariantFixtureTests
{
    private static string Fixture(string f) => Path.Combine(TestPaths.Fixtures, f);

    private static string Rewrite(string folder, SafeTensorsDType dtype, string prefix, bool addLmHead, Func<string, bool>? drop = null, string? rename = null)
    {
        using var src = SafeTensorsFile.Open(Path.Combine(Fixture(folder), "model.safetensors"));
        var w = new SafeTensorsWriter().Metadata("format", "pt");
        foreach (var n in src.Names)
        {
            if (drop?.Invoke(n) ?? false) continue;
            w.Add(prefix + (n == rename ? n + "_typo" : n), src.ShapeOf(n), src.ReadFloats(n), dtype);
        }
        if (addLmHead) w.Add("lm_head.weight", src.ShapeOf("wte.weight"), src.ReadFloats("wte.weight"), dtype);
        var path = Path.Combine(Directory.CreateTempSubdirectory("sharpt-hf-").FullName, "model.safetensors");
        w.Save(path);
        return path;
    }

    [Theory]
    [InlineData(SafeTensorsDType.F16)]
    [InlineData(SafeTensorsDType.BF16)]
    [InlineData(SafeTensorsDType.F32)]
    public void Gpt2LoadsHalfPrecisionPrefixedCheckpointsWithExplicitHead(SafeTensorsDType dtype)
    {
        var cfg = HfConfigJson.Load(Path.Combine(Fixture("gpt2-tiny"), "config.json"));
        var path = Rewrite("gpt2-tiny", dtype, "transformer.", addLmHead: true);
        var model = new Gpt2(Gpt2Config.FromHuggingFace(cfg));
        using (var f = SafeTensorsFile.Open(path)) model.LoadHuggingFace(f);
        using var orig = SafeTensorsFile.Open(Path.Combine(Fixture("gpt2-tiny"), "model.safetensors"));
        var loaded = HfWeights.Export(model.HfBindings());
        foreach (var (name, (_, data)) in loaded)
        {
            var want = orig.ReadFloats(name);
            for (int i = 0; i < want.Length; i++)
            {
                float expect = dtype switch
                {
                    SafeTensorsDType.F16 => (float)(Half)want[i],
                    SafeTensorsDType.BF16 => RoundBf16(want[i]),
                    _ => want[i],
                };
                Assert.True(expect == data[i], $"{name}[{i}]: expected {expect}, loaded {data[i]}");
            }
        }
    }

    private static float RoundBf16(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        bits += 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000);
    }

    [Fact]
    public void MismatchedCheckpointListsEveryProblem()
    {
        var cfg = HfConfigJson.Load(Path.Combine(Fixture("llama-tiny"), "config.json"));
        var path = Rewrite("llama-tiny", SafeTensorsDType.F32, "", addLmHead: false,
            drop: n => n == "model.norm.weight" || n == "model.layers.1.mlp.up_proj.weight", rename: "model.layers.0.mlp.down_proj.weight");
        var model = new Llama(LlamaConfig.FromHuggingFace(cfg) with { Intermediate = 100 });
        using var f = SafeTensorsFile.Open(path);
        var e = Assert.Throws<InvalidDataException>(() => model.LoadHuggingFace(f, path));
        Assert.Contains(path, e.Message);
        Assert.Contains("missing", e.Message);
        Assert.Contains("model.norm.weight", e.Message);
        Assert.Contains("model.layers.1.mlp.up_proj.weight", e.Message);
        Assert.Contains("model.layers.0.mlp.down_proj.weight", e.Message);
        Assert.Contains("unexpected", e.Message);
        Assert.Contains("model.layers.0.mlp.down_proj.weight_typo", e.Message);
        Assert.Contains("shape mismatch", e.Message);
        Assert.Contains("model.layers.0.mlp.gate_proj.weight: checkpoint (176, 64), model expects (100, 64)", e.Message);
    }
}
