using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Conformance;
using SharpTransformer.Ilgpu;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.ConformanceRunner;

/// <summary>
/// Checks at real sizes, against <see cref="CpuBackend"/>, that the unit suite (sized for ILGPU's CPU accelerator) cannot
/// afford: products large enough to take the register-tiled GEMM on this device, and a GPT-2 training step.
/// </summary>
internal static class DeviceChecks
{
    /// <summary>
    /// Square-ish products sized so that <see cref="IlgpuBackend.UseRegisterTiledGemm"/> picks the register-tiled kernel on
    /// this device (ragged edges in M, N and K), every transpose, accumulation, and a batch with a broadcast B.
    /// </summary>
    public static string? LargeMatMul(IBackend dev)
    {
        int m = 300, n = 300;
        if (dev is IlgpuBackend g)
        {
            int tile = 8 * g.GemmTile;
            // 12 x 12 tiles with ragged edges on a GPU (144 groups, more than an H200 has multiprocessors); 3 x 3 on the
            // CPU accelerator, which emulates every thread.
            m = (g.Device.Kind == IlgpuDeviceKind.Cpu ? 2 : 11) * tile + 7;
            n = m + 6;
            if (!g.UseRegisterTiledGemm(m, n, 1)) return $"no size up to {m} takes the register-tiled kernel";
        }
        const int k = 333;
        var rng = new Random(9);
        var failures = new List<string>();
        foreach (var (batch, broadcastB) in new[] { (1, false), (3, true) })
            for (int variant = 0; variant < 4; variant++)
            {
                bool transA = (variant & 1) != 0, transB = (variant & 2) != 0;
                int mm = batch == 1 ? m : m / 2 + 3, nn = batch == 1 ? n : n / 2 + 5;
                var al = Matrix(batch, mm, k, transA, false, out int alen);
                var bl = Matrix(batch, k, nn, transB, broadcastB, out int blen);
                var a = Rand(rng, alen);
                var b = Rand(rng, blen);
                int count = batch * mm * nn;
                var prior = Rand(rng, count);
                var expect = Product(CpuBackend.Default, a, al, b, bl, prior);
                var got = Product(dev, a, al, b, bl, prior);
                string what = $"{batch}x{mm}x{k}x{nn} transA={transA} transB={transB}{(broadcastB ? " broadcast B" : "")}";
                Compare(expect.Y, got.Y, what, failures);
                Compare(expect.Acc, got.Acc, what + " accumulate", failures);
            }
        Console.WriteLine($"      products up to {m}x{k}x{n}" + (dev is IlgpuBackend ib ? $" (register-tiled kernel, {8 * ib.GemmTile}x{8 * ib.GemmTile} tiles)" : ""));
        return failures.Count == 0 ? null : string.Join("; ", failures.Take(4));
    }

    private static (float[] Y, float[] Acc) Product(IBackend be, float[] a, Layout al, float[] b, Layout bl, float[] prior)
    {
        using var sa = HostTransfer.Put(be, a);
        using var sb = HostTransfer.Put(be, b);
        using var y = be.Allocate(DType.Float32, prior.Length, zero: false);
        using var acc = HostTransfer.Put(be, prior);
        be.MatMul(sa, al, sb, bl, y);
        be.MatMul(sa, al, sb, bl, acc, accumulate: true);
        return (HostTransfer.Get(be, y), HostTransfer.Get(be, acc));
    }

    private static void Compare(float[] expect, float[] got, string what, List<string> failures)
    {
        double worst = 0, scale = 1e-30;
        int at = -1;
        for (int i = 0; i < expect.Length; i++)
        {
            double d = Math.Abs(expect[i] - got[i]);
            if (!(d <= worst)) { worst = d; at = i; }
            scale = Math.Max(scale, Math.Abs(expect[i]));
        }
        if (double.IsNaN(worst) || worst > 1e-5 * scale)
            failures.Add($"{what}: max |diff| {worst:E2} at {at} (expected {expect[Math.Max(at, 0)]}, got {got[Math.Max(at, 0)]}), max |y| {scale:F3}");
    }

