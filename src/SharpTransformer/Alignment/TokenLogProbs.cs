using SharpTransformer.Tensors;

namespace SharpTransformer.Alignment;

/// <summary>
/// Log-probabilities of the completion tokens of a padded batch (<see cref="SequenceLogProbs.PerToken"/>): row b, column t
/// holds log p(token t+1 | tokens ≤ t) where token t+1 belongs to row b's completion, and 0 elsewhere (prompt and padding).
/// </summary>
/// <param name="LogProbs">Float32 (B, T), with the graph to the model's parameters when gradients are recorded.</param>
/// <param name="Mask">B·T values, 1 on completion tokens, 0 elsewhere (row-major, as <see cref="LogProbs"/>).</param>
/// <param name="CompletionLengths">Completion tokens of each row.</param>
public sealed record TokenLogProbs(Tensor LogProbs, float[] Mask, int[] CompletionLengths)
{
    /// <summary>Rows (B).</summary>
    public int Batch => LogProbs.Size(0);
    /// <summary>Columns (T): the longest prompt plus completion, less one.</summary>
    public int Length => LogProbs.Size(1);

    /// <summary>The sum over each row's completion tokens: Float32 (B), differentiable.</summary>
    public Tensor Sum() => LogProbs.Sum(1);
}
