namespace SharpTransformer.Cli.Commands.Ner;

/// <summary><c>sharpt ner train|eval</c>: named-entity recognition on CoNLL-format files.</summary>
internal static class NerCommand
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine("""
                sharpt ner <train|eval> [options]

                  train   --train <conll> --dev <conll> --out <dir> [--max-minutes M] [--epochs N] [--batch B] [--lr LR]
                          [--dim C] [--layers L] [--heads H] [--dropout P] [--no-crf] [--eval-every STEPS (default: half an epoch)] [--threads T] [--seed S]
                  eval    --checkpoint <dir> --data <conll>       prints a per-type report, then `entity-f1: <x>` last
                """);
            return args.Length == 0 ? 2 : 0;
        }
        var rest = new Args(args[1..]);
        return args[0] switch
        {
            "train" => NerTrain.Run(rest),
            "eval" => NerEval.Run(rest),
            _ => throw new CliException($"unknown ner command '{args[0]}' (try: train, eval)."),
        };
    }
}