    /// <summary>
    /// One GPT-2 training step on the device and on the CPU from the same weights: the loss, every parameter's gradient
    /// norm, and the loss after one AdamW step must agree (relative 1e-4, 1e-3 and 1e-4).
    /// </summary>
    public static string? Gpt2Step(IBackend dev, Gpt2Config config, int batch, int seq)
    {
        var failures = new List<string>();
        var (lossCpu, normsCpu, afterCpu) = Step(CpuBackend.Default, config, batch, seq);
        var (lossDev, normsDev, afterDev) = Step(dev, config, batch, seq);
        double Rel(double x, double y) => Math.Abs(x - y) / Math.Max(Math.Abs(y), 1e-12);
        Console.WriteLine($"      loss {lossDev:F6} (cpu {lossCpu:F6}), after one AdamW step {afterDev:F6} (cpu {afterCpu:F6})");
        if (!(Rel(lossDev, lossCpu) <= 1e-4)) failures.Add($"loss {lossDev} vs cpu {lossCpu}");
        if (!(Rel(afterDev, afterCpu) <= 1e-4)) failures.Add($"loss after a step {afterDev} vs cpu {afterCpu}");
        double worst = 0;
        string worstName = "";
        foreach (var (name, norm) in normsCpu)
        {
            double r = Rel(normsDev[name], norm);
            if (!(r <= worst)) { worst = r; worstName = name; }
        }
        Console.WriteLine($"      {normsCpu.Count} gradient norms: max relative difference {worst:E2} ({worstName})");
        if (!(worst <= 1e-3)) failures.Add($"gradient norm of {worstName}: {normsDev[worstName]} vs cpu {normsCpu[worstName]}");
        return failures.Count == 0 ? null : string.Join("; ", failures);
    }

    private static (float Loss, Dictionary<string, double> Norms, float After) Step(IBackend be, Gpt2Config config, int batch, int seq)
    {
        var model = new Gpt2(config, seed: 3);
        model.To(be);
        var g = new Generator(8);
        var ids = Tensor.FromArray(Enumerable.Range(0, batch * seq).Select(_ => g.NextInt(config.VocabSize)).ToArray(), batch, seq).To(be);
        var targets = Tensor.FromArray(Enumerable.Range(0, batch * seq).Select(_ => g.NextInt(config.VocabSize)).ToArray(), batch, seq).To(be);
        var opt = new AdamW(model.Parameters(), new AdamWOptions(1e-4f, WeightDecay: 0.1f));
        float loss;
        var norms = new Dictionary<string, double>();
        using (TensorScope.Begin())
        {
            var l = Functional.CrossEntropy(model.Forward(ids), targets);
            opt.ZeroGrad();
            l.Backward();
            loss = l.Item();
            foreach (var (name, p) in model.NamedParameters())
                norms[name] = Math.Sqrt(p.Grad!.ToArray().Sum(x => (double)x * x));
            opt.Step();
        }
        float after;
        using (TensorScope.Begin()) after = Functional.CrossEntropy(model.Forward(ids), targets).Item();
        return (loss, norms, after);
    }

    private static Layout Matrix(int batch, int rows, int cols, bool transposed, bool broadcast, out int length)
    {
        const int off = 3;
        int matrix = rows * cols;
        var shape = batch > 1 ? new[] { batch, rows, cols } : new[] { rows, cols };
        var strides = new int[shape.Length];
        if (batch > 1) strides[0] = broadcast ? 0 : matrix;
        if (transposed) { strides[^2] = 1; strides[^1] = rows; }
        else { strides[^2] = cols; strides[^1] = 1; }
        length = off + (broadcast ? 1 : batch) * matrix;
        return new Layout(shape, strides, off);
    }

    private static float[] Rand(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}
