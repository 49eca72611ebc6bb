using SharpTransformer.Models.Classification;
using SharpTransformer.Nn;

namespace SharpTransformer.Cli.Commands.Classify;

/// <summary>Batched prediction with a <see cref="TextClassifier"/>, for <c>classify train</c>'s dev accuracy, <c>eval</c> and <c>predict</c>.</summary>
internal static class ClassifierPredictions
{
    /// <summary>Predicted label ids and probabilities of many encoded texts, in batches.</summary>
    public static (int[] Labels, float[][] Probabilities) Predict(this TextClassifier model, IReadOnlyList<int[]> texts, int batchSize = 256)
    {
        var labels = new int[texts.Count];
        var probs = new float[texts.Count][];
        model.Module.Eval();
        LengthSortedBatches.ForEach(texts.Count, i => texts[i].Length, batchSize, idx =>
        {
            var p = Functional.Softmax(model.Logits(idx.Select(i => texts[i]).ToList())).ToArray();   // (B, labels)
            int k = model.Spec.Labels.Length;
            for (int j = 0; j < idx.Length; j++)
            {
                var row = p.AsSpan(j * k, k).ToArray();
                probs[idx[j]] = row;
                int best = 0;
                for (int c = 1; c < k; c++) if (row[c] > row[best]) best = c;
                labels[idx[j]] = best;
            }
        });
        return (labels, probs);
    }
}
