using SharpTransformer.IO;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Training;

/// <summary><see cref="IOptimizer.StateDict"/> and <see cref="Checkpoint"/>: a saved and restored optimizer continues bit for bit.</summary>
public sealed class OptimizerStateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-optim-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    public static TheoryData<string> Kinds => new() { "adamw", "sgd" };

    private static IOptimizer Create(string kind, TinyNet net) => kind switch
    {
        "adamw" => new AdamW(net.Parameters(), new AdamWOptions(1e-2f)),
        _ => new Sgd(net.Parameters(), new SgdOptions(0.05f, Momentum: 0.9f, WeightDecay: 0.01f)),
    };

    private static void Steps(IOptimizer opt, TinyNet net, List<Example> data, int from, int count)
    {
        for (int s = from; s < from + count; s++)
        {
            using var scope = TensorScope.Begin();
            opt.ZeroGrad();
            TinyTask.Loss(net, data.Skip(8 * (s % 4)).Take(8).ToList()).Backward();
            opt.Step();
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void CheckpointRoundTripsTheOptimizerSoTrainingContinuesIdentically(string kind)
    {
        var data = TinyTask.Data(32);
        var net = new TinyNet();
        var opt = Create(kind, net);
        Steps(opt, net, data, 0, 3);
        var path = Path.Combine(_dir, kind + ".safetensors");
        Checkpoint.Save(path, net, "tiny", "{}", 3, opt);
        var saved = opt.StateDict();
        Steps(opt, net, data, 3, 3);

        var net2 = new TinyNet(seed: 5);
        var opt2 = Create(kind, net2);
        var ck = Checkpoint.Load(path);
        ck.RestoreModel(net2);
        ck.RestoreOptimizer(opt2, net2);
        var restored = opt2.StateDict();
        Assert.Equal(saved.Kind, restored.Kind);
        Assert.Equal(3, restored.StepCount);
        Assert.Equal(saved.Parameters.Count, restored.Parameters.Count);
        Assert.Equal(4, restored.Parameters.Count);
        for (int i = 0; i < saved.Parameters.Count; i++)
        {
            Assert.Equal(saved.Parameters[i].Buffers.Keys.Order(), restored.Parameters[i].Buffers.Keys.Order());
            foreach (var (name, values) in saved.Parameters[i].Buffers) Assert.Equal(values, restored.Parameters[i].Buffers[name]);
        }
        Steps(opt2, net2, data, 3, 3);
        var a = TinyTask.Snapshot(net);
        var b = TinyTask.Snapshot(net2);
        foreach (var (name, w) in a) Assert.True(w.SequenceEqual(b[name]), $"{kind}: {name} differs after resuming");
        Assert.Equal(6, opt2.StepCount);
    }

    [Fact]
    public void RestoringIntoAnotherKindOfOptimizerFailsNamingBoth()
    {
        var data = TinyTask.Data(32);
        var net = new TinyNet();
        var opt = Create("adamw", net);
        Steps(opt, net, data, 0, 1);
        var path = Path.Combine(_dir, "adamw.safetensors");
        Checkpoint.Save(path, net, "tiny", "{}", 1, opt);
        var e = Assert.Throws<ArgumentException>(() => Checkpoint.Load(path).RestoreOptimizer(Create("sgd", net), net));
        Assert.Contains("adamw", e.Message, StringComparison.Ordinal);
        Assert.Contains("sgd", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OptimizersSkipFrozenParametersAndAllocateNoStateForThem()
    {
        var data = TinyTask.Data(32);
        foreach (var kind in new[] { "adamw", "sgd" })
        {
            var net = new TinyNet();
            net.Body.Weight.RequiresGrad = false;
            var opt = Create(kind, net);
            Assert.Equal(3, opt.Parameters.Count);
            Assert.DoesNotContain(net.Body.Weight, opt.Parameters);
            Steps(opt, net, data, 0, 2);
            var state = opt.StateDict();
            Assert.Equal(3, state.Parameters.Count);
            Assert.DoesNotContain(state.Parameters, p => ReferenceEquals(p.Parameter, net.Body.Weight));
        }
    }

    [Fact]
    public void LoadingStateOfAParameterTheOptimizerDoesNotTrainFails()
    {
        var net = new TinyNet();
        var opt = Create("adamw", net);
        var stranger = new TinyNet().Head.Weight;
        var bad = new OptimizerState("adamw", 1, [new ParameterState(stranger, new Dictionary<string, float[]> { ["m"] = new float[16], ["v"] = new float[16] })]);
        var e = Assert.Throws<ArgumentException>(() => opt.LoadStateDict(bad));
        Assert.Contains("not optimised", e.Message, StringComparison.Ordinal);
        var shortM = new OptimizerState("adamw", 1, [new ParameterState(net.Head.Weight, new Dictionary<string, float[]> { ["m"] = new float[3], ["v"] = new float[16] })]);
        Assert.Throws<ArgumentException>(() => opt.LoadStateDict(shortM));
    }
}
