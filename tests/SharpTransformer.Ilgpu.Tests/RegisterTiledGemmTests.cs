using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.Cuda;
using SharpTransformer.Backends;
using SharpTransformer.Conformance;
using SharpTransformer.Ilgpu.Kernels;
using SharpTransformer.Tensors;
using Xunit.Abstractions;

namespace SharpTransformer.Ilgpu.Tests;

/// <summary>The register-tiled GEMM that large products take: values on the CPU accelerator, and the PTX it compiles to.</summary>
public sealed class RegisterTiledGemmTests(ITestOutputHelper output)
{
    // Sizes that span several tiles with ragged edges in M, N and K, for both tile sizes the CPU accelerator uses here
    // (2 × 2 threads: 16 × 16 tiles, K steps of 1; 4 × 4 threads: 32 × 32 tiles, K steps of 2), with every transpose,
    // a batch with a broadcast B, and accumulation.
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void MatchesTheReferenceOnMultiTileShapesWithEveryTranspose(int threads)
    {
        using var backend = IlgpuBackend.Create(IlgpuDeviceKind.Cpu, new IlgpuBackendOptions { CpuThreadsPerWarp = threads, CpuWarpsPerGroup = threads });
        Assert.Equal(threads, backend.GemmTile);
        var rng = new Random(5);
        var cases = new (int Batch, int M, int K, int N)[] { (1, 70, 45, 33), (1, 8 * threads, 8 * threads, 8 * threads), (3, 37, 19, 41), (1, 50, 1, 29) };
        foreach (var (batch, m, k, n) in cases)
            for (int variant = 0; variant < 4; variant++)
            {
                bool transA = (variant & 1) != 0, transB = (variant & 2) != 0;
                Assert.True(backend.UseRegisterTiledGemm(m, n, batch), $"{m}x{n} should take the register-tiled kernel");
                var al = Matrix(batch, m, k, transA, broadcast: false, out int alen);
                var bl = Matrix(batch, k, n, transB, broadcast: batch > 1 && variant == 3, out int blen);
                var ad = Rand(rng, alen);
                var bd = Rand(rng, blen);
                var expect = Reference.MatMul(ad, al, bd, bl);
                using var a = HostTransfer.Put(backend, ad);
                using var b = HostTransfer.Put(backend, bd);
                var prior = Rand(rng, expect.Length);
                using var y = HostTransfer.Put(backend, prior);
                backend.MatMul(a, al, b, bl, y);
                Close(expect, HostTransfer.Get(backend, y), $"{batch}x{m}x{k}x{n} transA={transA} transB={transB}");
                backend.MatMul(a, al, b, bl, y, accumulate: true);
                Close(expect.Select(v => 2 * v).ToArray(), HostTransfer.Get(backend, y), $"accumulate {batch}x{m}x{k}x{n} transA={transA} transB={transB}");
            }
    }

