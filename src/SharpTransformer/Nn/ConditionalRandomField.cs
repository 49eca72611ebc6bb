using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// A linear-chain conditional random field over <see cref="NumTags"/> tags, the usual head on top of a token
/// classifier for named-entity recognition (as pytorch-crf's <c>CRF</c>). A path y scores
/// <c>start[y0] + Σ_t emissions[t, y_t] + Σ_t transitions[y_(t-1), y_t] + end[y_(L-1)]</c>, and the model is
/// <c>p(y | x) = exp(score(y)) / Σ_y' exp(score(y'))</c>.
/// <para>
/// Both the loss and decoding run on the host in double precision: emissions are downloaded, the forward algorithm
/// works in log space with max subtraction, and the exact gradient comes from forward-backward marginals
/// (∂/∂emissions = marginal − one-hot gold, ∂/∂transitions = expected − gold transition counts, likewise start and end),
/// recorded as one autograd op whose inputs are the emissions and the three parameters.
/// </para>
/// <para>
/// With tag names in BIO/IOB2 (<c>O</c>, <c>B-X</c>, <c>I-X</c>) and constraints on, the transitions O→I-X, B-X→I-Y,
/// I-X→I-Y (X ≠ Y) and start→I-X get <see cref="ForbiddenScore"/> added in both the loss and Viterbi decoding, so decoded
/// paths are always valid BIO sequences.
/// </para>
/// </summary>
public sealed class ConditionalRandomField : Module
{
    /// <summary>The score added to a forbidden transition (finite, so log-space sums stay exact and NaN-free).</summary>
    public const float ForbiddenScore = -10000f;

    private readonly double[] _transitionPenalty;   // (K, K) [from, to]: 0 or ForbiddenScore
    private readonly double[] _startPenalty;        // (K)

    /// <summary>An unconstrained CRF; parameters start uniform in [-0.1, 0.1) (as pytorch-crf).</summary>
    /// <param name="numTags">Number of tags K.</param>
    /// <param name="generator">Random source of the initial parameters; null for seed 0.</param>
    public ConditionalRandomField(int numTags, Generator? generator = null)
        : this(numTags, null, false, generator) { }

    /// <summary>A CRF over named BIO/IOB2 tags (<c>O</c>, <c>B-X</c>, <c>I-X</c>), by default constrained to valid BIO paths.</summary>
    /// <param name="tagNames">The tag of each id.</param>
    /// <param name="constrainBio">Forbid O→I-X, B-X→I-Y, I-X→I-Y (X ≠ Y) and start→I-X.</param>
    /// <param name="generator">Random source of the initial parameters; null for seed 0.</param>
    /// <exception cref="ArgumentException">With constraints, a tag that is not <c>O</c>, <c>B-X</c> or <c>I-X</c>.</exception>
    public ConditionalRandomField(IReadOnlyList<string> tagNames, bool constrainBio = true, Generator? generator = null)
        : this(tagNames.Count, tagNames, constrainBio, generator) { }

    private ConditionalRandomField(int numTags, IReadOnlyList<string>? tagNames, bool constrain, Generator? generator)
    {
        if (numTags < 1) throw new ArgumentOutOfRangeException(nameof(numTags), numTags, "CRF: at least one tag is needed.");
        NumTags = numTags;
        TagNames = tagNames?.ToArray();
        var g = generator ?? new Generator(0);
        Transitions = RegisterParameter("transitions", Tensor.Rand([numTags, numTags], g, -0.1f, 0.1f));
        Start = RegisterParameter("start", Tensor.Rand([numTags], g, -0.1f, 0.1f));
        End = RegisterParameter("end", Tensor.Rand([numTags], g, -0.1f, 0.1f));
        _transitionPenalty = new double[numTags * numTags];
        _startPenalty = new double[numTags];
        if (constrain && tagNames is not null)
        {
            IsConstrained = true;
            var parsed = tagNames.Select(ParseBio).ToArray();
            for (int to = 0; to < numTags; to++)
            {
                if (parsed[to].Prefix != 'I') continue;
                _startPenalty[to] = ForbiddenScore;
                for (int from = 0; from < numTags; from++)
                    if (parsed[from].Prefix == 'O' || parsed[from].Type != parsed[to].Type)
                        _transitionPenalty[from * numTags + to] = ForbiddenScore;
            }
        }
    }

    private static (char Prefix, string Type) ParseBio(string tag)
    {
        if (tag == "O") return ('O', "");
        if (tag.Length > 2 && (tag[0] == 'B' || tag[0] == 'I') && tag[1] == '-') return (tag[0], tag[2..]);
        throw new ArgumentException($"CRF: tag '{tag}' is not BIO/IOB2 (expected O, B-TYPE or I-TYPE); pass constrainBio: false for other schemes.", "tagNames");
    }

