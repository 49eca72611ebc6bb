using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;

namespace SharpTransformer.Ilgpu;

/// <summary>Backends by name, for command lines and configuration files (<c>--backend cpu|ilgpu</c>).</summary>
public static class BackendSelector
{
    /// <summary>The names <see cref="Create"/> accepts, for help texts.</summary>
    public const string Help = "cpu, ilgpu (CUDA, else OpenCL, else ILGPU's CPU accelerator), or ilgpu:<device> (ilgpu:cuda:0, ilgpu:opencl, ilgpu:cpu, ilgpu:<part of a device name>)";

    /// <summary>
    /// <c>cpu</c> gives <see cref="CpuBackend.Default"/>; <c>ilgpu</c> an <see cref="IlgpuBackend"/> on the best device;
    /// <c>ilgpu:cuda:1</c>, <c>ilgpu:opencl</c>, <c>ilgpu:cpu</c> or <c>ilgpu:H100</c> a named one. The caller owns (disposes) an ILGPU backend.
    /// </summary>
    public static IBackend Create(string name, IlgpuBackendOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        string n = name.Trim();
        if (n.Equals("cpu", StringComparison.OrdinalIgnoreCase)) return CpuBackend.Default;
        if (n.Equals("ilgpu", StringComparison.OrdinalIgnoreCase)) return IlgpuBackend.Create(IlgpuDeviceKind.Auto, options);
        if (n.StartsWith("ilgpu:", StringComparison.OrdinalIgnoreCase)) return IlgpuBackend.Create(n["ilgpu:".Length..], options);
        throw new ArgumentException($"Unknown backend '{name}'. Use {Help}.", nameof(name));
    }
}
