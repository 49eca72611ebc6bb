using SharpTransformer.Data;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Models;

public class TrainingPiecesTests
{
    [Fact]
    public void WarmupCosineScheduleMatchesNanoGptFormula()
    {
        var s = new WarmupDecaySchedule(1e-3f, 100, 2000, 1e-4f);
        Assert.Equal(1e-5f, s.At(0), 8);
        Assert.Equal(1e-3f, s.At(99), 8);
        for (int it = 100; it <= 2100; it += 137)
        {
            double r = Math.Min(1.0, (it - 100) / 1900.0);
            double want = 1e-4 + 0.5 * (1 + Math.Cos(Math.PI * r)) * (1e-3 - 1e-4);
            Assert.Equal(want, s.At(it), 6);
        }
        var lin = new WarmupDecaySchedule(1f, 0, 10, 0f, DecayKind.Linear);
        Assert.Equal(0.5f, lin.At(5), 6);
    }

    [Fact]
    public void GradientAccumulationEqualsOneBigBatch()
    {
        var data = new TokenWindowDataset(Enumerable.Range(0, 400).Select(i => (i * 11) % 64).ToArray(), 8);
        var big = new Gpt2(Gpt2Config.Tiny with { ContextLength = 8 }, seed: 3);
        var acc = new Gpt2(Gpt2Config.Tiny with { ContextLength = 8 }, seed: 3);
        int[] idx = [0, 5, 9, 13];
        var (x, y) = data.Batch(idx);
        Functional.CrossEntropy(big.Forward(x), y).Backward();
        for (int h = 0; h < 2; h++)
        {
            var (xh, yh) = data.Batch(idx.AsSpan(h * 2, 2));
            Functional.CrossEntropy(acc.Forward(xh), yh).Mul(0.5f).Backward();
        }
        foreach (var ((name, p), (_, q)) in big.NamedParameters().Zip(acc.NamedParameters()))
        {
            var a = p.Grad!.ToArray(); var b = q.Grad!.ToArray();
            for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5 + 1e-4 * Math.Abs(a[i]), $"{name}[{i}]: {a[i]} vs {b[i]}");
        }
    }

    [Fact]
    public void DatasetWindowsAndSeededShufflingAreDeterministic()
    {
        var d = new TokenWindowDataset(Enumerable.Range(0, 20).ToArray(), 4, stride: 3);
        Assert.Equal(6, d.Count);
        var x = new int[4]; var y = new int[4];
        d.Window(2, x, y);
        Assert.Equal([6, 7, 8, 9], x);
        Assert.Equal([7, 8, 9, 10], y);
        var a = new BatchSampler(10, 3, seed: 5).Epoch().SelectMany(b => b).ToArray();
        var b = new BatchSampler(10, 3, seed: 5).Epoch().SelectMany(b => b).ToArray();
        Assert.Equal(a, b);
        Assert.Equal(Enumerable.Range(0, 10), a.OrderBy(i => i));
        Assert.NotEqual(Enumerable.Range(0, 10), a);
        Assert.Equal(3, new BatchSampler(10, 3, dropLast: true).Epoch().Count());
        Assert.Throws<ArgumentException>(() => new TokenWindowDataset([1, 2, 3], 4));
    }
}
