namespace SharpTransformer.Cli;

/// <summary><c>sharpt bench &lt;sub&gt;</c>: micro-benchmarks of the library's kernels.</summary>
internal static class BenchCommand
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine("""
                sharpt bench <what> [options]

                  gemm         Sgemm throughput: --m M --k K --n N [--transpose-a] [--transpose-b] [--threads T] [--seconds S]
                  train-step   GPT-2 training step: --model gpt2 --batch 4 --seq 64 --steps N --threads T (prints ms/step)
                  generate     KV-cached decoding: --model gpt2 --tokens N --threads T (prints tokens/s)
                  attention    fused attention: --batch 4 --heads 12 --seq 1024 --head-dim 64 [--no-causal] (prints GFLOP/s)

                Every benchmark takes --backend cpu|ilgpu|ilgpu:<device> (default cpu), e.g. ilgpu:cuda:0 or ilgpu:cpu;
                ILGPU also --gemm-kernel auto|simple|tiled and --gemm-split-k N (0 = by size, 1 = never, N = K slices).
                """);
            return args.Length == 0 ? 2 : 0;
        }
        return args[0] switch
        {
            "gemm" => BenchGemmCommand.Run(args[1..]),
            "train-step" => Commands.BenchTrainStepCommand.Run(new Args(args[1..])),
            "generate" => Commands.BenchGenerateCommand.Run(new Args(args[1..])),
            "attention" => Commands.BenchAttentionCommand.Run(new Args(args[1..])),
            _ => throw new CliException($"unknown benchmark '{args[0]}' (try: gemm, train-step, generate, attention)."),
        };
    }
}
