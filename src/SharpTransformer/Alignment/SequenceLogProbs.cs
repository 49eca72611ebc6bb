using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Alignment;

/// <summary>
/// Log-probabilities of completions given their prompts under any <see cref="CausalLanguageModel"/>, batched with right
/// padding (as TRL's <c>concatenated_forward</c> and <c>_get_per_token_logps</c>): one forward pass over prompt + completion,
/// the next-token log-softmax picked at each completion token through the fused cross-entropy (prompt and padding positions
/// are ignored targets, so they add exactly 0 and get no gradient). Right padding needs no attention mask: a causal model's
/// real positions never attend to the padding after them.
/// </summary>
public static class SequenceLogProbs
{
    /// <summary>
    /// Per-token log-probabilities of each completion (B, T) with their mask; differentiable when gradients are recorded.
    /// </summary>
    /// <exception cref="ArgumentException">An empty batch, prompt or completion, or a row longer than the model's context (+1).</exception>
    public static TokenLogProbs PerToken(CausalLanguageModel model, IReadOnlyList<PromptCompletion> batch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) throw new ArgumentException("SequenceLogProbs: the batch is empty.", nameof(batch));
        int rows = batch.Count, longest = 0;
        for (int b = 0; b < rows; b++)
        {
            var (p, c) = batch[b];
            if (p is null || p.Count == 0) throw new ArgumentException($"SequenceLogProbs: row {b} has an empty prompt; give at least one token (e.g. BOS) before the completion.", nameof(batch));
            if (c is null || c.Count == 0) throw new ArgumentException($"SequenceLogProbs: row {b} has an empty completion.", nameof(batch));
            int n = p.Count + c.Count - 1;
            if (n > model.ContextLength)
                throw new ArgumentException($"SequenceLogProbs: row {b} has {p.Count} prompt + {c.Count} completion tokens; at most {model.ContextLength + 1} fit the model's context of {model.ContextLength} (truncate the prompt or the completion first).", nameof(batch));
            longest = Math.Max(longest, n);
        }
        int t = longest;
        var ids = new int[rows * t];                  // (B, T) inputs: prompt + completion without its last token, then padding
        var targets = new int[rows * t];              // (B, T) next tokens on the completion, ignored elsewhere
        var mask = new float[rows * t];
        var lengths = new int[rows];
        Array.Fill(targets, IgnoreIndex);
        for (int b = 0; b < rows; b++)
        {
            var (p, c) = batch[b];
            int o = b * t;
            for (int j = 0; j < p.Count; j++) ids[o + j] = p[j];
            for (int j = 0; j < c.Count - 1; j++) ids[o + p.Count + j] = c[j];
            for (int j = 0; j < c.Count; j++)
            {
                targets[o + p.Count - 1 + j] = c[j];
                mask[o + p.Count - 1 + j] = 1f;
            }
            lengths[b] = c.Count;
        }
        var idsT = Tensor.FromArray(ids, rows, t);
        var targetsT = Tensor.FromArray(targets, rows, t);
        if (model.Backend is { } backend) { idsT = idsT.To(backend); targetsT = targetsT.To(backend); }
        var logits = model.Forward(idsT);                                                        // (B, T, V)
        var logp = Functional.CrossEntropy(logits, targetsT, IgnoreIndex, reduction: Reduction.None).Neg();   // (B, T)
        return new TokenLogProbs(logp, mask, lengths);
    }

    /// <summary>
    /// The log-probability of each completion given its prompt, summed over the completion's tokens (or averaged over them
    /// when <paramref name="average"/>, as TRL's IPO does): Float32 (B), differentiable when gradients are recorded.
    /// </summary>
    public static Tensor Sum(CausalLanguageModel model, IReadOnlyList<PromptCompletion> batch, bool average = false)
    {
        var per = PerToken(model, batch);
        var sum = per.Sum();                                                                      // (B)
        if (!average) return sum;
        var inv = Tensor.FromArray(per.CompletionLengths.Select(n => 1f / n).ToArray());
        return sum.Mul(sum.Backend == inv.Backend ? inv : inv.To(sum.Backend));
    }

    private const int IgnoreIndex = -100;
}
