namespace SharpTransformer.Cli;

/// <summary>The sharpt entry point: dispatches to one command class per verb.</summary>
internal static class CommandLine
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintHelp();
            return args.Length == 0 ? 1 : 0;
        }
        try
        {
            var rest = args[1..];
            return args[0] switch
            {
                "demo" => Commands.DemoCommand.Run(new Args(rest)),
                "train-lm" => Commands.TrainLmCommand.Run(new Args(rest)),
                "generate" => Commands.GenerateCommand.Run(new Args(rest)),
                "eval-lm" => Commands.EvalLmCommand.Run(new Args(rest)),
                "bench" => BenchCommand.Run(rest),
                "classify" => Commands.Classify.ClassifyCommand.Run(rest),
                "ner" => Commands.Ner.NerCommand.Run(rest),
                "tokenize" => Commands.TokenizeCommand.Run(new Args(rest)),
                "train-tokenizer" => Commands.TrainTokenizerCommand.Run(new Args(rest)),
                _ => Unknown(args[0]),
            };
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"sharpt {args[0]}: {e.Message}");
            return 2;
        }
    }

    private static int Unknown(string verb)
    {
        Console.Error.WriteLine($"sharpt: unknown command '{verb}'.");
        PrintHelp();
        return 2;
    }

    private static void PrintHelp()
    {
        Console.WriteLine("""
            sharpt: train, fine-tune and run transformer models in pure .NET.

            Commands:
              demo                 train a small model and sample from it
              train-lm             pretrain a GPT-2 or Llama-style model on a text file
              generate             sample text from a checkpoint
              eval-lm              perplexity of a checkpoint on a text file
              bench gemm           GEMM throughput (GFLOP/s)
              bench train-step     GPT-2 training step time (ms/step)
              bench generate       KV-cached decoding speed (tokens/s)
              bench attention      fused attention speed (GFLOP/s); every bench takes --backend cpu|ilgpu[:device]
              classify             train, evaluate and run text classifiers (train | eval | predict)
              ner                  train and evaluate named-entity taggers on CoNLL files (train | eval)
              tokenize             encode a text file, one line of ids per input line
              train-tokenizer      learn a BPE or WordPiece vocabulary
            """);
    }
}

/// <summary>A user error on the command line: printed without a stack trace.</summary>
internal sealed class CliException(string message) : Exception(message);
