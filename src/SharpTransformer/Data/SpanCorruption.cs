using SharpTransformer.Tensors;

namespace SharpTransformer.Data;

/// <summary>
/// T5's span-corruption pretraining objective (Raffel et al., <c>random_spans_noise_mask</c> in the T5 code): about
/// <see cref="NoiseDensity"/> of the tokens, in spans of mean length <see cref="MeanSpanLength"/>, are dropped from the input,
/// each span replaced by one sentinel; the target lists the dropped spans, each after its sentinel. Sentinels count down from
/// <see cref="FirstSentinelId"/> (<c>&lt;extra_id_0&gt;</c>, the last id of T5's vocabulary; <c>&lt;extra_id_1&gt;</c> is the
/// one below, ...). The sequence starts with a kept span and ends with a noise span, as in T5.
/// </summary>
public sealed class SpanCorruption
{
    /// <summary>Creates the objective.</summary>
    /// <param name="firstSentinelId">The id of <c>&lt;extra_id_0&gt;</c> (T5: the tokenizer's vocabulary size - 1, 32099).</param>
    /// <param name="noiseDensity">Fraction of tokens to drop (0.15).</param>
    /// <param name="meanSpanLength">Mean length of a dropped span (3).</param>
    /// <param name="eosTokenId">Appended to inputs and targets when not null (Hugging Face's T5 pretraining script does).</param>
    public SpanCorruption(int firstSentinelId, double noiseDensity = 0.15, double meanSpanLength = 3.0, int? eosTokenId = null)
    {
        if (firstSentinelId <= 0) throw new ArgumentOutOfRangeException(nameof(firstSentinelId), firstSentinelId, "SpanCorruption: the first sentinel id must be positive.");
        if (!(noiseDensity > 0 && noiseDensity < 1)) throw new ArgumentOutOfRangeException(nameof(noiseDensity), noiseDensity, "SpanCorruption: the noise density must be in (0, 1).");
        if (!(meanSpanLength >= 1)) throw new ArgumentOutOfRangeException(nameof(meanSpanLength), meanSpanLength, "SpanCorruption: the mean span length must be at least 1.");
        FirstSentinelId = firstSentinelId;
        NoiseDensity = noiseDensity;
        MeanSpanLength = meanSpanLength;
        EosTokenId = eosTokenId;
    }

    /// <summary>The id of <c>&lt;extra_id_0&gt;</c>; span k gets <c>FirstSentinelId - k</c>.</summary>
    public int FirstSentinelId { get; }
    /// <summary>Fraction of tokens dropped.</summary>
    public double NoiseDensity { get; }
    /// <summary>Mean length of a dropped span.</summary>
    public double MeanSpanLength { get; }
    /// <summary>Appended to inputs and targets, or null.</summary>
    public int? EosTokenId { get; }

