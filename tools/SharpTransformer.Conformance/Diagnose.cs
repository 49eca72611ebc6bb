using ILGPU.Runtime.Cuda;
using SharpTransformer.Ilgpu;

namespace SharpTransformer.ConformanceRunner;

/// <summary><c>--diagnose</c>: what ILGPU sees, and why CUDA is missing when it is (ILGPU hides driver load errors).</summary>
internal static class Diagnose
{
    public static int Run()
    {
        foreach (var name in new[] { "libcuda.so", "libcuda.so.1" })
            Console.WriteLine($"load {name}: {(System.Runtime.InteropServices.NativeLibrary.TryLoad(name, out _) ? "ok" : "not found")}");
        foreach (var d in IlgpuBackend.Devices()) Console.WriteLine($"ilgpu device: {d}");
        try
        {
            var api = CudaAPI.CurrentAPI;
            var init = api.GetDeviceCount(out int count);
            var version = api.GetDriverVersion(out var driver);
            Console.WriteLine($"CUDA driver API: {api.GetType().Name}, device count {count} ({init}), driver {driver} ({version})");
        }
        catch (Exception e)
        {
            Console.WriteLine($"CUDA driver API unavailable: {e.GetType().Name}: {e.Message}{(e.InnerException is { } i ? $" <- {i.GetType().Name}: {i.Message}" : "")}");
        }
        return 0;
    }
}
