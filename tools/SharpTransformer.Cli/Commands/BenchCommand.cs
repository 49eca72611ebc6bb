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

                  gemm    Sgemm throughput: --m M --k K --n N [--transpose-a] [--transpose-b] [--threads T] [--seconds S]
                """);
            return args.Length == 0 ? 2 : 0;
        }
        return args[0] switch
        {
            "gemm" => BenchGemmCommand.Run(args[1..]),
            _ => throw new CliException($"unknown benchmark '{args[0]}' (try: gemm)."),
        };
    }
}