    /// <summary>Number of tags K.</summary>
    public int NumTags { get; }

    /// <summary>The tag names given to the constructor, or null.</summary>
    public IReadOnlyList<string>? TagNames { get; }

    /// <summary>True when BIO constraints are applied.</summary>
    public bool IsConstrained { get; }

    /// <summary>(K, K) transition scores, [from, to].</summary>
    public Tensor Transitions { get; }

    /// <summary>(K) scores of starting a sequence in each tag.</summary>
    public Tensor Start { get; }

    /// <summary>(K) scores of ending a sequence in each tag.</summary>
    public Tensor End { get; }

    /// <summary>True unless the constraints forbid the transition <paramref name="from"/> → <paramref name="to"/>.</summary>
    public bool IsAllowed(int from, int to) => _transitionPenalty[from * NumTags + to] == 0;

    /// <summary>True unless the constraints forbid starting in <paramref name="tag"/>.</summary>
    public bool IsAllowedStart(int tag) => _startPenalty[tag] == 0;

    /// <summary>
    /// The negative log-likelihood of the gold tags: <c>log Z − score(gold)</c> per sequence, reduced.
    /// </summary>
    /// <param name="emissions">(B, T, K) Float32 per-token tag scores (the classifier's logits).</param>
    /// <param name="tags">(B, T) Int32 gold tag ids; positions beyond a sequence's length are ignored (any value, for example -100).</param>
    /// <param name="mask">(B, T) Int32 or Float32, nonzero for real tokens, left-aligned (ones then zeros) with the first
    /// position on; null when every sequence has length T.</param>
    /// <param name="reduction"><see cref="Reduction.Mean"/>: mean over the B sequences (pytorch-crf's <c>'mean'</c>);
    /// <see cref="Reduction.Sum"/>: sum; <see cref="Reduction.None"/>: (B) per-sequence losses.</param>
    /// <exception cref="ArgumentException">Shapes, types, a mask that is not left-aligned, or a gold tag out of range.</exception>
    public Tensor NegativeLogLikelihood(Tensor emissions, Tensor tags, Tensor? mask = null, Reduction reduction = Reduction.Mean)
        => NegativeLogLikelihood(emissions, tags, mask, Transitions, Start, End, reduction);

    // The op itself, with the parameters as explicit inputs (the gradient tests perturb them).
    internal Tensor NegativeLogLikelihood(Tensor emissions, Tensor tags, Tensor? mask, Tensor transitions, Tensor start, Tensor end, Reduction reduction)
    {
        const string op = "crf_nll";
        var (b, t, k) = CheckEmissions(emissions, op);
        if (tags.DType != DType.Int32) throw new ArgumentException($"{op}: tags must be Int32 tag ids, got {tags.DType} {tags.ShapeString}.");
        if (tags.Rank != 2 || tags.Size(0) != b || tags.Size(1) != t)
            throw new ArgumentException($"{op}: tags {tags.ShapeString} must be ({b}, {t}) to match emissions {emissions.ShapeString}.");
        var lengths = Lengths(mask, b, t, op);
        var e = emissions.ToArray();
        var y = tags.ToIntArray();
        for (int s = 0; s < b; s++)
            for (int i = 0; i < lengths[s]; i++)
                if ((uint)y[s * t + i] >= (uint)k)
                    throw new ArgumentException($"{op}: tags[{s}, {i}] = {y[s * t + i]} is not a tag id in [0, {k}) (position {i} is inside the mask, length {lengths[s]}).");
        var (tr, st, en) = HostParameters(transitions, start, end);

        var nll = new double[b];
        for (int s = 0; s < b; s++)
        {
            var em = e.AsSpan(s * t * k, lengths[s] * k);
            var gold = y.AsSpan(s * t, lengths[s]);
            nll[s] = LogPartition(em, tr, st, en, k) - GoldScore(em, gold, tr, st, en, k);
        }

        Tensor output;
        if (reduction == Reduction.None) output = Upload(nll.Select(v => (float)v).ToArray(), [b], emissions);
        else
        {
            double sum = nll.Sum();
            output = Upload([(float)(reduction == Reduction.Mean ? sum / b : sum)], [], emissions);
        }

        return output.Record(op, [emissions, transitions, start, end], g =>
        {
            var gh = g.ToArray();
            var dE = new float[e.Length];
            var dTr = new double[k * k];
            var dSt = new double[k];
            var dEn = new double[k];
            for (int s = 0; s < b; s++)
            {
                double scale = reduction switch { Reduction.None => gh[s], Reduction.Sum => gh[0], _ => gh[0] / b };
                AccumulateGradient(e.AsSpan(s * t * k, lengths[s] * k), y.AsSpan(s * t, lengths[s]), tr, st, en, k, scale,
                    dE.AsSpan(s * t * k, lengths[s] * k), dTr, dSt, dEn);
            }
            return
            [
                Upload(dE, emissions.Shape.ToArray(), emissions),
                Upload(ToFloat(dTr), [k, k], transitions),
                Upload(ToFloat(dSt), [k], start),
                Upload(ToFloat(dEn), [k], end),
            ];
        });
    }

