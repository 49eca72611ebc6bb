using System.Text.Json;
using SharpTransformer.Autograd;
using SharpTransformer.Generation;
using SharpTransformer.IO;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models;
using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Fixtures;

/// <summary>
/// Data-driven check of every fixture folder under the fixture root ($SHARPT_FIXTURES or ../shared/fixtures): build the model
/// from config.json, load model.safetensors, and match PyTorch's logits, loss, every gradient and the greedy tokens
/// (with and without the KV cache). Encoders (bert, distilbert, roberta) are built by model_type and architectures and every output
/// in expected.safetensors is matched (per-token outputs only where attention_mask is 1). Tolerance 1e-4 absolute (the fixtures README).
/// </summary>
public class HuggingFaceFixtureTests
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> Folders()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(TestPaths.Fixtures).OrderBy(d => d, StringComparer.Ordinal))
            data.Add(Path.GetFileName(dir));
        return data;
    }

    [Fact]
    public void FixtureRootHoldsTheDecoderAndEncoderFamilies()
    {
        var types = Directory.GetDirectories(TestPaths.Fixtures).Select(d => HfConfigJson.Load(Path.Combine(d, "config.json")).String("", "model_type")).ToList();
        Assert.Contains("gpt2", types);
        Assert.Contains("llama", types);
        Assert.Contains("bert", types);
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void MatchesPyTorch(string folder)
    {
        string dir = Path.Combine(TestPaths.Fixtures, folder);
        if (EncoderModels.Supports(HfConfigJson.Load(Path.Combine(dir, "config.json")).String("", "model_type")))
        {
            MatchesPyTorchEncoder(folder, dir);
            return;
        }
        var (model, bindings) = FixtureModels.Load(dir);
        using var expected = SafeTensorsFile.Open(Path.Combine(dir, "expected.safetensors"));
        var ids = expected.ReadInts("input_ids");
        var idShape = expected.ShapeOf("input_ids");
        var input = Tensor.FromArray(ids, idShape);

        // Logits.
        var logits = model.Forward(input);
        Compare(folder, "logits", expected.ReadFloats("logits"), logits.ToArray(), expected.ShapeOf("logits"));

        // Loss over aligned labels, -100 ignored.
        if (expected.Names.Contains("labels"))
        {
            var labels = Tensor.FromArray(expected.ReadInts("labels"), expected.ShapeOf("labels"));
            var loss = Functional.CrossEntropy(logits, labels, ignoreIndex: -100);
            Compare(folder, "loss", expected.ReadFloats("loss"), [loss.Item()], [1]);

            // Every gradient, in the checkpoint's names and layouts.
            ((Module)model).ZeroGrad();
            loss.Backward();
            var grads = HfWeights.Export(bindings, gradients: true);
            var expectedGrads = expected.Names.Where(n => n.StartsWith("grad.", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(expectedGrads);
            foreach (var g in expectedGrads)
            {
                string name = g["grad.".Length..];
                Assert.True(grads.ContainsKey(name), $"{folder}: no parameter is bound to '{name}'");
                Compare(folder, g, expected.ReadFloats(g), grads[name].Data, grads[name].Shape);
            }
        }

        // Greedy tokens, with and without the KV cache.
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "expected.json")));
        if (json.RootElement.TryGetProperty("greedy_prompt_ids", out var p) && json.RootElement.TryGetProperty("greedy_new_ids", out var n))
        {
            var prompt = p.EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var want = n.EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var gen = new TextGenerator(model);
            var opts = new GenerationOptions(MaxNewTokens: want.Length, Greedy: true);
            Assert.Equal(want, gen.Generate(prompt, opts));
            Assert.Equal(want, gen.Generate(prompt, opts with { UseCache = false }));
        }
    }

    // Encoder outputs: every float tensor of expected.safetensors that is not an input must be produced by the model's head.
    private static void MatchesPyTorchEncoder(string folder, string dir)
    {
        var model = EncoderModels.FromHuggingFace(dir);
        ((Module)model).Eval();
        using var expected = SafeTensorsFile.Open(Path.Combine(dir, "expected.safetensors"));
        Tensor Ints(string name) => Tensor.FromArray(expected.ReadInts(name), expected.ShapeOf(name));
        var ids = Ints("input_ids");
        var mask = expected.Names.Contains("attention_mask") ? Ints("attention_mask") : null;
        var types = expected.Names.Contains("token_type_ids") ? Ints("token_type_ids") : null;
        IReadOnlyDictionary<string, Tensor> outputs;
        using (GradMode.NoGrad()) outputs = model.Outputs(ids, mask, types);
        var checkedNames = new List<string>();
        foreach (var name in expected.Names.Where(n => n is not ("input_ids" or "attention_mask" or "token_type_ids" or "labels")).OrderBy(n => n, StringComparer.Ordinal))
        {
            Assert.True(outputs.ContainsKey(name), $"{folder}: the model ({model.GetType().Name}) does not produce '{name}'");
            var shape = expected.ShapeOf(name);
            Assert.True(outputs[name].Shape.SequenceEqual(shape), $"{folder}: {name} is {outputs[name].ShapeString}, expected {Layout.Format(shape)}");
            // Per-token outputs (B, T, ...) are compared only where attention_mask is 1.
            bool perToken = mask is not null && shape.Length >= 2 && shape[0] == ids.Size(0) && shape[1] == ids.Size(1);
            Compare(folder, name, expected.ReadFloats(name), outputs[name].ToArray(), shape, perToken ? mask!.ToIntArray() : null);
            checkedNames.Add(name);
        }
        Assert.Contains("last_hidden_state", checkedNames);
    }

    private static void Compare(string folder, string what, float[] expected, float[] actual, int[] shape, int[]? tokenMask = null)
    {
        Assert.True(expected.Length == actual.Length, $"{folder}: {what} has {actual.Length} values, expected {expected.Length}");
        int perToken = tokenMask is null ? 1 : expected.Length / tokenMask.Length;
        for (int i = 0; i < expected.Length; i++)
        {
            if (tokenMask is not null && tokenMask[i / perToken] == 0) continue;
            double diff = Math.Abs((double)expected[i] - actual[i]);
            if (!(diff <= Tolerance))
            {
                var idx = new int[shape.Length];
                int r = i;
                for (int d = shape.Length - 1; d >= 0; d--) { idx[d] = r % shape[d]; r /= shape[d]; }
                Assert.Fail($"{folder}: {what} differs at [{string.Join(", ", idx)}]: PyTorch {expected[i]:G9}, ours {actual[i]:G9} (|diff| {diff:G3} > {Tolerance})");
            }
        }
    }
}

/// <summary>Builds a model from a Hugging Face folder by model_type.</summary>
internal static class FixtureModels
{
    public static (ICausalLanguageModel Model, IReadOnlyList<HfBinding> Bindings) Load(string dir)
    {
        var cfg = HfConfigJson.Load(Path.Combine(dir, "config.json"));
        using var weights = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        switch (cfg.String(null, "model_type"))
        {
            case "gpt2":
                {
                    var m = new Gpt2(Gpt2Config.FromHuggingFace(cfg));
                    m.LoadHuggingFace(weights, weights.Path);
                    return (m, m.HfBindings());
                }
            case "llama":
                {
                    var m = new Llama(LlamaConfig.FromHuggingFace(cfg));
                    m.LoadHuggingFace(weights, weights.Path);
                    return (m, m.HfBindings());
                }
            case var t:
                throw new NotSupportedException($"{dir}: model_type '{t}' has no builder.");
        }
    }
}
