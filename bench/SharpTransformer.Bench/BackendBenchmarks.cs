using BenchmarkDotNet.Attributes;
using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Ilgpu;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Bench;

/// <summary>
/// The backends side by side: "cpu" is <see cref="CpuBackend"/>, "ilgpu" is <see cref="IlgpuBackend.Create(IlgpuDeviceKind, IlgpuBackendOptions?)"/>
/// with automatic device selection (CUDA, else OpenCL, else ILGPU's CPU accelerator, which is slow and only checks that
/// the path works: there every size is capped, see <see cref="Cap"/>). Every measured call ends with a device
/// synchronisation, so GPU timings include the kernels.
/// <c>dotnet run -c Release --project bench/SharpTransformer.Bench -- --filter '*BackendBenchmarks*'</c>
/// </summary>
public abstract class BackendBenchmarkBase
{
    /// <summary>"cpu" or "ilgpu".</summary>
    [Params("cpu", "ilgpu")]
    public string Backend { get; set; } = "cpu";

    /// <summary>The backend under test.</summary>
    protected IBackend Device { get; private set; } = CpuBackend.Default;

    private IlgpuBackend? _ilgpu;

    /// <summary>Creates the backend.</summary>
    protected void CreateBackend()
    {
        if (Backend == "ilgpu")
        {
            _ilgpu = IlgpuBackend.Create();
            Console.WriteLine($"// ilgpu device: {_ilgpu}");
            Device = _ilgpu;
        }
        else Device = CpuBackend.Default;
    }

    /// <summary>True when "ilgpu" found no GPU and fell back to ILGPU's CPU accelerator, which emulates every GPU thread.</summary>
    protected bool OnCpuAccelerator => _ilgpu?.Device.Kind == IlgpuDeviceKind.Cpu;

    /// <summary>
    /// <paramref name="size"/>, or at most <paramref name="cpuAcceleratorCap"/> on ILGPU's CPU accelerator (announced in the
    /// log: its figures then belong to the smaller size, not to the parameter shown in the table).
    /// </summary>
    protected int Cap(int size, int cpuAcceleratorCap, string what)
    {
        if (!OnCpuAccelerator || size <= cpuAcceleratorCap) return size;
        Console.WriteLine($"// ilgpu on the CPU accelerator: {what} capped from {size} to {cpuAcceleratorCap}");
        return cpuAcceleratorCap;
    }

    /// <summary>Waits for queued device work (no-op on the CPU backend).</summary>
    protected void Sync() => _ilgpu?.Synchronize();

    /// <summary>Frees the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _ilgpu?.Dispose();
        _ilgpu = null;
    }
}

/// <summary>Square SGEMM y = a @ b, and the transposed-B product of a Linear layer.</summary>
[MemoryDiagnoser]
public class GemmBackendBenchmarks : BackendBenchmarkBase
{
    /// <summary>M = N = K.</summary>
    [Params(256, 1024)]
    public int Size { get; set; }

    private IStorage _a = null!, _b = null!, _y = null!;
    private int _n;

    /// <summary>Random operands on the backend.</summary>
    [GlobalSetup]
    public void Setup()
    {
        CreateBackend();
        _n = Cap(Size, 64, "M = N = K");
        var g = new Generator(1);
        int n = _n * _n;
        _a = Device.Allocate(DType.Float32, n, false);
        _b = Device.Allocate(DType.Float32, n, false);
        _y = Device.Allocate(DType.Float32, n, false);
        Device.RandomFill(_a, n, RandomKind.Normal, 0f, 1f, g.Seed, g.Advance(n));
        Device.RandomFill(_b, n, RandomKind.Normal, 0f, 1f, g.Seed, g.Advance(n));
        Sync();
    }

    /// <summary>y = a @ b, both row-major.</summary>
    [Benchmark]
    public void MatMul()
    {
        Device.MatMul(_a, Layout.Contiguous(_n, _n), _b, Layout.Contiguous(_n, _n), _y);
        Sync();
    }

