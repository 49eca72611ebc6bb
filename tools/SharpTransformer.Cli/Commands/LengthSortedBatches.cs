using SharpTransformer.Autograd;
using SharpTransformer.Tensors;

namespace SharpTransformer.Cli.Commands;

/// <summary>Inference over many inputs in batches of similar length, as <c>classify</c> and <c>ner</c> evaluate and predict.</summary>
internal static class LengthSortedBatches
{
    /// <summary>
    /// Calls <paramref name="batch"/> with the indices of up to <paramref name="batchSize"/> of the <paramref name="count"/> inputs
    /// at a time, shortest first (sorting by length keeps padding small), without gradients, each batch in its own tensor scope.
    /// </summary>
    public static void ForEach(int count, Func<int, int> length, int batchSize, Action<int[]> batch)
    {
        using var _ = GradMode.NoGrad();
        var order = Enumerable.Range(0, count).OrderBy(length).ToArray();
        for (int s = 0; s < order.Length; s += batchSize)
        {
            using var scope = TensorScope.Begin();
            batch(order.Skip(s).Take(batchSize).ToArray());
        }
    }
}
