using System.Text.Json;
using SharpTransformer.Autograd;
using SharpTransformer.Generation;
using SharpTransformer.IO;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models.Bert;
using SharpTransformer.Nn;
using SharpTransformer.Nn.MoE;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Fixtures;

/// <summary>
/// The checks of one fixture folder (the fixtures README): build the model from config.json, load model.safetensors, and match
/// every output of expected.safetensors. Decoders: logits, the loss over the aligned labels, the gradient of every checkpoint
/// tensor under the checkpoint's own names (a <c>transformer.</c> prefix, an explicit tied <c>lm_head.weight</c>), and the
/// greedy tokens with and without the KV cache. Encoders: every output the head of <c>architectures</c> gives, per-token outputs
/// only where attention_mask is 1. A failure names the folder, the output, the position and both values.
/// </summary>
internal static class FixtureChecks
{
    /// <summary>The fixtures README's tolerance for an fp32 implementation against the float64 outputs: 1e-4 absolute.</summary>
    public static readonly FixtureTolerance Tolerance = new(1e-4, 0);

    /// <summary>The folders of <paramref name="root"/> that hold a model (a config.json); adapter folders and others are not.</summary>
    public static IEnumerable<string> ModelFolders(string root)
    {
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"Fixture root '{root}' does not exist (set {TestPaths.FixturesVariable} to a folder of fixture folders).");
        return Directory.GetDirectories(root).Where(d => File.Exists(Path.Combine(d, "config.json"))).OrderBy(d => d, StringComparer.Ordinal);
    }

    /// <summary>
    /// True for any root: every folder with a config.json is of a model_type the fixture tests build, else the failure names the
    /// folder and the type. Folders without one (adapters) are left to their own test. Returns the model folders.
    /// </summary>
    public static List<string> AssertEveryModelFolderIsSupported(string root)
    {
        var folders = ModelFolders(root).ToList();
        foreach (var dir in folders)
        {
            string type = FixtureModels.ModelType(dir);
            Assert.True(FixtureModels.Supports(type), $"{dir}: model_type '{type}' is not supported by the fixture tests " +
                $"(decoders {string.Join(", ", FixtureModels.DecoderTypes)}; encoders bert, distilbert, roberta, xlm-roberta, camembert); " +
                "a root is listed in TestPaths.ExtraFixtureRoots only once its families are.");
        }
        return folders;
    }

    /// <summary>Runs every check of the fixture in <paramref name="dir"/> with the given absolute tolerance.</summary>
    /// <paramref name="log"/>, when given, receives the largest |PyTorch - ours| of every output.
    public static void Run(string dir, FixtureTolerance? tolerance = null, bool greedy = true, Action<string>? log = null)
    {
        var tol = tolerance ?? Tolerance;
        string label = $"{Path.GetFileName(Path.GetDirectoryName(dir))}/{Path.GetFileName(dir)}";
        string type = FixtureModels.ModelType(dir);
        Assert.True(FixtureModels.Supports(type), $"{label}: model_type '{type}' is not supported by the fixture tests.");
        if (global::SharpTransformer.Models.Seq2SeqModels.Supports(type)) Seq2SeqFixtureChecks.Run(label, dir, tol, greedy, log);
        else if (EncoderModels.Supports(type)) Encoder(label, dir, tol, log);
        else Decoder(label, dir, tol, greedy, log);
    }

    private static void Decoder(string label, string dir, FixtureTolerance tolerance, bool greedy, Action<string>? log)
    {
        var fm = FixtureModels.Load(dir);
        var model = fm.Model;
        ((Module)model).Eval();
        using var expected = SafeTensorsFile.Open(Path.Combine(dir, "expected.safetensors"));
        var input = Tensor.FromArray(expected.ReadInts("input_ids"), expected.ShapeOf("input_ids"));

        var logits = model.Forward(input);
        Compare(label, "logits", expected.ReadFloats("logits"), logits.ToArray(), expected.ShapeOf("logits"), tolerance, log: log);
        if (model is IMixtureOfExpertsModel moe) Routing(label, dir, moe, expected, tolerance, log);

        if (expected.Names.Contains("labels"))
        {
            // Loss over labels already aligned with the positions, -100 ignored.
            var labels = Tensor.FromArray(expected.ReadInts("labels"), expected.ShapeOf("labels"));
            var loss = Functional.CrossEntropy(logits, labels, ignoreIndex: -100);
            Compare(label, "loss", expected.ReadFloats("loss"), [loss.Item()], [1], tolerance, log: log);

            ((Module)model).ZeroGrad();
            loss.Backward();
            var grads = HfWeights.Export(fm.Bindings, gradients: true);
            HashSet<string> stored;
            using (var weights = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"))) stored = [.. weights.Names];
            var expectedGrads = expected.Names.Where(n => n.StartsWith("grad.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            Assert.True(expectedGrads.Count > 0, $"{label}: expected.safetensors has labels but no grad.<name> tensors");
            var covered = new HashSet<string>(StringComparer.Ordinal);
            foreach (var g in expectedGrads)
            {
                string name = g["grad.".Length..];
                Assert.True(stored.Contains(name), $"{label}: {g} names no tensor of model.safetensors (gradients are stored under the checkpoint's own names)");
                string bound = GradientSource(label, name, fm);
                covered.Add(bound);
                Compare(label, g, expected.ReadFloats(g), grads[bound].Data, grads[bound].Shape, tolerance, log: log);
            }
            // Every parameter the checkpoint bound has had its gradient compared (PyTorch gives one for every checkpoint tensor).
            var unchecked_ = fm.Bindings.Select(b => b.HfName).Where(n => !covered.Contains(n)).ToList();
            Assert.True(unchecked_.Count == 0, $"{label}: no grad.<name> in expected.safetensors for {string.Join(", ", unchecked_)}");
        }

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "expected.json")));
        if (greedy && json.RootElement.TryGetProperty("greedy_prompt_ids", out var p) && json.RootElement.TryGetProperty("greedy_new_ids", out var n))
        {
            var prompt = p.EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var want = n.EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var gen = new TextGenerator(model);
            var opts = new GenerationOptions(MaxNewTokens: want.Length, Greedy: true);
            SameTokens(label, "greedy tokens with the KV cache", want, gen.Generate(prompt, opts));
            SameTokens(label, "greedy tokens without the KV cache", want, gen.Generate(prompt, opts with { UseCache = false }));
        }
    }

    // Mixture-of-experts fixtures: the tokens per expert of each MoE layer (expected.json) and the load-balancing loss.
    private static void Routing(string label, string dir, IMixtureOfExpertsModel moe, SafeTensorsFile expected, FixtureTolerance tolerance, Action<string>? log)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "expected.json")));
        if (json.RootElement.TryGetProperty("router_expert_counts", out var counts))
        {
            var want = counts.EnumerateArray().Select(l => l.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToList();
            Assert.True(want.Count == moe.MoeLayers.Count, $"{label}: {moe.MoeLayers.Count} MoE layers, expected.json counts {want.Count}");
            for (int i = 0; i < want.Count; i++)
                Assert.True(want[i].SequenceEqual(moe.MoeLayers[i].LastRouting!.TokenCounts),
                    $"{label}: MoE layer {i} routes [{string.Join(", ", moe.MoeLayers[i].LastRouting!.TokenCounts)}] tokens per expert, PyTorch [{string.Join(", ", want[i])}]");
        }
        if (expected.Names.Contains("router_aux_loss"))
            Compare(label, "router_aux_loss", expected.ReadFloats("router_aux_loss"), [MoeLosses.LoadBalancing(moe.MoeLayers)!.Item()], [1], tolerance, log: log);
    }

    /// <summary>
    /// The binding whose gradient PyTorch stored as grad.<paramref name="name"/>: the binding of that name, or of that name behind
    /// an optional prefix (<c>transformer.</c>); an <c>lm_head.weight</c> that the model ties to its token embedding is the same
    /// tensor as the embedding in PyTorch, so its gradient is the embedding's whole gradient (embedding and head parts together).
    /// When the head is a tensor of its own (untied), it has a binding of its own and the embedding's gradient holds only the
    /// embedding part.
    /// </summary>
    private static string GradientSource(string label, string name, FixtureDecoder fm)
    {
        var match = fm.Bindings.Select(b => b.HfName)
            .Where(h => name == h || name.EndsWith("." + h, StringComparison.Ordinal))
            .OrderByDescending(h => h.Length).FirstOrDefault();
        if (match is not null) return match;
        if (name == "lm_head.weight" || name.EndsWith(".lm_head.weight", StringComparison.Ordinal))
        {
            Assert.True(fm.TiedHead, $"{label}: '{name}' is a head of its own in the checkpoint, but the model has no binding for it");
            return fm.Embedding;
        }
        Assert.Fail($"{label}: no parameter of the model is bound to '{name}'");
        return "";
    }

    // Encoder outputs: every float tensor of expected.safetensors that is not an input must be produced by the model's head.
    private static void Encoder(string label, string dir, FixtureTolerance tolerance, Action<string>? log)
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
            Assert.True(outputs.ContainsKey(name), $"{label}: the model ({model.GetType().Name}) does not produce '{name}'");
            var shape = expected.ShapeOf(name);
            Assert.True(outputs[name].Shape.SequenceEqual(shape), $"{label}: {name} is {outputs[name].ShapeString}, expected {Layout.Format(shape)}");
            // Per-token outputs (B, T, ...) are compared only where attention_mask is 1.
            bool perToken = mask is not null && shape.Length >= 2 && shape[0] == ids.Size(0) && shape[1] == ids.Size(1);
            Compare(label, name, expected.ReadFloats(name), outputs[name].ToArray(), shape, tolerance, perToken ? mask!.ToIntArray() : null, log);
            checkedNames.Add(name);
        }
        Assert.Contains("last_hidden_state", checkedNames);
    }

    /// <summary>Fails at the first position where |PyTorch - ours| exceeds the tolerance, naming the output, the index and both values.</summary>
    public static void Compare(string label, string what, float[] expected, float[] actual, int[] shape, FixtureTolerance tolerance, int[]? tokenMask = null,
        Action<string>? log = null)
    {
        Assert.True(expected.Length == actual.Length, $"{label}: {what} has {actual.Length} values, expected {expected.Length}");
        int perToken = tokenMask is null ? 1 : expected.Length / tokenMask.Length;
        bool Compared(int i) => tokenMask is null || tokenMask[i / perToken] != 0;
        double scale = 0, max = 0;
        for (int i = 0; i < expected.Length; i++) if (Compared(i)) scale = Math.Max(scale, Math.Abs((double)expected[i]));
        double bound = tolerance.Bound(scale);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!Compared(i)) continue;
            double diff = Math.Abs((double)expected[i] - actual[i]);
            if (!(diff <= bound))
                Assert.Fail($"{label}: {what} differs at [{string.Join(", ", Index(i, shape))}]: PyTorch {expected[i]:G9}, ours {actual[i]:G9} (|diff| {diff:G3} > {bound:G3})");
            max = Math.Max(max, diff);
        }
        log?.Invoke($"{label}: {what} max |diff| {max:G3} (bound {bound:G3}, largest |value| {scale:G3})");
    }

    /// <summary>Fails at the first token that differs, naming its position and both tokens.</summary>
    public static void SameTokens(string label, string what, int[] expected, int[] actual)
    {
        for (int i = 0; i < Math.Min(expected.Length, actual.Length); i++)
            if (expected[i] != actual[i])
                Assert.Fail($"{label}: {what} differ at new token {i}: PyTorch {expected[i]}, ours {actual[i]} (PyTorch [{string.Join(", ", expected)}], ours [{string.Join(", ", actual)}])");
        Assert.True(expected.Length == actual.Length, $"{label}: {what}: {actual.Length} new tokens, PyTorch {expected.Length}");
    }

    private static int[] Index(int flat, int[] shape)
    {
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--) { idx[d] = flat % shape[d]; flat /= shape[d]; }
        return idx;
    }
}