    /// <summary>y = a @ bᵀ (Linear's weight layout).</summary>
    [Benchmark]
    public void MatMulTransposedB()
    {
        Device.MatMul(_a, Layout.Contiguous(_n, _n), _b, new Layout([_n, _n], [1, _n]), _y);
        Sync();
    }
}

/// <summary>Causal attention forward and backward at GPT-2 small's head size.</summary>
[MemoryDiagnoser]
public class AttentionBackendBenchmarks : BackendBenchmarkBase
{
    /// <summary>Sequence length.</summary>
    [Params(256, 1024)]
    public int T { get; set; }

    private const int Batch = 2, Heads = 12, HeadDim = 64;
    private AttentionShape _s;
    private IStorage _q = null!, _k = null!, _v = null!, _o = null!, _lse = null!, _do = null!, _dq = null!, _dk = null!, _dv = null!;

    /// <summary>Random q, k, v on the backend.</summary>
    [GlobalSetup]
    public void Setup()
    {
        CreateBackend();
        int batch = Cap(Batch, 1, "batch"), heads = Cap(Heads, 2, "heads"), t = Cap(T, 64, "T");
        _s = new AttentionShape(batch, heads, heads, t, t, HeadDim, true, 1f / MathF.Sqrt(HeadDim));
        int n = batch * heads * t * HeadDim;
        var g = new Generator(2);
        IStorage R()
        {
            var s = Device.Allocate(DType.Float32, n, false);
            Device.RandomFill(s, n, RandomKind.Normal, 0f, 1f, g.Seed, g.Advance(n));
            return s;
        }
        _q = R(); _k = R(); _v = R(); _do = R();
        _o = Device.Allocate(DType.Float32, n); _dq = Device.Allocate(DType.Float32, n);
        _dk = Device.Allocate(DType.Float32, n); _dv = Device.Allocate(DType.Float32, n);
        _lse = Device.Allocate(DType.Float32, batch * heads * t);
        Device.Attention(_s, _q, _k, _v, null, null, default, _o, _lse);
        Sync();
    }

    /// <summary>Flash-style forward.</summary>
    [Benchmark]
    public void Forward()
    {
        Device.Attention(_s, _q, _k, _v, null, null, default, _o, _lse);
        Sync();
    }

    /// <summary>Backward from the saved log-sum-exp.</summary>
    [Benchmark]
    public void Backward()
    {
        Device.AttentionBackward(_s, _q, _k, _v, null, null, default, _o, _lse, _do, _dq, _dk, _dv, null);
        Sync();
    }
}

/// <summary>One GPT training step (forward, backward, AdamW) on nanoGPT's baby GPT: 4 layers, 4 heads, width 128.</summary>
[MemoryDiagnoser]
public class TrainStepBackendBenchmarks : BackendBenchmarkBase
{
    private Gpt2 _model = null!;
    private AdamW _opt = null!;
    private Tensor _ids = null!, _targets = null!;

    /// <summary>Model, optimizer and a batch on the backend.</summary>
    [GlobalSetup]
    public void Setup()
    {
        CreateBackend();
        var config = new Gpt2Config(VocabSize: 65, ContextLength: 64, Layers: 4, Heads: 4, Embedding: 128);
        _model = new Gpt2(config, seed: 1);
        _model.To(Device);
        _opt = new AdamW(_model.Parameters(), new AdamWOptions(1e-3f));
        var g = new Generator(3);
        int batch = Cap(8, 1, "batch"), t = Cap(64, 16, "sequence");
        _ids = Tensor.FromArray(Enumerable.Range(0, batch * t).Select(_ => g.NextInt(65)).ToArray(), batch, t).To(Device);
        _targets = Tensor.FromArray(Enumerable.Range(0, batch * t).Select(_ => g.NextInt(65)).ToArray(), batch, t).To(Device);
        Step();
    }

    /// <summary>One step; reading the loss synchronises.</summary>
    [Benchmark]
    public float Step()
    {
        using var scope = TensorScope.Begin();
        var loss = Functional.CrossEntropy(_model.Forward(_ids), _targets);
        _opt.ZeroGrad();
        loss.Backward();
        _opt.Step();
        return loss.Item();
    }
}