    // Split-K forced by the option: K slices whose lengths do not divide K (the last slice is short), every transpose, a
    // batch with a broadcast B, and accumulate = true (the second pass adds to y once, not once per slice).
    [Theory]
    [InlineData(2, 3)]
    [InlineData(2, 4)]
    [InlineData(4, 3)]
    [InlineData(4, 5)]
    public void SplitKMatchesTheReferenceWithRaggedSlicesEveryTransposeBatchAndAccumulate(int threads, int slices)
    {
        using var backend = IlgpuBackend.Create(IlgpuDeviceKind.Cpu, new IlgpuBackendOptions { CpuThreadsPerWarp = threads, CpuWarpsPerGroup = threads, GemmSplitK = slices });
        var rng = new Random(11 + slices);
        var cases = new (int Batch, int M, int K, int N)[] { (1, 70, 47, 33), (3, 37, 29, 41), (2, 8 * threads, 8 * threads + 3, 8 * threads) };
        foreach (var (batch, m, k, n) in cases)
        {
            int used = backend.GemmSplitK(m, n, k, batch);
            Assert.True(used > 1 && used <= slices, $"{batch}x{m}x{k}x{n}: split-K {used}, asked for {slices}");
            for (int variant = 0; variant < 4; variant++)
            {
                bool transA = (variant & 1) != 0, transB = (variant & 2) != 0;
                string what = $"split-K {used}: {batch}x{m}x{k}x{n} transA={transA} transB={transB}";
                var al = Matrix(batch, m, k, transA, broadcast: false, out int alen);
                var bl = Matrix(batch, k, n, transB, broadcast: batch > 1 && variant == 3, out int blen);
                var ad = Rand(rng, alen);
                var bd = Rand(rng, blen);
                var expect = Reference.MatMul(ad, al, bd, bl);
                using var a = HostTransfer.Put(backend, ad);
                using var b = HostTransfer.Put(backend, bd);
                var prior = Rand(rng, expect.Length);
                using var y = HostTransfer.Put(backend, prior);
                backend.MatMul(a, al, b, bl, y, accumulate: true);
                Close(expect.Select((v, i) => prior[i] + v).ToArray(), HostTransfer.Get(backend, y), "accumulate " + what);
                backend.MatMul(a, al, b, bl, y);
                var first = HostTransfer.Get(backend, y);
                Close(expect, first, what);
                backend.MatMul(a, al, b, bl, y);
                Assert.Equal(first, HostTransfer.Get(backend, y));      // deterministic: the same bits on every run
            }
        }
    }

    // The automatic rule: products with fewer tiles than 1.5 × the multiprocessors split K (in slices of at least 16
    // K steps), larger ones and short K do not; the option can switch it off.
    [Fact]
    public void SplitKByDefaultOnlyForProductsWithFewTilesAndLongK()
    {
        var options = new IlgpuBackendOptions { CpuThreadsPerWarp = 4, CpuWarpsPerGroup = 4, CpuMultiprocessors = 8 };
        using var backend = IlgpuBackend.Create(IlgpuDeviceKind.Cpu, options);
        Assert.Equal(8, backend.Multiprocessors);
        Assert.True(backend.RegisterTiledGroupsPerMultiprocessor >= 1);
        int auto = backend.GemmSplitK(70, 40, 203, 1);              // 3 × 2 tiles of 32 × 32 < 12
        Assert.InRange(auto, 2, 203 / 32);
        Assert.Equal(1, backend.GemmSplitK(12 * 32, 12 * 32, 4096, 1));   // 144 tiles
        Assert.Equal(1, backend.GemmSplitK(70, 40, 60, 1));               // fewer than 2 × 16 K steps
        Assert.Equal(1, backend.GemmSplitK(1, 768, 4096, 1));             // the simple kernel: never split
        Assert.Equal(1, backend.GemmSplitK(70, 40, 203, 6));              // 36 tiles over the batch
        using var off = IlgpuBackend.Create(IlgpuDeviceKind.Cpu, options with { GemmSplitK = 1 });
        Assert.Equal(1, off.GemmSplitK(70, 40, 203, 1));

        var rng = new Random(3);
        var al = Matrix(1, 70, 203, transposed: false, broadcast: false, out int alen);
        var bl = Matrix(1, 203, 40, transposed: true, broadcast: false, out int blen);
        var ad = Rand(rng, alen);
        var bd = Rand(rng, blen);
        using var a = HostTransfer.Put(backend, ad);
        using var b = HostTransfer.Put(backend, bd);
        using var y = backend.Allocate(DType.Float32, 70 * 40);
        backend.MatMul(a, al, b, bl, y);
        Close(Reference.MatMul(ad, al, bd, bl), HostTransfer.Get(backend, y), $"auto split-K {auto}: 70x203x40");
    }

