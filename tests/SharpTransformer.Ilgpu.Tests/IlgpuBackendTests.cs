using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Data;
using SharpTransformer.Generation;
using SharpTransformer.Ilgpu.Kernels;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;
using Xunit.Abstractions;

namespace SharpTransformer.Ilgpu.Tests;

/// <summary>What only the ILGPU backend has: device selection, kernels compiled for GPUs, memory pooling and errors.</summary>
public sealed class IlgpuBackendTests(ITestOutputHelper output)
{
    private static IlgpuBackend B => TestBackend.Shared;

    // No GPU is needed to check that every kernel compiles to CUDA PTX and to OpenCL C: ILGPU's backends generate the code
    // without a device. This catches constructs the CPU accelerator runs but GPUs cannot (e.g. Math.Exp needs libdevice).
    [Fact]
    public void EveryKernelCompilesForCudaAndOpenCL()
    {
        using var context = Context.Create(b => b.Optimize(OptimizationLevel.O1));
        using var ptx = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_70), CudaArchitecture.SM_70, CudaInstructionSet.ISA_70, null!);
        // A conservative OpenCL 2.0 device: doubles and the generic address space, but no half floats, no 64-bit atomics, no subgroups.
        var caps = new CLCapabilityContext(false, true, true, false, false);
        Assert.True(caps.Float64 && caps.GenericAddressSpace && !caps.Int64_Atomics && !caps.SubGroups && !caps.Float16);
        using var cl = new CLBackend(context, caps, CLDeviceVendor.Nvidia, new CLCVersion(2, 0));
        var kernels = IlgpuBackend.KernelMethods();
        Assert.True(kernels.Count >= 35, $"only {kernels.Count} kernels found");
        var failures = new List<string>();
        foreach (var (method, isExplicit) in kernels)
        {
            var entry = isExplicit ? EntryPointDescription.FromExplicitlyGroupedKernel(method) : EntryPointDescription.FromImplicitlyGroupedKernel(method);
            foreach (var (name, backend) in new (string, ILGPU.Backends.Backend)[] { ("PTX", ptx), ("OpenCL", cl) })
            {
                try { backend.Compile(entry, default); }
                catch (Exception e) { failures.Add($"{method.DeclaringType!.Name}.{method.Name} ({name}): {(e.InnerException ?? e).Message}"); }
            }
        }
        output.WriteLine($"{kernels.Count} kernels compiled for PTX (sm_70, no libdevice) and OpenCL C 2.0 (no 64-bit atomics)");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void DevicesListTheCpuAcceleratorAndNamedSelectionWorks()
    {
        var devices = IlgpuBackend.Devices();
        foreach (var d in devices) output.WriteLine(d.ToString());
        Assert.Contains(devices, d => d.Kind == IlgpuDeviceKind.Cpu);
        using var cpu = IlgpuBackend.Create("cpu:0", TestBackend.Options);
        Assert.Equal("ilgpu:cpu:0", cpu.Name);
        Assert.Equal(IlgpuDeviceKind.Cpu, cpu.Device.Kind);
        Assert.Contains("ilgpu:cpu:0", cpu.ToString());
        if (!devices.Any(d => d.Kind is IlgpuDeviceKind.Cuda or IlgpuDeviceKind.OpenCL))
        {
            using var auto = IlgpuBackend.Create(IlgpuDeviceKind.Auto, TestBackend.Options);   // falls back to the CPU accelerator
            Assert.Equal(IlgpuDeviceKind.Cpu, auto.Device.Kind);
        }
    }

    [Fact]
    public void BackendSelectorParsesCommandLineNames()
    {
        Assert.Same(CpuBackend.Default, BackendSelector.Create("cpu"));
        using (var b = (IlgpuBackend)BackendSelector.Create("ilgpu:cpu", TestBackend.Options)) Assert.Equal("ilgpu:cpu:0", b.Name);
        var ex = Assert.Throws<ArgumentException>(() => BackendSelector.Create("tpu"));
        Assert.Contains("cpu, ilgpu", ex.Message);
    }

    [Fact]
    public void MissingDeviceThrowsAndListsTheDevicesPresent()
    {
        var devices = IlgpuBackend.Devices();
        var ex = Assert.Throws<InvalidOperationException>(() => IlgpuBackend.Create("no-such-accelerator-xyz"));
        Assert.Contains("no-such-accelerator-xyz", ex.Message);
        Assert.Contains("cpu:0", ex.Message);
        if (!devices.Any(d => d.Kind == IlgpuDeviceKind.Cuda))
        {
            var cuda = Assert.Throws<InvalidOperationException>(() => IlgpuBackend.Create(IlgpuDeviceKind.Cuda));
            Assert.Contains("cuda", cuda.Message);
            output.WriteLine(cuda.Message);
        }
        Assert.Throws<InvalidOperationException>(() => IlgpuBackend.Create("cpu:7"));
    }

    [Fact]
    public void StorageOfAnotherBackendIsRejectedWithBothNames()
    {
        var cpuStorage = CpuBackend.Default.Allocate(DType.Float32, 6);
        var mine = B.Allocate(DType.Float32, 6);
        try
        {
            var ex = Assert.Throws<InvalidOperationException>(() => B.Unary(UnaryOp.Exp, cpuStorage, Layout.Contiguous(6), mine));
            Assert.Contains("ilgpu:cpu:0", ex.Message);
            Assert.Contains("'cpu'", ex.Message);
            Assert.Contains("6 Float32", ex.Message);
            var back = Assert.Throws<InvalidOperationException>(() => CpuBackend.Default.Unary(UnaryOp.Exp, mine, Layout.Contiguous(6), cpuStorage));
            Assert.Contains("ilgpu:cpu:0", back.Message);

            using var other = IlgpuBackend.Create(IlgpuDeviceKind.Cpu, TestBackend.Options);
            var two = Assert.Throws<InvalidOperationException>(() => other.Unary(UnaryOp.Exp, mine, Layout.Contiguous(6), other.Allocate(DType.Float32, 6)));
            Assert.Contains("belongs to backend", two.Message);

            // Through tensors: mixing backends names both, and .To() fixes it.
            var a = Tensor.FromArray(new float[] { 1, 2, 3 });
            var b = a.To(B);
            Assert.ThrowsAny<Exception>(() => a.Add(b));
            Assert.Equal(new float[] { 2, 4, 6 }, a.To(B).Add(b).ToArray());
        }
        finally
        {
            cpuStorage.Dispose();
            mine.Dispose();
        }
    }

    [Fact]
    public void OutOfDeviceMemoryThrowsAClearExceptionAndTheBackendKeepsWorking()
    {
        using var small = IlgpuBackend.Create(IlgpuDeviceKind.Cpu, TestBackend.Options with { MemoryLimitBytes = 1 << 20 });
        using var keep = small.Allocate(DType.Float32, 100_000);                          // 400 KB of the 1 MiB
        var ex = Assert.Throws<DeviceOutOfMemoryException>(() => small.Allocate(DType.Float32, 200_000));
        output.WriteLine(ex.Message);
        Assert.Contains("ilgpu:cpu:0", ex.Message);
        Assert.Contains("200000 Float32", ex.Message);
        Assert.Contains("limit 1.0 MiB", ex.Message);
        Assert.Equal(800_000, ex.RequestedBytes);
        using var fits = small.Allocate(DType.Float32, 50_000);
        small.Fill(fits, Layout.Contiguous(50_000), 2f);
        var r = new float[3];
        small.Download(fits, 49_997, r, 0, 3);
        Assert.Equal(new float[] { 2, 2, 2 }, r);
    }

    [Fact]
    public void DisposedStoragesReturnToThePoolAndADisposedBackendRefusesWork()
    {
        using var be = IlgpuBackend.Create(IlgpuDeviceKind.Cpu, TestBackend.Options);
        var s = be.Allocate(DType.Float32, 1000);
        long allocations = be.DeviceAllocations;
        Assert.Equal(4000, be.BytesInUse);
        s.Dispose();
        Assert.True(s.IsDisposed);
        Assert.Equal(0, be.BytesInUse);
        Assert.Equal(4000, be.BytesPooled);
        var again = be.Allocate(DType.Int32, 1000);                                     // same size: reused, whatever the type
        Assert.Equal(allocations, be.DeviceAllocations);
        Assert.All(GetI(be, again), v => Assert.Equal(0, v));
        Assert.Throws<ObjectDisposedException>(() => be.Fill(s, Layout.Contiguous(1000), 1f));
        be.TrimPool();
        Assert.Equal(0, be.BytesPooled);
        be.Dispose();
        var ex = Assert.Throws<ObjectDisposedException>(() => be.Allocate(DType.Float32, 4));
        Assert.Contains("ilgpu:cpu:0", ex.Message);
    }

    private static int[] GetI(IlgpuBackend be, IStorage s)
    {
        var r = new int[s.Length];
        be.Download(s, 0, r, 0, r.Length);
        return r;
    }

    [Fact]
    public void UnreachableStoragesAreReclaimedByTheFinalizer()
    {
        using var be = IlgpuBackend.Create(IlgpuDeviceKind.Cpu, TestBackend.Options);
        static void Drop(IlgpuBackend be) { for (int i = 0; i < 10; i++) be.Allocate(DType.Float32, 777); }
        Drop(be);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = be.DeviceAllocations;
        using var s = be.Allocate(DType.Float32, 777);                                    // served from a reclaimed buffer
        Assert.Equal(before, be.DeviceAllocations);
        Assert.Equal(777 * 4, be.BytesInUse);
    }

    [Fact]
    public void TrainingStepsAllocateNoDeviceMemoryAfterWarmUp()
    {
        using var be = IlgpuBackend.Create(IlgpuDeviceKind.Cpu, TestBackend.Options);
        var model = new Gpt2(Gpt2Config.Tiny, seed: 3);
        model.To(be);
        var opt = new AdamW(model.Parameters());
        var ids = Tensor.FromArray(Enumerable.Range(0, 16).Select(i => i * 5 % 64).ToArray(), 2, 8).To(be);
        var targets = Tensor.FromArray(Enumerable.Range(1, 16).Select(i => i * 5 % 64).ToArray(), 2, 8).To(be);
        void Step()
        {
            using var scope = TensorScope.Begin();
            var loss = Functional.CrossEntropy(model.Forward(ids), targets);
            opt.ZeroGrad();
            loss.Backward();
            opt.Step();
            loss.Item();
        }
        Step(); Step();
        long allocations = be.DeviceAllocations, inUse = be.BytesInUse;
        for (int i = 0; i < 3; i++) Step();
        output.WriteLine($"after warm-up: {allocations} device allocations, {inUse} bytes in use, {be.BytesPooled} pooled");
        Assert.Equal(allocations, be.DeviceAllocations);
        Assert.Equal(inUse, be.BytesInUse);
    }

    [Fact]
    public void ModelAndOptimizerMoveMidTrainingLikeTorchTo()
    {
        // Two steps on the CPU, then model.To(gpu) in one call (AdamW's moments follow), three more steps: the curve matches
        // five CPU steps, and the moments ended up on the new backend.
        float[] Run(bool move)
        {
            var model = new Gpt2(Gpt2Config.Tiny, seed: 8);
            var opt = new AdamW(model.Parameters(), new AdamWOptions(LearningRate: 1e-2f));
            var idsHost = Tensor.FromArray(Enumerable.Range(0, 16).Select(i => i * 3 % 64).ToArray(), 2, 8);
            var tHost = Tensor.FromArray(Enumerable.Range(1, 16).Select(i => i * 3 % 64).ToArray(), 2, 8);
            var losses = new float[5];
            for (int s = 0; s < 5; s++)
            {
                if (move && s == 2) model.To(B);
                var backend = model.Wte.Weight.Backend;
                using var scope = TensorScope.Begin();
                var loss = Functional.CrossEntropy(model.Forward(idsHost.To(backend)), tHost.To(backend));
                opt.ZeroGrad();
                loss.Backward();
                opt.Step();
                losses[s] = loss.Item();
            }
            if (move) Assert.All(opt.Moments, st => Assert.Same(B, st.M!.Backend));
            return losses;
        }
        var cpu = Run(false);
        var moved = Run(true);
        for (int s = 0; s < 5; s++) Assert.True(Math.Abs(cpu[s] - moved[s]) <= 1e-4f * cpu[s], $"step {s}: {cpu[s]} vs {moved[s]}");
    }

    [Fact]
    public void GreedyGenerationOnTheDeviceMatchesTheCpu()
    {
        var prompt = new[] { 5, 17, 3, 42 };
        var cpuModel = new Gpt2(Gpt2Config.Tiny, seed: 12);
        var devModel = new Gpt2(Gpt2Config.Tiny, seed: 12);
        devModel.To(B);
        foreach (bool cache in new[] { true, false })
        {
            var options = new GenerationOptions(MaxNewTokens: 8, Greedy: true, UseCache: cache);
            var expected = new TextGenerator(cpuModel).Generate(prompt, options);
            var got = new TextGenerator(devModel).Generate(prompt, options);
            Assert.Equal(expected, got);
        }
        var batch = new TextGenerator(devModel).GenerateBatch([prompt, new[] { 9, 1 }], new GenerationOptions(MaxNewTokens: 4, Greedy: true));
        var batchCpu = new TextGenerator(cpuModel).GenerateBatch([prompt, new[] { 9, 1 }], new GenerationOptions(MaxNewTokens: 4, Greedy: true));
        Assert.Equal(batchCpu, batch);
    }

    [Fact]
    public void LanguageModelTrainerTrainsAModelMovedToTheDevice()
    {
        var g = new Generator(4);
        var data = new TokenWindowDataset(Enumerable.Range(0, 400).Select(i => (i * 7 + g.NextInt(3)) % 64).ToArray(), 8, stride: 1);
        var options = new TrainerOptions
        {
            MaxSteps = 4, BatchSize = 2, LearningRate = 3e-3f, MinLearningRate = 1e-4f, WarmupSteps = 1, Decay = DecayKind.Cosine, WeightDecay = 0.1f,
            Beta2 = 0.99f, EvalEvery = 2, Seed = 5,
        };
        float[] Run(IBackend? backend)
        {
            var model = new Gpt2(Gpt2Config.Tiny with { ContextLength = 8 }, seed: 6);
            if (backend is not null) model.To(backend);
            var trainer = new LanguageModelTrainer(model, options);
            var result = trainer.Train(data, data, evalBatches: 2);
            return [result.FinalLoss, (float)result.BestMetric];
        }
        var cpu = Run(null);
        var dev = Run(B);
        Close(cpu, dev, 1e-4f, 0f, "final loss, best validation loss");
    }

    [Fact]
    public void TheCorePackageDoesNotReferenceIlgpu()
    {
        var refs = typeof(Tensor).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain(refs, n => n!.StartsWith("ILGPU", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(typeof(IlgpuBackend).Assembly.GetReferencedAssemblies(), a => a.Name == "ILGPU");
    }

    [Fact]
    public void DeviceMathMatchesTheRuntimeLibrary()
    {
        var rng = new Random(1);
        float maxExp = 0, maxLog = 0, maxTanh = 0, maxPow = 0;
        for (int i = 0; i < 200_000; i++)
        {
            float x = (float)(rng.NextDouble() * 175 - 87);
            maxExp = Math.Max(maxExp, RelErr(Math.Exp(x), DeviceMath.Exp(x)));
            float p = (float)Math.Exp(rng.NextDouble() * 160 - 80);
            maxLog = Math.Max(maxLog, AbsErrUlp(Math.Log(p), DeviceMath.Log(p)));
            float t = (float)(rng.NextDouble() * 20 - 10);
            maxTanh = Math.Max(maxTanh, Math.Abs((float)Math.Tanh(t) - DeviceMath.Tanh(t)) / Math.Max(1e-30f, Math.Abs((float)Math.Tanh(t))));
            float bse = (float)(rng.NextDouble() * 4), ex = (float)(rng.NextDouble() * 6 - 3);
            maxPow = Math.Max(maxPow, RelErr(Math.Pow(bse, ex), DeviceMath.Pow(bse, ex)));
        }
        output.WriteLine($"max relative error: exp {maxExp:E2}, tanh {maxTanh:E2}, pow {maxPow:E2}; log {maxLog:F2} ulp");
        Assert.True(maxExp < 2.5e-7f, $"exp {maxExp}");
        Assert.True(maxLog < 2f, $"log {maxLog} ulp");
        Assert.True(maxTanh < 5e-7f, $"tanh {maxTanh}");
        Assert.True(maxPow < 3e-6f, $"pow {maxPow}");
        Assert.Equal(float.PositiveInfinity, DeviceMath.Exp(100f));
        Assert.Equal(0f, DeviceMath.Exp(-200f));
        Assert.True(DeviceMath.Exp(-100f) > 0f);                                                 // subnormal result
        Assert.Equal(float.NegativeInfinity, DeviceMath.Log(0f));
        Assert.True(float.IsNaN(DeviceMath.Log(-1f)));
        Assert.Equal(-8f, DeviceMath.Pow(-2f, 3f));
        Assert.True(float.IsNaN(DeviceMath.Pow(-2f, 0.5f)));
        // Double log and sin/cos (RandomFill's normals, RoPE) within an ulp or two of the runtime's.
        for (int i = 0; i < 100_000; i++)
        {
            double u = (rng.NextDouble() + 1e-300);
            Assert.True(Math.Abs(Math.Log(u) - DeviceMath.Log(u)) <= 4e-16 * Math.Abs(Math.Log(u)) + 1e-300, $"log({u:R})");
            double a = rng.NextDouble() * 5000;
            DeviceMath.SinCos(a, out double s, out double c);
            Assert.True(Math.Abs(Math.Sin(a) - s) < 1e-15 && Math.Abs(Math.Cos(a) - c) < 1e-15, $"sincos({a:R})");
        }
    }

    private static void Close(float[] expected, float[] actual, float rtol, float atol, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= atol + rtol * Math.Abs(expected[i]), $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
    }

    private static float RelErr(double exact, float got) => exact == 0 ? Math.Abs(got) : (float)(Math.Abs(exact - got) / Math.Abs(exact));

    private static float AbsErrUlp(double exact, float got) => (float)(Math.Abs(exact - got) / Math.Max(float.Epsilon, MathF.BitIncrement(Math.Abs((float)exact)) - Math.Abs((float)exact)));
}
