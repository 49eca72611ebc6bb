using System.Text.Json;
using SharpTransformer.Autograd;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Nn;
using SharpTransformer.Peft;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Peft;

/// <summary>LoRA on small random models: targets, freezing, switching, merging, saving and loading, optimizer state, bad input.</summary>
public sealed class LoraTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpt-lora-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static Gpt2 Gpt(ulong seed = 5) => new(new Gpt2Config(VocabSize: 64, ContextLength: 32, Layers: 2, Heads: 2, Embedding: 16), seed);

    private static readonly Tensor Ids = Tensor.FromArray(new[] { 1, 5, 9, 2, 7, 3, 11, 4, 8, 6 }, 2, 5);

    private static float[] Logits(Gpt2 m)
    {
        using var _ = GradMode.NoGrad();
        m.Eval();
        return m.Forward(Ids).ToArray();
    }

    // B starts at zero (the adapter is the identity); give every factor random values so that it changes the outputs.
    private static void Randomize(Gpt2 m, string adapter, ulong seed)
    {
        var g = new Generator(seed);
        foreach (var (_, l) in Lora.Layers(m))
        {
            if (!l.Adapters.Contains(adapter)) continue;
            var b = l.LoraB[adapter];
            b.CopyFrom(Tensor.Rand(b.Shape.ToArray(), g, -0.5f, 0.5f));
        }
    }

    private static void Near(float[] want, float[] got, double tol, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= tol, $"{what}: [{i}] expected {want[i]:G9}, got {got[i]:G9}");
    }

    [Fact]
    public void ApplyWrapsTheTargetsFreezesTheBaseAndStartsAsTheIdentity()
    {
        var m = Gpt();
        var before = Logits(m);
        int baseCount = m.Parameters().Count();
        var paths = Lora.Apply(m, LoraConfig.ForModules(4, 8f, "c_attn"));
        Assert.Equal(["h.0.attn.c_attn", "h.1.attn.c_attn"], paths);
        var layer = Assert.IsType<LoraLinear>(m.GetSubmodule("h.0.attn.c_attn"));
        Assert.Equal([4, 16], layer.LoraA["default"].Shape.ToArray());
        Assert.Equal([48, 4], layer.LoraB["default"].Shape.ToArray());
        Assert.Equal(2f, layer.Scaling("default"));
        // Kaiming-uniform A within ±1/√in, B zeros.
        Assert.All(layer.LoraA["default"].ToArray(), v => Assert.InRange(v, -0.25f, 0.25f));
        Assert.Contains(layer.LoraA["default"].ToArray(), v => v != 0f);
        Assert.All(layer.LoraB["default"].ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(before, Logits(m));

        var trainable = m.NamedParameters().Where(p => p.Parameter.RequiresGrad).Select(p => p.Name).ToList();
        Assert.Equal(["h.0.attn.c_attn.lora_A.default.weight", "h.0.attn.c_attn.lora_B.default.weight",
            "h.1.attn.c_attn.lora_A.default.weight", "h.1.attn.c_attn.lora_B.default.weight"], trainable);
        Assert.Equal(baseCount + 4, m.Parameters().Count());
    }

    [Fact]
    public void SuffixRegexAndAllLinearChooseAsPeft()
    {
        Assert.Equal(["h.0.attn.c_proj", "h.0.mlp.c_proj", "h.1.attn.c_proj", "h.1.mlp.c_proj"], Lora.Apply(Gpt(), LoraConfig.ForModules(2, 2f, "c_proj")));
        Assert.Equal(["h.1.mlp.c_fc"], Lora.Apply(Gpt(), new LoraConfig(2, 2f, TargetRegex: @"transformer\.h\.1\.mlp\.c_fc")));
        Assert.Equal(8, Lora.Apply(Gpt(), new LoraConfig(2, 2f, TargetRegex: LoraConfig.AllLinear)).Count);
        // all-linear leaves out Llama's untied output head.
        var llama = new Llama(new LlamaConfig(VocabSize: 40, Hidden: 16, Intermediate: 32, Layers: 1, Heads: 2, KvHeads: 1, ContextLength: 16));
        var all = Lora.Apply(llama, new LoraConfig(2, 2f, TargetRegex: LoraConfig.AllLinear));
        Assert.Equal(7, all.Count);
        Assert.DoesNotContain("lm_head", all);
        Assert.Equal("model.layers.0.self_attn.q_proj", Lora.HuggingFacePath(llama, "layers.0.self_attn.q_proj"));
        Assert.Equal("lm_head", Lora.HuggingFacePath(llama, "lm_head"));
    }

    [Fact]
    public void RsLoraScalesByAlphaOverRootR()
    {
        Assert.Equal(8f / 2f, new LoraConfig(R: 4, Alpha: 8f, UseRsLora: true, TargetModules: ["c_attn"]).Scaling);
        Assert.Equal(8f / 4f, new LoraConfig(R: 4, Alpha: 8f, TargetModules: ["c_attn"]).Scaling);
    }

    [Fact]
    public void SaveThenLoadGivesIdenticalOutputs()
    {
        var m = Gpt();
        Lora.Apply(m, new LoraConfig(4, 16f, UseRsLora: true, TargetModules: ["c_attn", "c_fc"], FanInFanOut: true));
        Randomize(m, "default", 3);
        var want = Logits(m);
        Lora.Save(m, _dir);

        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, Lora.ConfigFileName))))
        {
            var r = json.RootElement;
            Assert.Equal("LORA", r.GetProperty("peft_type").GetString());
            Assert.Equal(4, r.GetProperty("r").GetInt32());
            Assert.Equal(16, r.GetProperty("lora_alpha").GetInt32());
            Assert.True(r.GetProperty("use_rslora").GetBoolean());
            Assert.True(r.GetProperty("fan_in_fan_out").GetBoolean());
            Assert.False(r.GetProperty("use_dora").GetBoolean());
            Assert.Equal("none", r.GetProperty("bias").GetString());
            Assert.Equal(JsonValueKind.Null, r.GetProperty("modules_to_save").ValueKind);
            Assert.Equal(["c_attn", "c_fc"], r.GetProperty("target_modules").EnumerateArray().Select(e => e.GetString()));
        }
        using (var st = SharpTransformer.IO.SafeTensorsFile.Open(Path.Combine(_dir, Lora.WeightsFileName)))
        {
            Assert.Equal(8, st.Names.Count);
            Assert.Equal([48, 4], st.ShapeOf("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight"));
            Assert.Equal([4, 16], st.ShapeOf("base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight"));
        }

        var fresh = Gpt();
        Assert.NotEqual(want, Logits(fresh));
        Lora.Load(fresh, _dir);
        Assert.Equal(want, Logits(fresh));
        var layer = (LoraLinear)fresh.GetSubmodule("h.0.mlp.c_fc");
        Assert.True(layer.ConfigOf("default").UseRsLora);
        Assert.True(layer.ConfigOf("default").FanInFanOut);
        Assert.Equal(16f / 2f, layer.Scaling("default"));
    }

    [Theory]
    [InlineData(SharpTransformer.IO.SafeTensorsDType.F16)]
    [InlineData(SharpTransformer.IO.SafeTensorsDType.BF16)]
    public void HalfPrecisionFactorsAreLoaded(SharpTransformer.IO.SafeTensorsDType dtype)
    {
        var m = Gpt();
        Lora.Apply(m, LoraConfig.ForModules(4, 8f, "c_attn"));
        Randomize(m, "default", 7);
        var want = Logits(m);
        Lora.Save(m, _dir);
        string file = Path.Combine(_dir, Lora.WeightsFileName);
        var writer = new SharpTransformer.IO.SafeTensorsWriter().Metadata("format", "pt");
        using (var st = SharpTransformer.IO.SafeTensorsFile.Open(file))
            foreach (var name in st.Names.Order(StringComparer.Ordinal)) writer.Add(name, st.ShapeOf(name), st.ReadFloats(name), dtype);
        writer.Save(file);
        using (var st = SharpTransformer.IO.SafeTensorsFile.Open(file)) Assert.All(st.Entries.Values, e => Assert.Equal(dtype, e.DType));

        var fresh = Gpt();
        Lora.Load(fresh, _dir);
        // The factors are the saved ones rounded to 16 bits.
        var a = ((LoraLinear)fresh.GetSubmodule("h.0.attn.c_attn")).LoraA["default"].ToArray();
        var a0 = ((LoraLinear)m.GetSubmodule("h.0.attn.c_attn")).LoraA["default"].ToArray();
        Near(a0, a, dtype == SharpTransformer.IO.SafeTensorsDType.F16 ? 3e-4 : 2e-3, "lora_A after the round trip");
        Assert.NotEqual(a0, a);
        Near(want, Logits(fresh), 5e-2, "logits with 16-bit factors");
    }

    [Fact]
    public void TwoAdaptersAreSwitchedAtRunTime()
    {
        var m = Gpt();
        var baseLogits = Logits(m);
        Lora.Apply(m, LoraConfig.ForModules(4, 8f, "c_attn"));
        Lora.Apply(m, LoraConfig.ForModules(2, 4f, "c_attn", "c_fc"), "second", new Generator(9));
        Assert.Equal(["default", "second"], Lora.Adapters(m));
        Randomize(m, "default", 1);
        Randomize(m, "second", 2);

        // "default" stays active (on c_fc, which only "second" adapts, no adapter applies) and is the only trainable one.
        var first = Logits(m);
        var c_fc = (LoraLinear)m.GetSubmodule("h.0.mlp.c_fc");
        Assert.Equal("default", c_fc.ActiveAdapter);
        Assert.All(m.NamedParameters().Where(p => p.Parameter.RequiresGrad), p => Assert.Contains(".default.", p.Name));

        Lora.SetAdapter(m, "second");
        var second = Logits(m);
        Assert.NotEqual(first, second);
        Assert.NotEqual(baseLogits, second);
        var trainable = m.NamedParameters().Where(p => p.Parameter.RequiresGrad).Select(p => p.Name).ToList();
        Assert.Equal(8, trainable.Count);
        Assert.All(trainable, n => Assert.Contains(".second.", n));

        Lora.SetAdapter(m, "default");
        Assert.Equal(first, Logits(m));

        // A merged adapter must be unmerged before switching.
        Lora.Merge(m);
        Assert.Contains("Unmerge", Assert.Throws<InvalidOperationException>(() => Lora.SetAdapter(m, "second")).Message);
        Lora.Unmerge(m);

        // The second adapter alone on a fresh model gives the same outputs as switching to it.
        Lora.Save(m, _dir, "second");
        var fresh = Gpt();
        Lora.Load(fresh, _dir, "second");
        Assert.Equal(second, Logits(fresh));
        Assert.Throws<ArgumentException>(() => Lora.SetAdapter(m, "third"));
    }

    [Fact]
    public void MergeGivesTheSameOutputsAndUnmergeRestoresTheBaseWeights()
    {
        var m = Gpt();
        var original = m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        Lora.Apply(m, LoraConfig.ForModules(4, 8f, "c_attn", "c_proj"));
        Randomize(m, "default", 4);
        var applied = Logits(m);

        Lora.Merge(m);
        var layer = (LoraLinear)m.GetSubmodule("h.1.attn.c_attn");
        Assert.True(layer.IsMerged);
        var w = layer.Weight!.ToArray();
        var delta = layer.Delta("default").ToArray();
        var w0 = original["h.1.attn.c_attn.weight"];
        Near(w0.Select((v, i) => v + delta[i]).ToArray(), w, 1e-6, "merged weight = W + scaling·B·A");
        Assert.Contains(delta, v => Math.Abs(v) > 1e-3f);
        Near(applied, Logits(m), 1e-4, "merged logits");

        Lora.Unmerge(m);
        Assert.False(layer.IsMerged);
        foreach (var (name, p) in m.NamedParameters().Where(x => !x.Parameter.RequiresGrad))
        {
            string key = name.Replace(".base_layer.", ".");
            Near(original[key], p.ToArray(), 1e-6, $"unmerged {key}");
        }
        Near(applied, Logits(m), 1e-5, "unmerged logits");
    }

    [Fact]
    public void OptimizerHoldsStateOnlyForTheLoraFactors()
    {
        var m = Gpt();
        var frozenBefore = m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        Lora.Apply(m, LoraConfig.ForModules(4, 8f, "c_attn"));
        var opt = new AdamW(m.Parameters(), new AdamWOptions(LearningRate: 1e-2f));
        m.Train();
        var labels = Tensor.FromArray(new[] { 5, 9, 2, 7, 3, 11, 4, 8, 6, 1 }, 2, 5);
        for (int step = 0; step < 2; step++)
        {
            m.ZeroGrad();
            Functional.CrossEntropy(m.Forward(Ids), labels).Backward();
            opt.Step();
        }
        var withState = opt.Moments.Where(x => x.M is not null).ToList();
        Assert.Equal(4, withState.Count);
        long stateElements = withState.Sum(x => (long)x.M!.Count + x.V!.Count);
        Assert.Equal(2L * 2 * (4 * 16 + 48 * 4), stateElements);
        var lora = new HashSet<Tensor>(Lora.Parameters(m), ReferenceEqualityComparer.Instance);
        Assert.All(withState, x => Assert.Contains(x.Parameter, lora));
        // The base did not move; B did.
        foreach (var (name, p) in m.NamedParameters().Where(x => !lora.Contains(x.Parameter)))
            Assert.Equal(frozenBefore[name.Replace(".base_layer.", ".")], p.ToArray());
        Assert.Contains(((LoraLinear)m.GetSubmodule("h.0.attn.c_attn")).LoraB["default"].ToArray(), v => v != 0f);
    }

    [Fact]
    public void LoraLinearGradientsMatchFiniteDifferences()
    {
        var g = new Generator(21);
        var layer = new LoraLinear(new Linear(3, 4, bias: true, g));
        layer.AddAdapter("default", new LoraConfig(R: 2, Alpha: 3f, TargetModules: ["x"]), g);
        layer.LoraB["default"].CopyFrom(Tensor.Rand([4, 2], g, -1f, 1f));
        layer.Eval();
        var x = Tensor.Rand([2, 3, 3], g, -1f, 1f);
        x.RequiresGrad = true;
        var w = Tensor.Rand([2, 3, 4], g, -1f, 1f);
        double Loss()
        {
            using var _ = GradMode.NoGrad();
            var y = layer.Forward(x).ToArray();
            var wa = w.ToArray();
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += (double)y[i] * wa[i];
            return s;
        }
        layer.Forward(x).Mul(w).Sum().Backward();
        var a = layer.LoraA["default"];
        var b = layer.LoraB["default"];
        Assert.Null(((Linear)layer.BaseLayer).Weight.Grad);
        foreach (var (name, t) in new[] { ("x", x), ("lora_A", a), ("lora_B", b) })
        {
            var analytic = t.Grad!.ToArray();
            var values = t.ToArray();
            const float h = 1f / 64;
            for (int i = 0; i < values.Length; i++)
            {
                var v = (float[])values.Clone();
                v[i] = values[i] + h; t.CopyFrom(v);
                double up = Loss();
                v[i] = values[i] - h; t.CopyFrom(v);
                double down = Loss();
                t.CopyFrom(values);
                double numeric = (up - down) / (2 * h);
                Assert.True(Math.Abs(analytic[i] - numeric) <= 2e-3 * (1 + Math.Abs(numeric)),
                    $"d loss / d {name}[{i}]: analytic {analytic[i]:G6}, finite differences {numeric:G6}");
            }
        }
    }

    [Fact]
    public void DropoutActsOnTheAdapterInputInTrainingOnly()
    {
        var g = new Generator(8);
        var lin = new Linear(8, 6, bias: true, g);
        var layer = new LoraLinear(lin);
        layer.AddAdapter("default", new LoraConfig(R: 2, Alpha: 2f, Dropout: 0.5f, TargetModules: ["x"]), g);
        layer.LoraB["default"].CopyFrom(Tensor.Rand([6, 2], g, -1f, 1f));
        var x = Tensor.Rand([4, 8], g, -1f, 1f);
        using var _ = GradMode.NoGrad();
        var baseOut = lin.Forward(x).ToArray();
        var a = layer.LoraA["default"];
        var b = layer.LoraB["default"];
        var want = lin.Forward(x).Add(x.MatMul(a.T).MatMul(b.T).Mul(1f)).ToArray();
        layer.Eval();
        Near(want, layer.Forward(x).ToArray(), 1e-5, "eval: base + x Aᵀ Bᵀ · scaling");
        layer.Train();
        var trained = layer.Forward(x).ToArray();
        Assert.NotEqual(want, trained);
        Assert.NotEqual(baseOut, trained);
    }

    [Fact]
    public void ATargetMatchingNothingIsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => Lora.Apply(Gpt(), LoraConfig.ForModules(4, 8f, "c_attn", "q_proj")));
        Assert.Contains("'q_proj'", e.Message);
        Assert.Contains("c_attn", e.Message);   // the linear modules it could have named
        var r = Assert.Throws<ArgumentException>(() => Lora.Apply(Gpt(), new LoraConfig(4, 8f, TargetRegex: "h\\.9\\..*")));
        Assert.Contains("h\\.9\\..*", r.Message);
        var n = Assert.Throws<ArgumentException>(() => Lora.Apply(Gpt(), LoraConfig.ForModules(4, 8f, "ln_f")));
        Assert.Contains("LayerNorm", n.Message);
        Assert.Throws<ArgumentException>(() => Lora.Apply(Gpt(), LoraConfig.ForModules(0, 8f, "c_attn")));
        var m = Gpt();
        Lora.Apply(m, LoraConfig.ForModules(4, 8f, "c_attn"));
        Assert.Contains("already has an adapter named 'default'", Assert.Throws<ArgumentException>(() => Lora.Apply(m, LoraConfig.ForModules(4, 8f, "c_attn"))).Message);
    }

    [Fact]
    public void ADoraAdapterIsRefusedAndUnknownFieldsAreSkipped()
    {
        var m = Gpt();
        Lora.Apply(m, LoraConfig.ForModules(4, 8f, "c_attn"));
        Lora.Save(m, _dir);
        string path = Path.Combine(_dir, Lora.ConfigFileName);
        string json = File.ReadAllText(path);

        File.WriteAllText(path, json.Replace("\"use_dora\": false", "\"use_dora\": true"));
        var e = Assert.Throws<InvalidDataException>(() => Lora.Load(Gpt(), _dir));
        Assert.Contains("use_dora", e.Message);
        Assert.Contains(path, e.Message);

        File.WriteAllText(path, json.Replace("\"modules_to_save\": null", "\"modules_to_save\": [\"score\"]"));
        Assert.Contains("modules_to_save", Assert.Throws<InvalidDataException>(() => Lora.Load(Gpt(), _dir)).Message);

        File.WriteAllText(path, json.Replace("\"peft_type\": \"LORA\"", "\"peft_type\": \"LORA\", \"some_future_field\": {\"x\": 1}"));
        var fresh = Gpt();
        Assert.Equal(2, Lora.Load(fresh, _dir).Count);
    }

    [Fact]
    public void AnAdapterForAnotherBaseListsEveryMismatch()
    {
        var m = Gpt();
        Lora.Apply(m, LoraConfig.ForModules(4, 8f, "c_attn"));
        Lora.Save(m, _dir);
        var wider = new Gpt2(new Gpt2Config(VocabSize: 64, ContextLength: 32, Layers: 3, Heads: 2, Embedding: 32));
        var before = wider.NamedModules().Count();
        var e = Assert.Throws<InvalidDataException>(() => Lora.Load(wider, _dir));
        Assert.Contains("shape mismatch: base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", e.Message);
        Assert.Contains("shape mismatch: base_model.model.transformer.h.1.attn.c_attn.lora_B.weight", e.Message);
        Assert.Contains("missing: base_model.model.transformer.h.2.attn.c_attn.lora_A.weight", e.Message);
        Assert.Equal(before, wider.NamedModules().Count());   // unchanged
        Assert.Empty(Lora.Layers(wider));
    }
}
