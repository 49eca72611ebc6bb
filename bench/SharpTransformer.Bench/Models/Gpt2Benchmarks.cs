using BenchmarkDotNet.Attributes;
using SharpTransformer.Autograd;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Bench.Models;

/// <summary>GPT-2 124M with random weights: one training step (B=4, T=64: forward, backward, AdamW) and one decoded token.</summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class Gpt2Benchmarks
{
    private Gpt2 _model = null!;
    private AdamW _opt = null!;
    private Tensor _ids = null!, _targets = null!;
    private IKvCache[] _caches = null!;

    [GlobalSetup]
    public void Setup()
    {
        _model = new Gpt2(Gpt2Config.Small);
        _opt = new AdamW(_model.Parameters());
        var g = new Generator(1);
        _ids = Tensor.FromArray(Enumerable.Range(0, 256).Select(_ => g.NextInt(50257)).ToArray(), 4, 64);
        _targets = Tensor.FromArray(Enumerable.Range(0, 256).Select(_ => g.NextInt(50257)).ToArray(), 4, 64);
        _caches = _model.CreateCaches();
    }

    [Benchmark]
    public float TrainStep()
    {
        using var scope = TensorScope.Begin();
        var loss = Functional.CrossEntropy(_model.Forward(_ids), _targets);
        _opt.ZeroGrad();
        loss.Backward();
        _opt.Step();
        return loss.Item();
    }

    [Benchmark]
    public int DecodeToken()
    {
        if (_caches[0].Length >= 1000) foreach (var c in _caches) c.Reset();
        using var scope = TensorScope.Begin();
        using var _ = GradMode.NoGrad();
        return _model.Forward(Tensor.FromArray([1], 1, 1), _caches).ArgMax(-1).ToIntArray()[0];
    }
}
