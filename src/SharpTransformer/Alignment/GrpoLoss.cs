using SharpTransformer.Autograd;
using SharpTransformer.Tensors;

namespace SharpTransformer.Alignment;

/// <summary>
/// The clipped policy-ratio objective of GRPO (DeepSeekMath, TRL's <c>GRPOTrainer._compute_loss</c>) on per-token
/// log-probabilities: with r = exp(log π − log π_old) and the group-normalised advantage A of each completion, the per-token
/// loss is −min(r·A, clip(r, 1 − ε, 1 + ε_high)·A) + β·(exp(log π_ref − log π) − (log π_ref − log π) − 1) (the k3 estimator
/// of the KL divergence to the reference), averaged as <see cref="GrpoLossKind"/> says over the completion tokens.
/// </summary>
public static class GrpoLoss
{
    /// <summary>Computes the loss of one batch of completions.</summary>
    /// <param name="logProbs">log π of each token, Float32 (B, T), differentiable (<see cref="SequenceLogProbs.PerToken"/>).</param>
    /// <param name="mask">B·T values: 1 on completion tokens, 0 elsewhere.</param>
    /// <param name="oldLogProbs">B·T log-probabilities under the policy that sampled the completions (held constant).</param>
    /// <param name="referenceLogProbs">B·T log-probabilities under the reference; null when <paramref name="beta"/> is 0.</param>
    /// <param name="advantages">One advantage per completion (B).</param>
    /// <param name="epsilon">ε: the ratio is clipped below at 1 − ε (and above at 1 + ε unless <paramref name="epsilonHigh"/>).</param>
    /// <param name="beta">Weight of the KL penalty (0: none, and no reference needed).</param>
    /// <param name="kind">How the per-token terms are averaged.</param>
    /// <param name="epsilonHigh">The upper clip 1 + ε_high (DAPO's clip-higher); null: ε.</param>
    public static GrpoLossOutput Compute(Tensor logProbs, float[] mask, float[] oldLogProbs, float[]? referenceLogProbs, float[] advantages,
        float epsilon = 0.2f, float beta = 0.04f, GrpoLossKind kind = GrpoLossKind.Grpo, float? epsilonHigh = null)
    {
        ArgumentNullException.ThrowIfNull(logProbs);
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(oldLogProbs);
        ArgumentNullException.ThrowIfNull(advantages);
        if (logProbs.Rank != 2) throw new ArgumentException($"GrpoLoss: log-probabilities must be (B, T), got {logProbs.ShapeString}.", nameof(logProbs));
        int b = logProbs.Size(0), t = logProbs.Size(1);
        void Length(float[]? a, int n, string name)
        {
            if (a is not null && a.Length != n) throw new ArgumentException($"GrpoLoss: {name} has {a.Length} values; the log-probabilities {logProbs.ShapeString} need {n}.", name);
        }
        Length(mask, b * t, nameof(mask));
        Length(oldLogProbs, b * t, nameof(oldLogProbs));
        Length(referenceLogProbs, b * t, nameof(referenceLogProbs));
        Length(advantages, b, nameof(advantages));
        float hi = epsilonHigh ?? epsilon;
        if (!(epsilon > 0f && epsilon < 1f)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "GrpoLoss: epsilon must be in (0, 1).");
        if (!(hi > 0f) || !float.IsFinite(hi)) throw new ArgumentOutOfRangeException(nameof(epsilonHigh), epsilonHigh, "GrpoLoss: epsilonHigh must be positive.");
        if (!(beta >= 0f) || !float.IsFinite(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "GrpoLoss: beta must not be negative.");
        if (beta > 0f && referenceLogProbs is null)
            throw new ArgumentException($"GrpoLoss: a KL penalty (beta = {beta}) needs the reference log-probabilities.", nameof(referenceLogProbs));

        var backend = logProbs.Backend;
        Tensor Const(float[] a, params int[] shape) => Tensor.FromArray(a, shape).To(backend);
        var m = Const(mask, b, t);                                                     // (B, T)
        var old = Const(oldLogProbs, b, t);                                            // (B, T)
        var adv = Const(advantages, b, 1);                                             // (B, 1)
        var ratio = logProbs.Sub(old).Exp();                                           // (B, T)
        var clipped = ratio.Clamp(1f - epsilon, 1f + hi);
        var perToken = ratio.Mul(adv).Minimum(clipped.Mul(adv)).Neg();                 // (B, T)
        Tensor? kl = null;
        if (beta > 0f)
        {
            var d = Const(referenceLogProbs!, b, t).Sub(logProbs);                     // log π_ref − log π
            kl = d.Exp().Sub(d).Sub(1f);                                               // (B, T) k3 ≥ 0
            perToken = perToken.Add(kl.Mul(beta));
        }
        var masked = perToken.Mul(m);
        Tensor loss;
        if (kind == GrpoLossKind.Bnpo)
            loss = masked.Sum().Mul(1f / Math.Max(1f, mask.Sum()));
        else
        {
            var inv = new float[b];                                                    // 1 / |oᵢ|
            for (int i = 0; i < b; i++)
            {
                float n = 0;
                for (int j = 0; j < t; j++) n += mask[i * t + j];
                inv[i] = 1f / Math.Max(1f, n);
            }
            loss = masked.Sum(1).Mul(Const(inv, b)).Mean();
        }

        // Metrics on the host (no graph).
        double klMean = 0, clippedCount = 0, tokens = 0;
        using (GradMode.NoGrad())
        {
            var r = ratio.ToArray();
            var k = kl?.ToArray();
            for (int i = 0; i < b; i++)
                for (int j = 0; j < t; j++)
                {
                    int e = i * t + j;
                    if (mask[e] == 0f) continue;
                    tokens += mask[e];
                    if (k is not null) klMean += k[e] * mask[e];
                    bool low = r[e] < 1f - epsilon && advantages[i] < 0f, high = r[e] > 1f + hi && advantages[i] > 0f;
                    if (low || high) clippedCount += mask[e];
                }
        }
        tokens = Math.Max(1, tokens);
        return new GrpoLossOutput(loss, klMean / tokens, clippedCount / tokens);
    }

    /// <summary>
    /// Group-normalised advantages (TRL's GRPO): each reward minus the mean of its group of <paramref name="groupSize"/>
    /// consecutive completions, divided by the group's standard deviation (unbiased, as <c>torch.std</c>) plus
    /// <paramref name="eps"/>; with <paramref name="scale"/> false only the mean is subtracted (Dr. GRPO).
    /// </summary>
    public static float[] Advantages(IReadOnlyList<double> rewards, int groupSize, double eps = 1e-4, bool scale = true)
    {
        ArgumentNullException.ThrowIfNull(rewards);
        if (groupSize < 1 || rewards.Count % groupSize != 0)
            throw new ArgumentException($"GrpoLoss.Advantages: {rewards.Count} rewards do not split into groups of {groupSize}.", nameof(groupSize));
        var a = new float[rewards.Count];
        for (int g = 0; g < rewards.Count; g += groupSize)
        {
            double mean = 0;
            for (int i = 0; i < groupSize; i++) mean += rewards[g + i];
            mean /= groupSize;
            double var = 0;
            for (int i = 0; i < groupSize; i++) var += (rewards[g + i] - mean) * (rewards[g + i] - mean);
            double std = groupSize > 1 ? Math.Sqrt(var / (groupSize - 1)) : 0;
            for (int i = 0; i < groupSize; i++) a[g + i] = (float)(scale ? (rewards[g + i] - mean) / (std + eps) : rewards[g + i] - mean);
        }
        return a;
    }
}