    /// <summary>The highest-scoring tag path of each sequence (Viterbi), constraints applied.</summary>
    /// <param name="emissions">(B, T, K) Float32 tag scores.</param>
    /// <param name="mask">(B, T), nonzero for real tokens, left-aligned; null for full length.</param>
    /// <returns>For each sequence, its tag ids, as many as its mask length.</returns>
    public int[][] Decode(Tensor emissions, Tensor? mask = null)
    {
        var (b, t, k) = CheckEmissions(emissions, "crf_decode");
        var lengths = Lengths(mask, b, t, "crf_decode");
        var e = emissions.ToArray();
        var (tr, st, en) = HostParameters(Transitions, Start, End);
        var paths = new int[b][];
        for (int s = 0; s < b; s++) paths[s] = Viterbi(e.AsSpan(s * t * k, lengths[s] * k), tr, st, en, k);
        return paths;
    }

    private (int B, int T, int K) CheckEmissions(Tensor emissions, string op)
    {
        emissions.RequireFloat(op);
        if (emissions.Rank != 3 || emissions.Size(2) != NumTags)
            throw new ArgumentException($"{op}: emissions must be (batch, time, {NumTags}) for a CRF over {NumTags} tags, got {emissions.ShapeString}.");
        if (emissions.Size(0) < 1 || emissions.Size(1) < 1)
            throw new ArgumentException($"{op}: emissions {emissions.ShapeString} must have at least one sequence and one time step.");
        return (emissions.Size(0), emissions.Size(1), NumTags);
    }

    private static int[] Lengths(Tensor? mask, int b, int t, string op)
    {
        var lengths = new int[b];
        if (mask is null) { Array.Fill(lengths, t); return lengths; }
        if (mask.Rank != 2 || mask.Size(0) != b || mask.Size(1) != t)
            throw new ArgumentException($"{op}: mask {mask.ShapeString} must be ({b}, {t}).");
        var m = mask.DType == DType.Int32 ? mask.ToIntArray().Select(v => v != 0).ToArray() : mask.ToArray().Select(v => v != 0f).ToArray();
        for (int s = 0; s < b; s++)
        {
            int len = 0;
            while (len < t && m[s * t + len]) len++;
            for (int i = len; i < t; i++)
                if (m[s * t + i]) throw new ArgumentException($"{op}: mask row {s} is not left-aligned (position {i} is on after position {len} is off); padding must come last.");
            if (len == 0) throw new ArgumentException($"{op}: mask row {s} is empty; every sequence needs its first position on.");
            lengths[s] = len;
        }
        return lengths;
    }

    private (double[] Tr, double[] St, double[] En) HostParameters(Tensor transitions, Tensor start, Tensor end)
    {
        int k = NumTags;
        if (!transitions.Shape.SequenceEqual([k, k]) || !start.Shape.SequenceEqual([k]) || !end.Shape.SequenceEqual([k]))
            throw new ArgumentException($"crf: parameters {transitions.ShapeString}, {start.ShapeString}, {end.ShapeString} must be ({k}, {k}), ({k}), ({k}).");
        var tr = transitions.ToArray().Select((v, i) => v + _transitionPenalty[i]).ToArray();
        var st = start.ToArray().Select((v, i) => v + _startPenalty[i]).ToArray();
        var en = end.ToArray().Select(v => (double)v).ToArray();
        return (tr, st, en);
    }

    private static Tensor Upload(float[] data, int[] shape, Tensor like)
    {
        var r = Tensor.Empty(like.Backend, DType.Float32, shape);
        like.Backend.Upload(data, 0, r.Storage, 0, data.Length);
        return r;
    }

    private static float[] ToFloat(double[] a) => a.Select(v => (float)v).ToArray();