    /// <summary>
    /// The noise mask of a sequence of <paramref name="length"/> tokens (true = dropped), as T5's <c>random_spans_noise_mask</c>:
    /// round(length · density) noise tokens (at least 1, at most length - 1) in round(noise / mean span) spans (at least 1), the
    /// noise and the kept tokens each split into that many non-empty spans at random, kept and noise spans alternating.
    /// </summary>
    public bool[] NoiseMask(int length, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), length, "SpanCorruption.NoiseMask: the length must be positive.");
        int orig = length;
        length = Math.Max(length, 2);
        int noise = (int)Math.Round(length * NoiseDensity, MidpointRounding.ToEven);
        noise = Math.Min(Math.Max(noise, 1), length - 1);
        int spans = Math.Max((int)Math.Round(noise / MeanSpanLength, MidpointRounding.ToEven), 1);
        spans = Math.Min(spans, length - noise);   // every kept span non-empty (only binds at densities far above T5's)
        var noiseLengths = RandomSegmentation(noise, spans, generator);
        var keptLengths = RandomSegmentation(length - noise, spans, generator);
        var mask = new bool[length];
        int at = 0;
        for (int s = 0; s < spans; s++)
        {
            at += keptLengths[s];
            for (int j = 0; j < noiseLengths[s]; j++) mask[at++] = true;
        }
        return mask.AsSpan(0, orig).ToArray();
    }

    // T5's _random_segmentation: items split into `segments` non-empty runs, boundaries shuffled uniformly (a Fisher-Yates shuffle
    // of (items - 1) flags of which segments - 1 are set).
    private static int[] RandomSegmentation(int items, int segments, Generator g)
    {
        segments = Math.Min(segments, items);
        var first = new bool[items];
        for (int i = 0; i < items - 1; i++) first[i + 1] = i < segments - 1;
        for (int i = items - 1; i > 1; i--)
        {
            int j = 1 + g.NextInt(i);   // shuffle positions 1 .. items - 1
            (first[i], first[j]) = (first[j], first[i]);
        }
        var lengths = new int[segments];
        int seg = 0;
        for (int i = 0; i < items; i++)
        {
            if (i > 0 && first[i]) seg++;
            lengths[seg]++;
        }
        return lengths;
    }

    /// <summary>
    /// Corrupts <paramref name="tokens"/>: the input keeps the unmasked tokens with one sentinel per dropped span; the target is
    /// every dropped span after its sentinel (T5's <c>noise_span_to_unique_sentinel</c> and <c>nonnoise_span_to_unique_sentinel</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The sequence is empty or holds a sentinel id.</exception>
    public (int[] Inputs, int[] Targets) Corrupt(IReadOnlyList<int> tokens, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Count == 0) throw new ArgumentException("SpanCorruption.Corrupt: the sequence is empty.", nameof(tokens));
        var mask = NoiseMask(tokens.Count, generator);
        int spans = 0;
        for (int i = 0; i < mask.Length; i++) if (mask[i] && (i == 0 || !mask[i - 1])) spans++;
        var inputs = new List<int>();
        var targets = new List<int>();
        int span = -1;
        for (int i = 0; i < tokens.Count; i++)
        {
            if (tokens[i] <= FirstSentinelId && tokens[i] > FirstSentinelId - spans)
                throw new ArgumentException($"SpanCorruption.Corrupt: token {i} is {tokens[i]}, one of the sentinel ids this sequence needs " +
                    $"({FirstSentinelId - spans + 1}..{FirstSentinelId}, counting down from <extra_id_0>).", nameof(tokens));
            bool start = mask[i] && (i == 0 || !mask[i - 1]);
            if (start) span++;
            if (mask[i])
            {
                if (start) { inputs.Add(FirstSentinelId - span); targets.Add(FirstSentinelId - span); }
                targets.Add(tokens[i]);
            }
            else inputs.Add(tokens[i]);
        }
        if (EosTokenId is { } eos) { inputs.Add(eos); targets.Add(eos); }
        return (inputs.ToArray(), targets.ToArray());
    }

    /// <summary>
    /// The original sequence from a corrupted pair: each sentinel of <paramref name="inputs"/> replaced by the tokens that follow
    /// the same sentinel in <paramref name="targets"/> (a trailing end-of-sequence id dropped). Sentinels are read in order:
    /// <c>&lt;extra_id_0&gt;</c>, then <c>&lt;extra_id_1&gt;</c>, ...
    /// </summary>
    /// <exception cref="ArgumentException">A sentinel of the inputs has no span in the targets.</exception>
    public int[] Reconstruct(IReadOnlyList<int> inputs, IReadOnlyList<int> targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        var spans = new List<List<int>>();
        foreach (var t in WithoutEos(targets))
        {
            if (t == FirstSentinelId - spans.Count) spans.Add([]);
            else if (spans.Count > 0) spans[^1].Add(t);
            else throw new ArgumentException($"SpanCorruption.Reconstruct: the targets must start with <extra_id_0> ({FirstSentinelId}), got {t}.");
        }
        var r = new List<int>();
        int next = 0;
        foreach (var t in WithoutEos(inputs))
        {
            if (t == FirstSentinelId - next)
            {
                if (next >= spans.Count) throw new ArgumentException($"SpanCorruption.Reconstruct: sentinel {t} of the inputs has no span in the targets.");
                r.AddRange(spans[next++]);
            }
            else r.Add(t);
        }
        return r.ToArray();
    }

    private IEnumerable<int> WithoutEos(IReadOnlyList<int> x) =>
        EosTokenId is { } eos && x.Count > 0 && x[^1] == eos ? x.Take(x.Count - 1) : x;
}