    [Fact]
    public void SmallProductsKeepTheSimpleKernelAndTheOptionChoosesByHand()
    {
        using var backend = IlgpuBackend.Create(IlgpuDeviceKind.Cpu, new IlgpuBackendOptions { CpuThreadsPerWarp = 4, CpuWarpsPerGroup = 4 });
        Assert.False(backend.UseRegisterTiledGemm(1, 768, 1));      // decoding: one row
        Assert.True(backend.UseRegisterTiledGemm(64, 64, 1));
        using var off = IlgpuBackend.Create(IlgpuDeviceKind.Cpu, new IlgpuBackendOptions { CpuThreadsPerWarp = 4, CpuWarpsPerGroup = 4, GemmKernel = IlgpuGemmKernel.Simple });
        Assert.False(off.UseRegisterTiledGemm(64, 64, 1));
        using var on = IlgpuBackend.Create(IlgpuDeviceKind.Cpu, new IlgpuBackendOptions { CpuThreadsPerWarp = 4, CpuWarpsPerGroup = 4, GemmKernel = IlgpuGemmKernel.RegisterTiled });
        Assert.True(on.UseRegisterTiledGemm(1, 5, 1));
        // Forced onto a product smaller than one tile, the register-tiled kernel still gives the right values.
        var a = new float[] { 1, 2, 3, 4, 5, 6 };                         // 1 × 6
        var b = Enumerable.Range(0, 30).Select(i => (float)(i % 7) - 3).ToArray();   // 6 × 5
        using var sa = HostTransfer.Put(on, a);
        using var sb = HostTransfer.Put(on, b);
        using var y = on.Allocate(DType.Float32, 5);
        on.MatMul(sa, Layout.Contiguous(1, 6), sb, Layout.Contiguous(6, 5), y);
        Close(Reference.MatMul(a, Layout.Contiguous(1, 6), b, Layout.Contiguous(6, 5)), HostTransfer.Get(on, y), "1x6x5 forced register-tiled");
    }

    // The GPU instance (16 × 16 threads, 128 × 128 tiles) must keep its 64 accumulators in registers: no local memory,
    // and at least 64 fused multiply-adds per k in the unrolled inner loop.
    [Fact]
    public void TheGpuInstanceCompilesToPtxWithoutLocalMemory()
    {
        var level = Environment.GetEnvironmentVariable("SHARPT_PTX_OPT") == "O2" ? OptimizationLevel.O2 : OptimizationLevel.O1;
        using var context = Context.Create(b => b.Optimize(level));
        using var ptx = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, null!);
        var method = typeof(RegisterTiledGemmKernels).GetMethod(nameof(RegisterTiledGemmKernels.Gemm))!.MakeGenericMethod(typeof(GemmTile16));
        var kernel = (PTXCompiledKernel)ptx.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), default);
        string code = kernel.PTXAssembly;
        int Count(string what) => code.Split(what).Length - 1;
        int fma = Count("fma.rn.f32"), mul = Count("mul.f32") + Count("mul.rn.f32"), add = Count("add.f32") + Count("add.rn.f32");
        int lds = Count("ld.shared.f32"), local = Count(".local");
        output.WriteLine($"PTX: {code.Length} chars, fma {fma}, mul.f32 {mul}, add.f32 {add}, ld.shared {lds}, .local {local}, bar.sync {Count("bar.sync")}");
        if (Environment.GetEnvironmentVariable("SHARPT_DUMP_PTX") is { Length: > 0 } path) File.WriteAllText(path, code);
        Assert.Equal(0, local);
        Assert.True(fma + Math.Min(mul, add) >= 64, $"expected the unrolled 8x8 multiply-adds, found fma {fma}, mul {mul}, add {add}");
    }

    private static Layout Matrix(int batch, int rows, int cols, bool transposed, bool broadcast, out int length)
    {
        int off = 1;
        int matrix = rows * cols;
        var shape = batch > 1 ? new[] { batch, rows, cols } : new[] { rows, cols };
        var strides = new int[shape.Length];
        if (batch > 1) strides[0] = broadcast ? 0 : matrix;
        if (transposed) { strides[^2] = 1; strides[^1] = rows; }
        else { strides[^2] = cols; strides[^1] = 1; }
        length = off + (broadcast ? 1 : batch) * matrix;
        return new Layout(shape, strides, off);
    }

    private static float[] Rand(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    private static void Close(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-5f + 1e-5f * Math.Abs(expected[i]), $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
    }
}
