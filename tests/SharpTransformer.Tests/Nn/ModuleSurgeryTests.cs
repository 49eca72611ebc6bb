using System.Text.RegularExpressions;
using SharpTransformer.Autograd;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Nn;

/// <summary>Named walks, replacement by path and pattern, freezing, and the optimizers' treatment of frozen parameters.</summary>
public sealed class ModuleSurgeryTests
{
    private static Tensor Ids() => Tensor.FromArray([1, 5, 9, 2, 7, 3, 4, 8], 2, 4);

    [Fact]
    public void Gpt2ModulePathsAreHuggingFacesWithoutThePrefix()
    {
        var m = new Gpt2(Gpt2Config.Tiny);
        var names = m.NamedModules().Select(x => x.Name).ToList();
        Assert.Equal("", names[0]);
        Assert.Same(m, m.NamedModules().First().Module);
        string[] expected = ["wte", "wpe", "h", .. Enumerable.Range(0, 2).SelectMany(i => new[] { $"h.{i}", $"h.{i}.ln_1", $"h.{i}.attn",
            $"h.{i}.attn.c_attn", $"h.{i}.attn.c_proj", $"h.{i}.ln_2", $"h.{i}.mlp", $"h.{i}.mlp.c_fc", $"h.{i}.mlp.c_proj" }), "ln_f"];
        Assert.Equal(expected, names.Skip(1));
        // Every parameter binds to the Hugging Face tensor of the same name.
        Assert.Equal(m.HfBindings().Select(b => b.HfName).Order(), m.NamedParameters().Select(p => p.Name).Order());
    }

