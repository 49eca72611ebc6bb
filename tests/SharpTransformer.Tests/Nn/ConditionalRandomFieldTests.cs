using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;
using SharpTransformer.Tests.Autograd;
using static SharpTransformer.Tests.Autograd.GradCheck;

namespace SharpTransformer.Tests.Nn;

/// <summary>
/// The linear-chain CRF against brute-force enumeration of every path (loss and Viterbi), its gradient against
/// central finite differences, BIO constraints, and a toy training run.
/// </summary>
public sealed class ConditionalRandomFieldTests
{
    private static readonly string[] Bio = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];

    /// <summary>A random CRF instance with parameters in [-1, 1] so transitions matter.</summary>
    private static ConditionalRandomField Crf(int k, Random rng, IReadOnlyList<string>? names = null)
    {
        var crf = names is null ? new ConditionalRandomField(k) : new ConditionalRandomField(names);
        crf.Transitions.Detach().CopyFrom(Tensor.FromArray(Values(rng, k * k, -1, 1), k, k));
        crf.Start.Detach().CopyFrom(Tensor.FromArray(Values(rng, k, -1, 1), k));
        crf.End.Detach().CopyFrom(Tensor.FromArray(Values(rng, k, -1, 1), k));
        return crf;
    }

    private static (double[] Tr, double[] St, double[] En) Effective(ConditionalRandomField crf)
    {
        int k = crf.NumTags;
        var tr = crf.Transitions.ToArray().Select((v, i) => v + (crf.IsAllowed(i / k, i % k) ? 0.0 : ConditionalRandomField.ForbiddenScore)).ToArray();
        var st = crf.Start.ToArray().Select((v, i) => v + (crf.IsAllowedStart(i) ? 0.0 : ConditionalRandomField.ForbiddenScore)).ToArray();
        return (tr, st, crf.End.ToArray().Select(v => (double)v).ToArray());
    }

    private static IEnumerable<int[]> AllPaths(int k, int len)
    {
        var p = new int[len];
        for (long n = 0, total = (long)Math.Pow(k, len); n < total; n++)
        {
            long r = n;
            for (int i = len - 1; i >= 0; i--) { p[i] = (int)(r % k); r /= k; }
            yield return p;
        }
    }

    private static double Score(ConditionalRandomField crf, float[] e, int seq, int t, int[] path)
    {
        var (tr, st, en) = Effective(crf);
        int k = crf.NumTags, o = seq * t * k;
        double s = st[path[0]] + e[o + path[0]] + en[path[^1]];
        for (int i = 1; i < path.Length; i++) s += tr[path[i - 1] * k + path[i]] + e[o + i * k + path[i]];
        return s;
    }

    private static double BruteNll(ConditionalRandomField crf, float[] e, int seq, int t, int len, int[] gold)
    {
        var scores = AllPaths(crf.NumTags, len).Select(p => Score(crf, e, seq, t, p)).ToArray();
        double max = scores.Max();
        double logZ = max + Math.Log(scores.Sum(s => Math.Exp(s - max)));
        return logZ - Score(crf, e, seq, t, gold[..len]);
    }

    private static int[] BruteBest(ConditionalRandomField crf, float[] e, int seq, int t, int len)
    {
        int[]? best = null;
        double bestScore = double.NegativeInfinity;
        foreach (var p in AllPaths(crf.NumTags, len))
        {
            double s = Score(crf, e, seq, t, p);
            if (s > bestScore) { bestScore = s; best = (int[])p.Clone(); }
        }
        return best!;
    }

    private static Tensor Mask(int[] lengths, int t) =>
        Tensor.FromArray(lengths.SelectMany(l => Enumerable.Range(0, t).Select(i => i < l ? 1 : 0)).ToArray(), lengths.Length, t);

    /// <summary>A random tag path that the CRF's constraints allow (any path when unconstrained).</summary>
    private static int[] ValidPath(ConditionalRandomField crf, Random rng, int len)
    {
        var p = new int[len];
        for (int i = 0; i < len; i++)
        {
            var ok = Enumerable.Range(0, crf.NumTags).Where(j => i == 0 ? crf.IsAllowedStart(j) : crf.IsAllowed(p[i - 1], j)).ToArray();
            p[i] = ok[rng.Next(ok.Length)];
        }
        return p;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NllEqualsBruteForceOverAllPathsWithMasks(bool constrained)
    {
        var rng = new Random(7);
        int k = constrained ? 5 : 3, t = 4;
        int[] lengths = [4, 2, 1, 3];
        var crf = Crf(k, rng, constrained ? Bio : null);
        var e = Values(rng, lengths.Length * t * k, -2, 2);
        var gold = lengths.SelectMany(l => ValidPath(crf, rng, t).Select((g, i) => i < l ? g : -100)).ToArray();
        var emissions = Tensor.FromArray(e, lengths.Length, t, k);
        var tags = Tensor.FromArray(gold, lengths.Length, t);
        var perSeq = crf.NegativeLogLikelihood(emissions, tags, Mask(lengths, t), Reduction.None).ToArray();
        double total = 0;
        for (int s = 0; s < lengths.Length; s++)
        {
            double want = BruteNll(crf, e, s, t, lengths[s], gold[(s * t)..((s + 1) * t)]);
            total += want;
            Assert.True(Math.Abs(perSeq[s] - want) <= 1e-4 * (1 + Math.Abs(want)), $"sequence {s} (length {lengths[s]}): CRF {perSeq[s]}, brute force {want}");
            Assert.True(want > 0);
        }
        float sum = crf.NegativeLogLikelihood(emissions, tags, Mask(lengths, t), Reduction.Sum).Item();
        float mean = crf.NegativeLogLikelihood(emissions, tags, Mask(lengths, t)).Item();
        Assert.Equal(total, sum, 1e-3);
        Assert.Equal(total / lengths.Length, mean, 1e-3);
    }

    [Fact]
    public void FloatMaskAndNoMaskAgreeWithIntMask()
    {
        var rng = new Random(3);
        var crf = Crf(3, rng);
        var e = Tensor.FromArray(Values(rng, 2 * 3 * 3, -2, 2), 2, 3, 3);
        var tags = Tensor.FromArray([0, 1, 2, 2, 1, 0], 2, 3);
        float full = crf.NegativeLogLikelihood(e, tags, null, Reduction.Sum).Item();
        float ones = crf.NegativeLogLikelihood(e, tags, Tensor.Ones(2, 3), Reduction.Sum).Item();
        Assert.Equal(full, ones, 5);
        Assert.NotEqual(full, crf.NegativeLogLikelihood(e, tags, Mask([3, 2], 3), Reduction.Sum).Item(), 3);
    }

    [Fact]
    public void BadInputsAreRejectedWithClearMessages()
    {
        var crf = new ConditionalRandomField(3);
        var e = Tensor.Zeros(2, 3, 3);
        var tags = Tensor.FromArray([0, 1, 2, 0, 1, 2], 2, 3);
        Assert.Contains("(batch, time, 3)", Assert.Throws<ArgumentException>(() => crf.NegativeLogLikelihood(Tensor.Zeros(2, 3, 4), tags)).Message);
        Assert.Contains("left-aligned", Assert.Throws<ArgumentException>(() => crf.NegativeLogLikelihood(e, tags, Tensor.FromArray([1, 0, 1, 1, 1, 1], 2, 3))).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => crf.Decode(e, Tensor.FromArray([0, 0, 0, 1, 1, 1], 2, 3))).Message);
        Assert.Contains("tags[1, 2] = 7", Assert.Throws<ArgumentException>(() => crf.NegativeLogLikelihood(e, Tensor.FromArray([0, 1, 2, 0, 1, 7], 2, 3))).Message);
        // A padded position may hold any value.
        crf.NegativeLogLikelihood(e, Tensor.FromArray([0, 1, 2, 0, 1, -100], 2, 3), Mask([3, 2], 3));
        Assert.Throws<ArgumentException>(() => new ConditionalRandomField(["O", "B-PER", "PER"]));
    }

    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|) (GradCheck's default): the op is computed in double, only its output is float
    public Property GradientMatchesFiniteDifferences() => Prop.ForAll(GradGen.Cases(3, 3, 1, 4), c =>
    {
        var rng = c.Rng();
        int b = c.Shape[0], t = c.Shape[1];
        bool constrained = rng.Next(2) == 0;
        var crf = constrained ? new ConditionalRandomField(Bio) : new ConditionalRandomField(c.Shape[2]);
        int k = crf.NumTags;
        var lengths = Enumerable.Range(0, b).Select(_ => rng.Next(1, t + 1)).ToArray();
        var gold = lengths.SelectMany(l => ValidPath(crf, rng, t).Select((g, i) => i < l ? g : -100)).ToArray();
        var tags = Tensor.FromArray(gold, b, t);
        var mask = Mask(lengths, t);
        var reduction = (Reduction)rng.Next(3);
        var em = Param(rng, [b, t, k]);
        var tr = Param(rng, [k, k], -1, 1);
        var st = Param(rng, [k], -1, 1);
        var en = Param(rng, [k], -1, 1);
        Check(x => crf.NegativeLogLikelihood(x[0], tags, mask, x[1], x[2], x[3], reduction), [em, tr, st, en], seed: c.Seed,
            what: $"crf_nll {em.ShapeString} lengths [{string.Join(",", lengths)}] {reduction}{(constrained ? " constrained" : "")}");
    });

    [Fact]
    public void GradientsReachTheModuleParametersAndTransposedEmissions()
    {
        var rng = new Random(11);
        var crf = Crf(3, rng);
        var raw = Param(rng, [4, 2, 3]);   // (T, B, K), used transposed to (B, T, K)
        var tags = Tensor.FromArray([0, 2, 1, 1, 2, 0, 1, 2], 2, 4);
        Check(x => crf.NegativeLogLikelihood(x[0].Transpose(0, 1), tags, Mask([4, 3], 4), x[1], x[2], x[3], Reduction.Mean),
            [raw, crf.Transitions, crf.Start, crf.End], what: "crf_nll through a transposed view and the module's own parameters");
        crf.ZeroGrad();
        crf.NegativeLogLikelihood(raw.Transpose(0, 1), tags).Backward();
        foreach (var (name, p) in crf.NamedParameters())
            Assert.True(p.Grad is { } g && g.ToArray().Any(v => v != 0), $"{name} got no gradient");
        // Each sequence's emission gradient sums to zero per position (marginals and one-hot both sum to 1).
        var ge = raw.Grad!.ToArray();
        for (int i = 0; i < 8; i++) Assert.Equal(0, ge[i * 3] + ge[i * 3 + 1] + ge[i * 3 + 2], 5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ViterbiEqualsBruteForceArgmax(bool constrained)
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 20; trial++)
        {
            int k = constrained ? 5 : rng.Next(1, 5), t = rng.Next(1, 5), b = rng.Next(1, 4);
            var crf = Crf(k, rng, constrained ? Bio : null);
            var lengths = Enumerable.Range(0, b).Select(_ => rng.Next(1, t + 1)).ToArray();
            var e = Values(rng, b * t * k, -3, 3);
            var paths = crf.Decode(Tensor.FromArray(e, b, t, k), Mask(lengths, t));
            Assert.Equal(b, paths.Length);
            for (int s = 0; s < b; s++)
                Assert.Equal(BruteBest(crf, e, s, t, lengths[s]), paths[s]);
        }
    }

    [Fact]
    public void ConstraintsForbidInvalidBioTransitions()
    {
        var crf = new ConditionalRandomField(Bio);
        Assert.True(crf.IsConstrained);
        Assert.False(crf.IsAllowed(0, 2));   // O → I-PER
        Assert.False(crf.IsAllowed(1, 4));   // B-PER → I-LOC
        Assert.False(crf.IsAllowed(2, 4));   // I-PER → I-LOC
        Assert.True(crf.IsAllowed(1, 2));    // B-PER → I-PER
        Assert.True(crf.IsAllowed(2, 2));    // I-PER → I-PER
        Assert.True(crf.IsAllowed(2, 3));    // I-PER → B-LOC
        Assert.True(crf.IsAllowed(4, 0));    // I-LOC → O
        Assert.False(crf.IsAllowedStart(2));
        Assert.True(crf.IsAllowedStart(1));
        Assert.True(new ConditionalRandomField(Bio, constrainBio: false).IsAllowed(0, 2));

        // Emissions that strongly favour I- tags everywhere: decoding must still give valid BIO.
        var rng = new Random(1);
        int b = 16, t = 6, k = Bio.Length;
        var e = new float[b * t * k];
        for (int i = 0; i < e.Length; i++) e[i] = (float)rng.NextDouble() + (Bio[i % k].StartsWith("I-") ? 5f : 0f);
        foreach (var path in crf.Decode(Tensor.FromArray(e, b, t, k)))
            for (int i = 0; i < path.Length; i++)
            {
                string tag = Bio[path[i]], prev = i == 0 ? "O" : Bio[path[i - 1]];
                if (tag.StartsWith("I-")) Assert.True(prev[2..] == tag[2..] && prev != "O", $"{prev} → {tag} at {i}: {string.Join(' ', path.Select(p => Bio[p]))}");
            }
        // Unconstrained, the same emissions do decode I- after O or at the start.
        var free = new ConditionalRandomField(Bio, constrainBio: false);
        Assert.Contains(free.Decode(Tensor.FromArray(e, b, t, k)), p => Bio[p[0]].StartsWith("I-"));
    }

    [Fact]
    public void TrainingTransitionsAndEmissionsReducesLossAndDecodesGold()
    {
        // Toy task: tag 0 repeats, tag 1 is always followed by tag 2; emissions are learned per position.
        var rng = new Random(2);
        int b = 4, t = 6, k = 3;
        var gold = new int[b * t];
        for (int s = 0; s < b; s++)
            for (int i = 0; i < t; i++)
                gold[s * t + i] = i > 0 && gold[s * t + i - 1] == 1 ? 2 : rng.Next(2);
        var crf = new ConditionalRandomField(k, new Generator(4));
        var emissions = Tensor.Zeros(b, t, k);
        emissions.RequiresGrad = true;
        var tags = Tensor.FromArray(gold, b, t);
        var mask = Mask([6, 5, 6, 3], t);
        var opt = new Sgd(crf.Parameters().Append(emissions), new SgdOptions(LearningRate: 0.5f));
        float first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            opt.ZeroGrad();
            var loss = crf.NegativeLogLikelihood(emissions, tags, mask);
            if (step == 0) first = loss.Item();
            last = loss.Item();
            loss.Backward();
            opt.Step();
        }
        Assert.True(last < 0.1f * first, $"loss {first} → {last}");
        var paths = crf.Decode(emissions.Detach(), mask);
        int[] lengths = [6, 5, 6, 3];
        for (int s = 0; s < b; s++) Assert.Equal(gold[(s * t)..(s * t + lengths[s])], paths[s]);
        // The learned transition 1 → 2 beats 1 → 0 and 1 → 1.
        var tr = crf.Transitions.ToArray();
        Assert.True(tr[1 * k + 2] > tr[1 * k + 0] && tr[1 * k + 2] > tr[1 * k + 1]);
    }
}