    private static double LogSumExp(ReadOnlySpan<double> v)
    {
        double max = double.NegativeInfinity;
        foreach (var x in v) if (x > max) max = x;
        if (double.IsNegativeInfinity(max)) return max;
        double s = 0;
        foreach (var x in v) s += Math.Exp(x - max);
        return max + Math.Log(s);
    }

    private static double GoldScore(ReadOnlySpan<float> em, ReadOnlySpan<int> y, double[] tr, double[] st, double[] en, int k)
    {
        double s = st[y[0]] + em[y[0]];
        for (int i = 1; i < y.Length; i++) s += tr[y[i - 1] * k + y[i]] + em[i * k + y[i]];
        return s + en[y[^1]];
    }

    // alpha[t, j] = log Σ over paths ending in j at t of exp(score so far).
    private static double[] Alpha(ReadOnlySpan<float> em, double[] tr, double[] st, int k, int len)
    {
        var alpha = new double[len * k];
        Span<double> terms = stackalloc double[k];
        for (int j = 0; j < k; j++) alpha[j] = st[j] + em[j];
        for (int t = 1; t < len; t++)
            for (int j = 0; j < k; j++)
            {
                for (int i = 0; i < k; i++) terms[i] = alpha[(t - 1) * k + i] + tr[i * k + j];
                alpha[t * k + j] = LogSumExp(terms) + em[t * k + j];
            }
        return alpha;
    }

    private static double LogPartition(ReadOnlySpan<float> em, double[] tr, double[] st, double[] en, int k)
    {
        int len = em.Length / k;
        var alpha = Alpha(em, tr, st, k, len);
        Span<double> terms = stackalloc double[k];
        for (int j = 0; j < k; j++) terms[j] = alpha[(len - 1) * k + j] + en[j];
        return LogSumExp(terms);
    }

    // Adds scale · (marginals − gold indicators) for one sequence.
    private static void AccumulateGradient(ReadOnlySpan<float> em, ReadOnlySpan<int> y, double[] tr, double[] st, double[] en, int k,
        double scale, Span<float> dE, double[] dTr, double[] dSt, double[] dEn)
    {
        int len = em.Length / k;
        var alpha = Alpha(em, tr, st, k, len);
        var beta = new double[len * k];
        Span<double> terms = stackalloc double[k];
        for (int i = 0; i < k; i++) beta[(len - 1) * k + i] = en[i];
        for (int t = len - 2; t >= 0; t--)
            for (int i = 0; i < k; i++)
            {
                for (int j = 0; j < k; j++) terms[j] = tr[i * k + j] + em[(t + 1) * k + j] + beta[(t + 1) * k + j];
                beta[t * k + i] = LogSumExp(terms);
            }
        for (int j = 0; j < k; j++) terms[j] = alpha[(len - 1) * k + j] + en[j];
        double logZ = LogSumExp(terms);

        for (int t = 0; t < len; t++)
            for (int j = 0; j < k; j++)
            {
                double p = Math.Exp(alpha[t * k + j] + beta[t * k + j] - logZ);
                double grad = p - (y[t] == j ? 1 : 0);
                dE[t * k + j] += (float)(scale * grad);
                if (t == 0) dSt[j] += scale * grad;
                if (t == len - 1) dEn[j] += scale * grad;
            }
        for (int t = 1; t < len; t++)
        {
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                    dTr[i * k + j] += scale * Math.Exp(alpha[(t - 1) * k + i] + tr[i * k + j] + em[t * k + j] + beta[t * k + j] - logZ);
            dTr[y[t - 1] * k + y[t]] -= scale;
        }
    }

    private static int[] Viterbi(ReadOnlySpan<float> em, double[] tr, double[] st, double[] en, int k)
    {
        int len = em.Length / k;
        var score = new double[k];
        var next = new double[k];
        var back = new int[len * k];
        for (int j = 0; j < k; j++) score[j] = st[j] + em[j];
        for (int t = 1; t < len; t++)
        {
            for (int j = 0; j < k; j++)
            {
                int best = 0;
                double bestScore = double.NegativeInfinity;
                for (int i = 0; i < k; i++)
                {
                    double s = score[i] + tr[i * k + j];
                    if (s > bestScore) { bestScore = s; best = i; }
                }
                next[j] = bestScore + em[t * k + j];
                back[t * k + j] = best;
            }
            (score, next) = (next, score);
        }
        int last = 0;
        double lastScore = double.NegativeInfinity;
        for (int j = 0; j < k; j++)
            if (score[j] + en[j] > lastScore) { lastScore = score[j] + en[j]; last = j; }
        var path = new int[len];
        path[len - 1] = last;
        for (int t = len - 1; t > 0; t--) path[t - 1] = back[t * k + path[t]];
        return path;
    }
}