    [Fact]
    public void LlamaModulePathsAreHuggingFacesWithoutThePrefix()
    {
        var m = new Llama(LlamaConfig.Tiny);
        var names = m.NamedModules().Select(x => x.Name).ToHashSet();
        foreach (var n in new[] { "input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                     "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj" })
            Assert.Contains("layers.1." + n, names);
        Assert.Equal(m.HfBindings().Select(b => b.HfName).Order(),
            m.NamedParameters().Select(p => p.Name == "lm_head.weight" ? p.Name : "model." + p.Name).Order());
    }

    [Fact]
    public void GetSubmoduleReturnsTheModuleThePropertiesUse()
    {
        var m = new Gpt2(Gpt2Config.Tiny);
        Assert.Same(m.Blocks[1].Attention.Qkv, m.GetSubmodule("h.1.attn.c_attn"));
        Assert.Same(m.Blocks[0].Mlp, m.GetSubmodule("h.0.mlp"));
        Assert.Same(m, m.GetSubmodule(""));
        var e = Assert.Throws<ArgumentException>(() => m.GetSubmodule("h.0.attn.q_proj"));
        Assert.Contains("'h.0.attn.q_proj'", e.Message);
        Assert.Contains("'h.0.attn'", e.Message);
        Assert.Contains("c_attn, c_proj", e.Message);
    }

    [Fact]
    public void AReplacedLinearIsWhatTheForwardPassRuns()
    {
        using var _ = GradMode.NoGrad();
        var m = new Gpt2(Gpt2Config.Tiny, seed: 3);
        var reference = new Gpt2(Gpt2Config.Tiny, seed: 3);
        var g = new Generator(11);
        var replaced = m.ReplaceModules(new Regex("c_attn$"), (_, old) => new LowRankTestLinear((ILinear)old, 2, g));
        Assert.Equal(["h.0.attn.c_attn", "h.1.attn.c_attn"], replaced);
        // The wrapper adds B·A to the weight: the reference model gets that added to its own c_attn weights.
        for (int i = 0; i < 2; i++)
        {
            var w = (LowRankTestLinear)m.Blocks[i].Attention.Qkv!;
            var target = reference.Blocks[i].Attention.Qkv!.Weight!;
            target.Detach().CopyFrom(target.Detach().Add(w.B.MatMul(w.A)));
        }
        var got = m.Forward(Ids()).ToArray();
        var want = reference.Forward(Ids()).ToArray();
        var plain = new Gpt2(Gpt2Config.Tiny, seed: 3).Forward(Ids()).ToArray();
        for (int i = 0; i < got.Length; i++) Assert.Equal(want[i], got[i], 3e-4f);
        Assert.True(got.Zip(plain).Max(p => Math.Abs(p.First - p.Second)) > 1e-2, "the wrapper did not change the logits");
        Assert.Contains("h.0.attn.c_attn.base_layer.weight", m.NamedParameters().Select(p => p.Name));
        Assert.Contains("h.1.attn.c_attn.lora_B", m.NamedParameters().Select(p => p.Name));
    }

    [Fact]
    public void PredicateReplacementTargetsLlamaQueryAndValueProjections()
    {
        var m = new Llama(LlamaConfig.Tiny);
        var g = new Generator(2);
        var replaced = m.ReplaceModules((path, mod) => mod is ILinear && (path.EndsWith("q_proj") || path.EndsWith("v_proj")),
            (_, old) => new LowRankTestLinear((ILinear)old, 2, g));
        Assert.Equal(["layers.0.self_attn.q_proj", "layers.0.self_attn.v_proj", "layers.1.self_attn.q_proj", "layers.1.self_attn.v_proj"], replaced);
        Assert.IsType<LowRankTestLinear>(m.Layers[1].Attention.Value);
        Assert.IsType<Linear>(m.Layers[1].Attention.Key);
        // A block replaced whole: the list index reads the registry too.
        var block = m.Layers[0];
        m.ReplaceModule("layers.1", block);
        Assert.Same(block, m.Layers[1]);
    }

    [Fact]
    public void ReplacingWithAModuleOfAnotherShapeOrTypeNamesThePathAndBothShapes()
    {
        var m = new Gpt2(Gpt2Config.Tiny);
        var e = Assert.Throws<ArgumentException>(() => m.ReplaceModule("h.0.attn.c_attn", new Linear(16, 10)));
        Assert.Contains("'h.0.attn.c_attn'", e.Message);
        Assert.Contains("16 → 48", e.Message);
        Assert.Contains("16 → 10", e.Message);
        e = Assert.Throws<ArgumentException>(() => m.ReplaceModule("h.0.attn.c_attn", new LayerNorm(16)));
        Assert.Contains("ILinear", e.Message);
        Assert.Contains("LayerNorm", e.Message);
        e = Assert.Throws<ArgumentException>(() => m.ReplaceModule("ln_f", new LayerNorm(8)));
        Assert.Contains("'ln_f'", e.Message);
        Assert.Contains("weight (16,)", e.Message);
        Assert.Contains("weight (8,)", e.Message);
        m.ReplaceModule("ln_f", new LayerNorm(16));
        e = Assert.Throws<ArgumentException>(() => m.ReplaceModule("h.7.attn", new LayerNorm(16)));
        Assert.Contains("'h.7.attn'", e.Message);
        Assert.Contains("'h'", e.Message);
        Assert.Contains("0, 1", e.Message);
        Assert.Throws<ArgumentException>(() => m.ReplaceModule("", new LayerNorm(16)));
    }

    [Fact]
    public void FrozenParametersGetNoGradientAndFreezingAMissingPathNamesIt()
    {
        var m = new Gpt2(Gpt2Config.Tiny);
        m.Freeze("h.0").Freeze("wpe.weight");
        foreach (var (name, p) in m.NamedParameters())
            Assert.Equal(!(name.StartsWith("h.0.") || name == "wpe.weight"), p.RequiresGrad);
        var ids = Ids();
        Functional.CrossEntropy(m.Forward(ids), ids).Backward();
        foreach (var (name, p) in m.NamedParameters())
            Assert.Equal(p.RequiresGrad, p.Grad is not null);
        var e = Assert.Throws<ArgumentException>(() => m.Freeze("h.0.attn.qkv"));
        Assert.Contains("'h.0.attn.qkv'", e.Message);
        Assert.Contains("c_attn", e.Message);
        m.Unfreeze();
        Assert.All(m.Parameters(), p => Assert.True(p.RequiresGrad));
        m.Wte.Weight.Freeze();
        Assert.False(m.Wte.Weight.RequiresGrad);
        m.Wte.Weight.Unfreeze();
        Assert.True(m.Wte.Weight.RequiresGrad);
        m.GetSubmodule("h.1").Freeze();
        Assert.False(m.Blocks[1].Mlp.Up.Weight!.RequiresGrad);
        Assert.True(m.Blocks[0].Mlp.Up.Weight!.RequiresGrad);
    }

    [Fact]
    public void OptimizersSkipFrozenParametersAndAllocateNoStateForThem()
    {
        var m = new Gpt2(Gpt2Config.Tiny);
        m.Freeze().Unfreeze("ln_f").Unfreeze("h.1.attn.c_attn");
        long trainable = m.Parameters().Where(p => p.RequiresGrad).Sum(p => (long)p.Count);
        var adam = new AdamW(m.Parameters());
        var frozenBefore = m.Wte.Weight.ToArray();
        var ids = Ids();
        Functional.CrossEntropy(m.Forward(ids), ids).Backward();
        adam.Step();
        long state = adam.Moments.Sum(s => (long)(s.M?.Count ?? 0) + (s.V?.Count ?? 0));
        Assert.Equal(2 * trainable, state);
        Assert.Equal(frozenBefore, m.Wte.Weight.ToArray());

        // Frozen after the optimizer was made: no further update and no new state.
        var sgd = new Sgd(m.Parameters(), new SgdOptions(LearningRate: 0.1f, Momentum: 0.9f));
        adam = new AdamW(m.Parameters());
        m.Freeze("h.1.attn.c_attn");
        var qkvBefore = m.Blocks[1].Attention.Qkv!.Weight!.ToArray();
        m.ZeroGrad();
        Functional.CrossEntropy(m.Forward(ids), ids).Backward();
        adam.Step();
        sgd.Step();
        Assert.Equal(qkvBefore, m.Blocks[1].Attention.Qkv!.Weight!.ToArray());
        long lnF = m.LnF.Weight.Count + m.LnF.Bias!.Count;
        Assert.Equal(2 * lnF, adam.Moments.Sum(s => (long)(s.M?.Count ?? 0) + (s.V?.Count ?? 0)));
        Assert.Equal(lnF, sgd.Moments.Sum(s => (long)(s.Momentum?.Count ?? 0)));
    }

    [Fact]
    public void ModuleBuiltInsideATensorScopeKeepsItsWeightsAfterTheScopeEnds()
    {
        Gpt2 m;
        float[][] before;
        using (TensorScope.Begin())
        {
            m = new Gpt2(Gpt2Config.Tiny, seed: 4);
            before = m.Parameters().Select(p => p.ToArray()).ToArray();
        }
        // Buffers returned to the pool would be handed out here again, and overwritten.
        using (TensorScope.Begin())
        {
            foreach (var p in m.Parameters()) Tensor.Full(p.Shape, 7f);
            m.Forward(Ids());
        }
        var after = m.Parameters().Select(p => p.ToArray()).ToArray();
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i], after[i]);
    }
}
