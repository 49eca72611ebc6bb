using System.CommandLine;
using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Ilgpu;
using SharpTransformer.Nn;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// The backend a command runs its model on, from <c>--backend cpu|ilgpu|ilgpu:&lt;device&gt;</c> (default cpu). GPU work is
/// queued asynchronously, so every benchmark timing ends with <see cref="Synchronize"/>; the owner disposes the device.
/// </summary>
internal sealed class CliBackend : IDisposable
{
    private CliBackend(IBackend backend) => Backend = backend;

    /// <summary>The backend.</summary>
    public IBackend Backend { get; }

    /// <summary>True for <see cref="CpuBackend"/>.</summary>
    public bool IsCpu => Backend is CpuBackend;

    /// <summary>Name and device, e.g. <c>ilgpu:cuda:0 (NVIDIA H200)</c>.</summary>
    public string Description => Backend is IlgpuBackend g ? g.ToString() : $"{Backend.Name} ({CpuBackend.Default.Threads} thread(s))";

    /// <summary>The <c>--backend</c> option: its syntax is checked while parsing, the device when the command runs.</summary>
    public static Option<string> CreateOption()
    {
        var o = new Option<string>("--backend")
        {
            Description = "where the model runs: " + BackendSelector.Help,
            HelpName = "cpu|ilgpu|ilgpu:<device>",
            DefaultValueFactory = _ => "cpu",
        };
        o.Validators.Add(r =>
        {
            string v = (r.GetValueOrDefault<string>() ?? "").Trim();
            if (!v.Equals("cpu", StringComparison.OrdinalIgnoreCase) && !v.Equals("ilgpu", StringComparison.OrdinalIgnoreCase)
                && !(v.StartsWith("ilgpu:", StringComparison.OrdinalIgnoreCase) && v.Length > "ilgpu:".Length))
                r.AddError($"--backend must be cpu, ilgpu or ilgpu:<device>; got '{v}'.");
        });
        return o;
    }

    /// <summary>
    /// Opens the backend <paramref name="name"/>; <paramref name="options"/> tune the ILGPU GEMM (benchmarks only). Unknown names
    /// and missing devices become <see cref="CliException"/>s that list what is available.
    /// </summary>
    public static CliBackend Create(string name, IlgpuBackendOptions? options = null)
    {
        try
        {
            return new CliBackend(BackendSelector.Create(name, options));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            throw new CliException($"--backend {name}: {e.Message}");
        }
    }

    /// <summary>Moves <paramref name="module"/>'s parameters to this backend (nothing to do on the CPU).</summary>
    public T Place<T>(T module) where T : Module
    {
        if (!ReferenceEquals(module.Parameters().FirstOrDefault()?.Backend ?? CpuBackend.Default, Backend)) module.To(Backend);
        return module;
    }

    /// <summary>Waits until every queued kernel has finished (a no-op on the CPU backend, which runs synchronously).</summary>
    public void Synchronize()
    {
        if (Backend is IlgpuBackend g) g.Synchronize();
    }

    /// <summary>Frees the device (the CPU backend is shared and stays).</summary>
    public void Dispose()
    {
        if (Backend is IlgpuBackend g) g.Dispose();
    }
}

/// <summary>
/// The benchmarks' backend options: <c>--backend</c>, and for ILGPU <c>--gemm-kernel auto|simple|tiled</c> (by hand: the
/// 64 × 64 or the 128 × 128 kernel) and <c>--gemm-split-k N</c> (K slices of register-tiled products: 0 = by size, the
/// default; 1 = never).
/// </summary>
internal sealed class BenchBackendOptions
{
    private readonly Option<string> _backend = CliBackend.CreateOption();
    private readonly Option<string> _kernel = CliOptions.Choice("--gemm-kernel", "ILGPU GEMM kernel: auto by size, the simple 64x64 or the register-tiled 128x128",
        "auto", "auto", "simple", "tiled");
    private readonly Option<int> _splitK = CliOptions.Int("--gemm-split-k", "ILGPU K slices of register-tiled products (0 = by size, 1 = never)", 0, min: 0);

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(_backend);
        command.Options.Add(_kernel);
        command.Options.Add(_splitK);
    }

    /// <summary>Opens the chosen backend.</summary>
    public CliBackend Create(ParseResult r)
    {
        var choice = r.GetValue(_kernel) switch
        {
            "simple" => IlgpuGemmKernel.Simple,
            "tiled" => IlgpuGemmKernel.RegisterTiled,
            _ => IlgpuGemmKernel.Auto,
        };
        return CliBackend.Create(r.GetValue(_backend)!, new IlgpuBackendOptions { GemmKernel = choice, GemmSplitK = r.GetValue(_splitK) });
    }
}
