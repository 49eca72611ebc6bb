using SharpTransformer.Tensors;

namespace SharpTransformer.Data;

/// <summary>
/// BART's text-infilling noise (Lewis et al.; fairseq's <c>DenoisingDataset</c> with <c>mask_length span-poisson</c>,
/// <c>replace_length 1</c>): span lengths are drawn from Poisson(<see cref="PoissonLambda"/>) until they cover
/// ⌈<see cref="NoiseDensity"/> · n⌉ tokens (the last one cut to fit); each span is replaced by one mask token, and a span of length
/// 0 inserts a mask token. Spans do not overlap and sit at random places. The model learns to rebuild the original sequence,
/// which is the target.
/// </summary>
public sealed class TextInfilling
{
    /// <summary>Creates the noise.</summary>
    /// <param name="maskTokenId">The id of <c>&lt;mask&gt;</c>.</param>
    /// <param name="noiseDensity">Fraction of tokens masked (0.3 in BART).</param>
    /// <param name="poissonLambda">Mean span length (3 in BART).</param>
    public TextInfilling(int maskTokenId, double noiseDensity = 0.3, double poissonLambda = 3.0)
    {
        if (maskTokenId < 0) throw new ArgumentOutOfRangeException(nameof(maskTokenId), maskTokenId, "TextInfilling: the mask id must be non-negative.");
        if (!(noiseDensity > 0 && noiseDensity < 1)) throw new ArgumentOutOfRangeException(nameof(noiseDensity), noiseDensity, "TextInfilling: the noise density must be in (0, 1).");
        if (!(poissonLambda > 0 && poissonLambda < 100)) throw new ArgumentOutOfRangeException(nameof(poissonLambda), poissonLambda, "TextInfilling: lambda must be in (0, 100).");
        MaskTokenId = maskTokenId;
        NoiseDensity = noiseDensity;
        PoissonLambda = poissonLambda;
    }

    /// <summary>The mask token id.</summary>
    public int MaskTokenId { get; }
    /// <summary>Fraction of tokens masked.</summary>
    public double NoiseDensity { get; }
    /// <summary>Mean span length.</summary>
    public double PoissonLambda { get; }

    /// <summary>
    /// The span lengths for a sequence of <paramref name="length"/> tokens: Poisson draws until their sum reaches
    /// ⌈density · length⌉, the last cut so the sum is exactly that. Zero-length spans are insertions.
    /// </summary>
    public int[] SpanLengths(int length, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        int toMask = (int)Math.Ceiling(length * NoiseDensity);
        var spans = new List<int>();
        int sum = 0;
        while (sum < toMask)
        {
            int l = Poisson(generator);
            if (sum + l > toMask) l = toMask - sum;
            spans.Add(l);
            sum += l;
        }
        return spans.ToArray();
    }

    // Knuth's multiplication method (fine for small lambda).
    private int Poisson(Generator g)
    {
        double limit = Math.Exp(-PoissonLambda), p = 1;
        int k = 0;
        do { k++; p *= g.NextFloat(); } while (p > limit);
        return k - 1;
    }

    /// <summary>
    /// The noised input of <paramref name="tokens"/> (the target is <paramref name="tokens"/> itself): the kept tokens in order, with
    /// one mask token where each span was. The kept tokens are split into (spans + 1) runs at uniformly random places.
    /// </summary>
    /// <exception cref="ArgumentException">The sequence is empty or already holds the mask id.</exception>
    public int[] Noise(IReadOnlyList<int> tokens, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(generator);
        if (tokens.Count == 0) throw new ArgumentException("TextInfilling.Noise: the sequence is empty.", nameof(tokens));
        int at = tokens.IndexOf(MaskTokenId);
        if (at >= 0) throw new ArgumentException($"TextInfilling.Noise: token {at} is already the mask id {MaskTokenId}.", nameof(tokens));
        var spans = SpanLengths(tokens.Count, generator);
        int kept = tokens.Count - spans.Sum();
        // Gaps before each span and after the last: a uniform composition of `kept` into spans + 1 parts (sorted cut points).
        var cuts = new int[spans.Length];
        for (int i = 0; i < cuts.Length; i++) cuts[i] = generator.NextInt(kept + 1);
        Array.Sort(cuts);
        var r = new List<int>(kept + spans.Length);
        int src = 0, prev = 0;
        for (int s = 0; s < spans.Length; s++)
        {
            for (int j = 0; j < cuts[s] - prev; j++) r.Add(tokens[src++]);
            prev = cuts[s];
            r.Add(MaskTokenId);
            src += spans[s];
        }
        while (src < tokens.Count) r.Add(tokens[src++]);
        return r.ToArray();
    }
}

file static class ListExtensions
{
    public static int IndexOf(this IReadOnlyList<int> list, int value)
    {
        for (int i = 0; i < list.Count; i++) if (list[i] == value) return i;
        return -1;
    }
}
