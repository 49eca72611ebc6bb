using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Training;

/// <summary>A body Linear(4→8) and a head Linear(8→2): the model of the trainer tests.</summary>
internal sealed class TinyNet : Module
{
    public TinyNet(ulong seed = 1)
    {
        var g = new Generator(seed);
        Body = RegisterModule("body", new Linear(4, 8, true, g));
        Head = RegisterModule("head", new Linear(8, 2, true, g));
    }

    public Linear Body { get; }
    public Linear Head { get; }
    public Tensor Forward(Tensor x) => Head.Forward(Body.Forward(x).Tanh());   // (B, 4) → (B, 2)
}

/// <summary>One example of the tiny task: the label is x0 + x1 &gt; 0.</summary>
internal sealed record Example(float[] X, int Y);

/// <summary>Data, loss and weight snapshots of the tiny task.</summary>
internal static class TinyTask
{
    public static List<Example> Data(int n, int seed = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            var x = Enumerable.Range(0, 4).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            return new Example(x, x[0] + x[1] > 0 ? 1 : 0);
        }).ToList();
    }

    public static Tensor Loss(TinyNet net, IReadOnlyList<Example> batch) =>
        Functional.CrossEntropy(net.Forward(Tensor.FromArray(batch.SelectMany(e => e.X).ToArray(), batch.Count, 4)),   // (B, 2)
            Tensor.FromArray(batch.Select(e => e.Y).ToArray()));

    public static Dictionary<string, float[]> Snapshot(Module m) => m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
}
