using System.Reflection;
using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using Module = SharpTransformer.Nn.Module;

namespace SharpTransformer.Tests.Backends;

/// <summary>
/// A backend with only primitives runs whole models: GPT-2 and Llama (grouped-query heads, rope, RMS norm) forward and backward on
/// <see cref="PrimitiveOnlyBackend"/> match the CPU backend's fused kernels in logits, loss and every parameter gradient.
/// Tolerance: 1e-4 absolute + 1e-3 relative (float sums in a different order).
/// </summary>
public class PrimitiveOnlyBackendTests
{
    private static readonly string[] Fused =
    [
        nameof(IBackend.UnaryBackward), nameof(IBackend.Softmax), nameof(IBackend.SoftmaxBackward), nameof(IBackend.LayerNorm), nameof(IBackend.LayerNormBackward),
        nameof(IBackend.RmsNorm), nameof(IBackend.RmsNormBackward), nameof(IBackend.Attention), nameof(IBackend.AttentionBackward),
        nameof(IBackend.CrossEntropy), nameof(IBackend.CrossEntropyBackward), nameof(IBackend.Rope), nameof(IBackend.AdamW),
        nameof(IBackend.SumSquares),
    ];

    [Fact]
    public void TheBackendImplementsNoFusedMember()
    {
        var declared = typeof(PrimitiveOnlyBackend).GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Select(m => m.Name).ToHashSet();
        foreach (var name in Fused) Assert.DoesNotContain(name, declared);
        // ... and the interface really has a default body for each of them.
        foreach (var m in typeof(IBackend).GetMethods().Where(m => Fused.Contains(m.Name)))
            Assert.False(m.IsAbstract, $"IBackend.{m.Name} has no default body");
    }

    [Fact]
    public void Gpt2ForwardAndBackwardMatchTheCpuBackend() =>
        MatchesCpu(() => new Gpt2(new Gpt2Config(VocabSize: 64, ContextLength: 32, Layers: 2, Heads: 2, Embedding: 32), seed: 11),
            (m, ids) => ((Gpt2)m).Forward(ids), vocab: 64);

    [Fact]
    public void LlamaForwardAndBackwardMatchTheCpuBackend() =>
        MatchesCpu(() => new Llama(new LlamaConfig(VocabSize: 64, Hidden: 32, Intermediate: 48, Layers: 2, Heads: 4, KvHeads: 2, ContextLength: 32), seed: 12),
            (m, ids) => ((Llama)m).Forward(ids), vocab: 64);

    private static void MatchesCpu(Func<Module> make, Func<Module, Tensor, Tensor> forward, int vocab)
    {
        var g = new Generator(5);
        int batch = 2, t = 12;
        var ids = Enumerable.Range(0, batch * t).Select(_ => g.NextInt(vocab)).ToArray();
        var next = Enumerable.Range(0, batch * t).Select(_ => g.NextInt(vocab)).ToArray();
        next[3] = -100;                                                      // an ignored target

        (float[] Logits, float Loss, List<float[]> Grads) Run(IBackend backend)
        {
            var model = make();
            model.To(backend);
            var logits = forward(model, Tensor.FromArray(ids, batch, t).To(backend));          // (B, T, V)
            Assert.Same(backend, logits.Backend);
            var loss = Functional.CrossEntropy(logits, Tensor.FromArray(next, batch, t).To(backend));
            loss.Backward();
            return (logits.ToArray(), loss.Item(), model.Parameters().Select(p => p.Grad!.ToArray()).ToList());
        }

        var cpu = Run(CpuBackend.Default);
        var prim = Run(PrimitiveOnlyBackend.Shared);
        Close(cpu.Logits, prim.Logits, "logits");
        Close([cpu.Loss], [prim.Loss], "loss");
        Assert.Equal(cpu.Grads.Count, prim.Grads.Count);
        for (int i = 0; i < cpu.Grads.Count; i++) Close(cpu.Grads[i], prim.Grads[i], $"gradient of parameter {i}");
    }

    private static void Close(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f + 1e-3f * Math.Abs(expected[i]),
                $"{what}[{i}]: cpu {expected[i]:R}, primitive-only {actual[i]:R}");
    }
}
