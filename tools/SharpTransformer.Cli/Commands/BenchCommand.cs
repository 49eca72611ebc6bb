using System.CommandLine;
using SharpTransformer.Cli.Commands;

namespace SharpTransformer.Cli;

/// <summary><c>sharpt bench &lt;what&gt;</c>: micro-benchmarks of the library's kernels, each on <c>--backend cpu|ilgpu|ilgpu:&lt;device&gt;</c>.</summary>
internal static class BenchCommand
{
    public static Command Create() => new("bench", "micro-benchmarks; each prints its figure last and takes --backend cpu|ilgpu|ilgpu:<device>")
    {
        BenchGemmCommand.Create(),
        BenchTrainStepCommand.Create(),
        BenchGenerateCommand.Create(),
        BenchAttentionCommand.Create(),
    };
}
