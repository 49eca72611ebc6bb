using System.Text.Json;
using SharpTransformer.Autograd;
using SharpTransformer.IO;
using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Nn;
using SharpTransformer.Peft;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Peft;

/// <summary>Bottleneck (Houlsby) adapters: placement, identity at start, gradients, freezing, switching, saving and loading.</summary>
public sealed class BottleneckAdapterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpt-bn-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static Gpt2 Gpt(ulong seed = 5, int dim = 16, int layers = 2) =>
        new(new Gpt2Config(VocabSize: 64, ContextLength: 32, Layers: layers, Heads: 2, Embedding: dim), seed);

    private static readonly Tensor Ids = Tensor.FromArray(new[] { 1, 5, 9, 2, 7, 3, 11, 4, 8, 6 }, 2, 5);

    private static float[] Logits(Module m)
    {
        using var _ = GradMode.NoGrad();
        m.Eval();
        return m switch
        {
            Gpt2 g => g.Forward(Ids).ToArray(),
            Llama l => l.Forward(Ids).ToArray(),
            Bert b => b.Encode(Ids).LastHiddenState.ToArray(),
            _ => throw new ArgumentException(m.GetType().Name),
        };
    }

    // The up-projection starts at zero; give every adapter weight random values so that it changes the outputs.
    private static void Randomize(Module m, string adapter, ulong seed)
    {
        var g = new Generator(seed);
        foreach (var (_, l) in BottleneckAdapters.Layers(m))
            if (l.Adapters.Contains(adapter))
                foreach (var p in l[adapter].Parameters()) p.CopyFrom(Tensor.Rand(p.Shape.ToArray(), g, -0.5f, 0.5f));
    }

    private static void Near(float[] want, float[] got, double tol, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= tol, $"{what}: [{i}] expected {want[i]:G9}, got {got[i]:G9}");
    }

    public static TheoryData<string> Families => new() { "gpt2", "llama", "bert" };

    private static Module Make(string family) => family switch
    {
        "gpt2" => Gpt(),
        "llama" => new Llama(new LlamaConfig(VocabSize: 64, Hidden: 16, Intermediate: 24, Layers: 2, Heads: 2, KvHeads: 1, ContextLength: 32), 3),
        _ => new Bert(new BertConfig(VocabSize: 64, HiddenSize: 16, Layers: 2, Heads: 2, IntermediateSize: 32, MaxPositions: 32), 4),
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void HoulsbyAdaptersFollowAttentionAndFeedForwardAndStartAsTheBase(string family)
    {
        var m = Make(family);
        var before = Logits(m);
        var paths = BottleneckAdapters.Apply(m, new BottleneckConfig(ReductionFactor: 4));
        string[] want = family switch
        {
            "gpt2" => ["h.0.attn.c_proj", "h.0.mlp.c_proj", "h.1.attn.c_proj", "h.1.mlp.c_proj"],
            "llama" => ["layers.0.self_attn.o_proj", "layers.0.mlp.down_proj", "layers.1.self_attn.o_proj", "layers.1.mlp.down_proj"],
            _ => paths.ToArray(),
        };
        Assert.Equal(want, paths);
        Assert.Equal(4, paths.Count);
        Assert.All(paths, p => Assert.IsType<BottleneckAdapterLinear>(m.GetSubmodule(p)));
        var layer = (BottleneckAdapterLinear)m.GetSubmodule(paths[0]);
        Assert.Equal([4, 16], layer["default"].Down.Weight!.Shape.ToArray());
        Assert.Equal([16, 4], layer["default"].Up.Weight!.Shape.ToArray());
        Assert.Contains(layer["default"].Down.Weight!.ToArray(), v => v != 0f);
        Assert.Equal(before, Logits(m));   // the up-projection is zero: exactly the base

        var trainable = m.NamedParameters().Where(p => p.Parameter.RequiresGrad).Select(p => p.Name).ToList();
        Assert.Equal(16, trainable.Count);
        Assert.All(trainable, n => Assert.Contains(".adapters.default.adapter_", n));
        Assert.Equal(paths[0] + ".adapters.default.adapter_down.weight", trainable[0]);

        Randomize(m, "default", 9);
        Assert.NotEqual(before, Logits(m));
    }

    [Fact]
    public void PfeifferPlacesAdaptersAfterTheFeedForwardOnly()
    {
        Assert.Equal(["h.0.mlp.c_proj", "h.1.mlp.c_proj"], BottleneckAdapters.Apply(Gpt(), BottleneckConfig.Pfeiffer));
        Assert.Equal(["h.0.attn.c_proj", "h.1.attn.c_proj"], BottleneckAdapters.Apply(Gpt(), new BottleneckConfig(MhAdapter: true, OutputAdapter: false)));
        Assert.Throws<ArgumentException>(() => BottleneckAdapters.Apply(Gpt(), new BottleneckConfig(MhAdapter: false, OutputAdapter: false)));
        Assert.Throws<ArgumentException>(() => BottleneckAdapters.Apply(Gpt(), new BottleneckConfig(ReductionFactor: 0)));
        var m = Gpt();
        BottleneckAdapters.Apply(m, BottleneckConfig.Houlsby);
        Assert.Equal(1, ((BottleneckAdapterLinear)m.GetSubmodule("h.0.attn.c_proj"))["default"].Down.OutFeatures);   // 16 / 16
        Assert.Contains("already has an adapter named 'default'", Assert.Throws<ArgumentException>(() => BottleneckAdapters.Apply(m, BottleneckConfig.Houlsby)).Message);
    }

    [Theory]
    [InlineData(AdapterNonLinearity.Swish)]
    [InlineData(AdapterNonLinearity.Gelu)]
    [InlineData(AdapterNonLinearity.Relu)]
    public void AdapterGradientsMatchFiniteDifferences(AdapterNonLinearity nonLinearity)
    {
        var g = new Generator(31);
        var layer = new BottleneckAdapterLinear(new Linear(3, 4, bias: true, g));
        var a = layer.AddAdapter("default", new BottleneckConfig(ReductionFactor: 2, NonLinearity: nonLinearity, Scaling: 0.75f), g);
        foreach (var p in a.Parameters()) p.CopyFrom(Tensor.Rand(p.Shape.ToArray(), g, -1f, 1f));
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
        Assert.Null(((Linear)layer.BaseLayer).Weight.Grad);
        Assert.Null(((Linear)layer.BaseLayer).Bias!.Grad);
        var checks = new[] { ("x", x), ("adapter_down.weight", a.Down.Weight!), ("adapter_down.bias", a.Down.Bias!),
            ("adapter_up.weight", a.Up.Weight!), ("adapter_up.bias", a.Up.Bias!) };
        foreach (var (name, t) in checks)
        {
            var analytic = t.Grad!.ToArray();
            var values = t.ToArray();
            const float h = 1f / 256;
            for (int i = 0; i < values.Length; i++)
            {
                var v = (float[])values.Clone();
                v[i] = values[i] + h; t.CopyFrom(v);
                double up = Loss();
                v[i] = values[i] - h; t.CopyFrom(v);
                double down = Loss();
                t.CopyFrom(values);
                double numeric = (up - down) / (2 * h);
                Assert.True(Math.Abs(analytic[i] - numeric) <= 3e-3 * (1 + Math.Abs(numeric)),
                    $"{nonLinearity}: d loss / d {name}[{i}]: analytic {analytic[i]:G6}, finite differences {numeric:G6}");
            }
        }
    }

    [Fact]
    public void FrozenBaseGetsNoGradientAndNoOptimizerState()
    {
        var m = Gpt();
        var before = m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        BottleneckAdapters.Apply(m, new BottleneckConfig(ReductionFactor: 4));
        var opt = new AdamW(m.Parameters(), new AdamWOptions(LearningRate: 1e-2f));
        m.Train();
        var labels = Tensor.FromArray(new[] { 5, 9, 2, 7, 3, 11, 4, 8, 6, 1 }, 2, 5);
        for (int step = 0; step < 2; step++)
        {
            m.ZeroGrad();
            Functional.CrossEntropy(m.Forward(Ids), labels).Backward();
            opt.Step();
        }
        var adapters = new HashSet<Tensor>(BottleneckAdapters.Parameters(m), ReferenceEqualityComparer.Instance);
        var withState = opt.Moments.Where(x => x.M is not null).ToList();
        Assert.Equal(16, withState.Count);
        Assert.All(withState, x => Assert.Contains(x.Parameter, adapters));
        foreach (var (name, p) in m.NamedParameters().Where(x => !adapters.Contains(x.Parameter)))
        {
            Assert.Null(p.Grad);
            Assert.Equal(before[name.Replace(".base_layer.", ".")], p.ToArray());
        }
        Assert.Contains(((BottleneckAdapterLinear)m.GetSubmodule("h.1.mlp.c_proj"))["default"].Up.Weight!.ToArray(), v => v != 0f);
    }

    [Fact]
    public void SaveThenLoadGivesIdenticalOutputs()
    {
        var m = Gpt();
        BottleneckAdapters.Apply(m, new BottleneckConfig(ReductionFactor: 4, NonLinearity: AdapterNonLinearity.Gelu, Scaling: 2f), "sst");
        Randomize(m, "sst", 3);
        var want = Logits(m);
        BottleneckAdapters.Save(m, _dir, "sst");
        using (var f = SafeTensorsFile.Open(Path.Combine(_dir, BottleneckAdapters.WeightsFileName)))
        {
            Assert.Equal(16, f.Names.Count);
            Assert.Equal([4, 16], f.ShapeOf("transformer.h.0.attn.c_proj.adapter_down.weight"));
            Assert.Equal([16], f.ShapeOf("transformer.h.1.mlp.c_proj.adapter_up.bias"));
        }
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, BottleneckAdapters.ConfigFileName))))
        {
            var c = doc.RootElement.GetProperty("config");
            Assert.Equal("bottleneck", doc.RootElement.GetProperty("adapter_type").GetString());
            Assert.Equal(4, c.GetProperty("reduction_factor").GetInt32());
            Assert.Equal("gelu", c.GetProperty("non_linearity").GetString());
            Assert.Equal(16, doc.RootElement.GetProperty("hidden_size").GetInt32());
        }
        var fresh = Gpt();
        Assert.Equal(4, BottleneckAdapters.Load(fresh, _dir, "other").Count);
        Assert.Equal(want, Logits(fresh));
        Assert.Equal(["other"], BottleneckAdapters.Adapters(fresh));
        Assert.All(fresh.NamedParameters().Where(p => p.Parameter.RequiresGrad), p => Assert.Contains(".adapters.other.", p.Name));
    }

    [Fact]
    public void TwoAdaptersAreSwitchedAtRunTime()
    {
        var m = Gpt();
        var plain = Logits(m);
        BottleneckAdapters.Apply(m, new BottleneckConfig(ReductionFactor: 4), "a");
        BottleneckAdapters.Apply(m, new BottleneckConfig(ReductionFactor: 8, MhAdapter: false), "b");
        Randomize(m, "a", 1);
        Randomize(m, "b", 2);
        var withA = Logits(m);   // "a" stays active after "b" is added
        Assert.NotEqual(plain, withA);
        Assert.All(m.NamedParameters().Where(p => p.Parameter.RequiresGrad), p => Assert.Contains(".adapters.a.", p.Name));

        BottleneckAdapters.SetAdapter(m, "b");
        var withB = Logits(m);
        Assert.NotEqual(withA, withB);
        var trainable = m.NamedParameters().Where(p => p.Parameter.RequiresGrad).Select(p => p.Name).ToList();
        Assert.Equal(8, trainable.Count);
        Assert.All(trainable, n => Assert.Contains(".mlp.c_proj.adapters.b.", n));

        BottleneckAdapters.SetAdapter(m, null);
        Assert.Equal(plain, Logits(m));
        Assert.DoesNotContain(m.Parameters(), p => p.RequiresGrad);
        BottleneckAdapters.SetAdapter(m, "a");
        Assert.Equal(withA, Logits(m));
        Assert.Contains("no adapter 'c'", Assert.Throws<ArgumentException>(() => BottleneckAdapters.SetAdapter(m, "c")).Message);
    }

    [Fact]
    public void AnAdapterForAnotherBaseListsEveryMismatch()
    {
        var m = Gpt();
        BottleneckAdapters.Apply(m, new BottleneckConfig(ReductionFactor: 4));
        BottleneckAdapters.Save(m, _dir);
        var wider = Gpt(dim: 32, layers: 3);
        int before = wider.NamedModules().Count();
        var e = Assert.Throws<InvalidDataException>(() => BottleneckAdapters.Load(wider, _dir));
        Assert.Contains("shape mismatch: transformer.h.0.attn.c_proj.adapter_down.weight is (4, 16), the model needs (8, 32)", e.Message);
        Assert.Contains("shape mismatch: transformer.h.1.mlp.c_proj.adapter_up.bias", e.Message);
        Assert.Contains("missing: transformer.h.2.attn.c_proj.adapter_up.weight", e.Message);
        Assert.Contains("24 problem(s)", e.Message);   // 16 misshapen + 8 missing
        Assert.Equal(before, wider.NamedModules().Count());
        Assert.Empty(BottleneckAdapters.Layers(wider));

        var llama = Make("llama");
        var u = Assert.Throws<InvalidDataException>(() => BottleneckAdapters.Load(llama, _dir));
        Assert.Contains("unexpected: transformer.h.0.attn.c_proj.adapter_down.weight", u.Message);
        Assert.Contains("missing: model.layers.0.self_attn.o_proj.adapter_down.weight", u.Message);
    }

    [Fact]
    public void ALoraFolderIsNotTakenForABottleneckAdapter()
    {
        var m = Gpt();
        Lora.Apply(m, LoraConfig.ForModules(2, 2f, "c_attn"));
        Lora.Save(m, _dir);
        var e = Assert.Throws<InvalidDataException>(() => BottleneckAdapters.Load(Gpt(), _dir));
        Assert.Contains("adapter_type", e.Message);
        Assert.Contains("Lora.Load", e.Message);
        Assert.Contains(_dir, e.Message);
    }
}
