using SharpTransformer.Tensors;

namespace SharpTransformer.Generation;

/// <summary>Picks the next token from one row of logits: repetition penalty, temperature, top-k, top-p, then a seeded draw.</summary>
public static class TokenSampler
{
    /// <summary>Returns the chosen token id. <paramref name="logits"/> is used as scratch and modified.</summary>
    public static int Sample(Span<float> logits, GenerationOptions o, Generator generator, ReadOnlySpan<int> previous)
    {
        if (o.RepetitionPenalty != 1f)
            foreach (var t in previous)
            {
                if ((uint)t >= (uint)logits.Length) continue;
                float l = logits[t];
                logits[t] = l > 0 ? l / o.RepetitionPenalty : l * o.RepetitionPenalty;
            }
        if (o.Greedy) return ArgMax(logits);

        int v = logits.Length;
        var idx = new int[v];
        for (int i = 0; i < v; i++) idx[i] = i;
        float inv = 1f / o.Temperature;
        var scaled = new float[v];
        for (int i = 0; i < v; i++) scaled[i] = logits[i] * inv;
        // Sort by logit, descending (ties by id for determinism).
        Array.Sort(idx, (a, b) => scaled[b] != scaled[a] ? scaled[b].CompareTo(scaled[a]) : a.CompareTo(b));
        int keep = o.TopK > 0 ? Math.Min(o.TopK, v) : v;
        float max = scaled[idx[0]];
        var probs = new double[keep];
        double sum = 0;
        for (int r = 0; r < keep; r++) { probs[r] = Math.Exp(scaled[idx[r]] - max); sum += probs[r]; }
        if (o.TopP < 1f)
        {
            double cum = 0;
            int cut = keep;
            for (int r = 0; r < keep; r++)
            {
                cum += probs[r] / sum;
                if (cum >= o.TopP) { cut = r + 1; break; }
            }
            keep = cut;
            sum = 0;
            for (int r = 0; r < keep; r++) sum += probs[r];
        }
        double u = generator.NextFloat() * sum;
        for (int r = 0; r < keep; r++)
        {
            u -= probs[r];
            if (u < 0) return idx[r];
        }
        return idx[keep - 1];
    }

    /// <summary>Index of the largest value (first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
