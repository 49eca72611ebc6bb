using SharpTransformer.Autograd;
using SharpTransformer.Data;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Cli.Commands;

/// <summary>sharpt eval-lm: mean cross-entropy and perplexity of a checkpoint over every token of a text file.</summary>
internal static class EvalLmCommand
{
    public static int Run(Args a)
    {
        string path = a.Required("checkpoint"), input = a.Required("input");
        int batch = a.Int("batch", 16);
        a.RejectUnknown();
        var (_, model, tok, _) = LmModels.Load(path);
        var ids = tok.Encode(LmModels.ReadText(input));
        int block = model.ContextLength;
        if (ids.Length < 2) throw new CliException($"{input}: fewer than two tokens.");
        block = Math.Min(block, ids.Length - 1);
        var data = new TokenWindowDataset(ids, block, stride: block);   // non-overlapping windows cover the file
        double sum = 0;
        long count = 0;
        using (GradMode.NoGrad())
            for (int s = 0; s < data.Count; s += batch)
            {
                using var scope = TensorScope.Begin();
                int n = Math.Min(batch, data.Count - s);
                var (x, y) = data.Batch(Enumerable.Range(s, n).ToArray());
                sum += Functional.CrossEntropy(model.Forward(x), y, reduction: Reduction.Sum).Item();
                count += (long)n * block;
            }
        double loss = sum / count;
        Console.WriteLine($"{input}: {count:N0} tokens scored in windows of {block}");
        Console.WriteLine($"loss: {loss:F4}");
        Console.WriteLine($"perplexity: {Math.Exp(loss):F4}");
        return 0;
    }
}
