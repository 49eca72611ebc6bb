namespace SharpTransformer.Cli.Commands.Classify;

/// <summary><c>sharpt classify train|eval|predict</c>: text classification.</summary>
internal static class ClassifyCommand
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine($"""
                sharpt classify <train|eval|predict> [options]

                  train    --train <tsv> --dev <tsv> --out <dir> [--model {string.Join("|", ClassifierSpec.Presets)}|<hugging-face-folder>]
                           [--max-minutes M] [--epochs N] [--batch B] [--lr LR] [--head-lr LR] [--max-length T]
                           [--vocab-size V] [--eval-every STEPS (default: a quarter epoch)] [--pooling cls|mean|last-token|pooler] [--text-column sentence] [--label-column label]
                           [--class-weights balanced] [--threads T] [--seed S] [--vocab <vocab.txt|tokenizer.json>]
                           A Hugging Face BERT/DistilBERT/RoBERTa folder (config.json, model.safetensors, vocab) is fine-tuned
                           with its own tokenizer (default --lr 5e-5); presets train from scratch on a WordPiece vocabulary.
                  eval     --checkpoint <dir> --data <tsv>        prints a report, then `accuracy: <x>` last
                  predict  --checkpoint <dir>                     reads lines on stdin, prints label and probability per line
                """);
            return args.Length == 0 ? 2 : 0;
        }
        var rest = new Args(args[1..]);
        return args[0] switch
        {
            "train" => ClassifyTrain.Run(rest),
            "eval" => ClassifyEval.Run(rest),
            "predict" => ClassifyPredict.Run(rest),
            _ => throw new CliException($"unknown classify command '{args[0]}' (try: train, eval, predict)."),
        };
    }
}
