using MathNet.Numerics.Distributions;
using MathNet.Numerics.Statistics;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Tensors;

/// <summary>
/// The seeded random generators against their distributions, with MathNet.Numerics' distributions as the oracle:
/// Kolmogorov–Smirnov tests for <see cref="Tensor.RandN"/> and <see cref="Tensor.Rand"/>, chi-squared tests for uniform bins,
/// for pairs of consecutive draws (independence) and for dropout masks, an exact binomial test of the dropout keep rate, and
/// mean/variance checks. Every draw uses a fixed seed, so each test is deterministic; the significance level α = 1e-3 only sets
/// how far a statistic may be from its expectation. Each test also shows its power: the same statistic rejects a slightly
/// wrong distribution (a test that cannot fail proves nothing).
/// </summary>
public sealed class RandomDistributionTests
{
    private const double Alpha = 1e-3;
    private const int N = 100_000;

    /// <summary>
    /// One-sample Kolmogorov–Smirnov: D = sup |F_n(x) - F(x)| over the sorted sample, and its p-value from Kolmogorov's limit
    /// distribution P(√n D &gt; t) = 2 Σ_k (-1)^(k-1) exp(-2 k² t²) with Stephens' small-sample correction t = D (√n + 0.12 + 0.11/√n).
    /// </summary>
    private static (double D, double P) KolmogorovSmirnov(float[] sample, Func<double, double> cdf)
    {
        var x = sample.Select(v => (double)v).Order().ToArray();
        int n = x.Length;
        double d = 0;
        for (int i = 0; i < n; i++)
        {
            double f = cdf(x[i]);
            d = Math.Max(d, Math.Max((i + 1.0) / n - f, f - (double)i / n));
        }
        double sn = Math.Sqrt(n);
        double t = d * (sn + 0.12 + 0.11 / sn);
        double p = 0;
        for (int k = 1; k <= 100; k++) p += 2 * (k % 2 == 1 ? 1 : -1) * Math.Exp(-2.0 * k * k * t * t);
        return (d, Math.Clamp(p, 0, 1));
    }

    /// <summary>Pearson's chi-squared statistic of observed counts against expected counts, and its p-value (MathNet's χ² cdf).</summary>
    private static (double Chi2, double P) ChiSquaredTest(long[] observed, double[] expected, int degreesOfFreedom)
    {
        double chi2 = 0;
        for (int i = 0; i < observed.Length; i++) chi2 += (observed[i] - expected[i]) * (observed[i] - expected[i]) / expected[i];
        return (chi2, 1 - ChiSquared.CDF(degreesOfFreedom, chi2));
    }

    [Fact]
    public void RandN_IsNormalWithTheRequestedMeanAndStd()
    {
        const double mean = 1.5, std = 2.0;
        var x = Tensor.RandN([N], new Generator(11), (float)mean, (float)std).ToArray();
        var (d, p) = KolmogorovSmirnov(x, v => Normal.CDF(mean, std, v));
        Assert.True(p > Alpha, $"RandN(1.5, 2): Kolmogorov–Smirnov D = {d:G4}, p = {p:G3} against N(1.5, 2²)");

        // Mean within 4 standard errors (σ/√n); variance within 4 standard errors of the sample variance (σ² √(2/(n-1))).
        var (m, v) = x.Select(e => (double)e).MeanVariance();
        Assert.InRange(m, mean - 4 * std / Math.Sqrt(N), mean + 4 * std / Math.Sqrt(N));
        Assert.InRange(v, std * std * (1 - 4 * Math.Sqrt(2.0 / (N - 1))), std * std * (1 + 4 * Math.Sqrt(2.0 / (N - 1))));

        // Power: the same sample is rejected as N(1.5, 2.05²) and as N(1.55, 2²).
        Assert.True(KolmogorovSmirnov(x, v => Normal.CDF(mean, 2.05, v)).P < Alpha, "KS does not tell std 2 from 2.05");
        Assert.True(KolmogorovSmirnov(x, v => Normal.CDF(1.55, std, v)).P < Alpha, "KS does not tell mean 1.5 from 1.55");
    }

    [Fact]
    public void Rand_IsUniformOnTheRequestedInterval_AndConsecutiveDrawsAreIndependent()
    {
        const double lo = -1, hi = 3;
        var x = Tensor.Rand([N], new Generator(12), (float)lo, (float)hi).ToArray();
        Assert.All(x, v => Assert.True(v >= lo && v < hi, $"uniform draw {v} outside [{lo}, {hi})"));
        var (d, p) = KolmogorovSmirnov(x, v => ContinuousUniform.CDF(lo, hi, v));
        Assert.True(p > Alpha, $"Rand(-1, 3): Kolmogorov–Smirnov D = {d:G4}, p = {p:G3} against U(-1, 3)");
        var (m, v) = x.Select(e => (double)e).MeanVariance();
        double mu = (lo + hi) / 2, var = (hi - lo) * (hi - lo) / 12;
        Assert.InRange(m, mu - 4 * Math.Sqrt(var / N), mu + 4 * Math.Sqrt(var / N));
        Assert.InRange(v, var * (1 - 4 * Math.Sqrt(0.8 / N)), var * (1 + 4 * Math.Sqrt(0.8 / N)));   // Var(s²) = σ⁴ (0.8 / n) for a uniform (excess kurtosis -1.2)

        // 50 equal bins: chi-squared with 49 degrees of freedom.
        const int bins = 50;
        var counts = new long[bins];
        foreach (var e in x) counts[Math.Min(bins - 1, (int)((e - lo) / (hi - lo) * bins))]++;
        var (chi2, pBins) = ChiSquaredTest(counts, Enumerable.Repeat((double)N / bins, bins).ToArray(), bins - 1);
        Assert.True(pBins > Alpha, $"Rand: 50-bin chi-squared {chi2:G4}, p = {pBins:G3}");

        // Pairs (x[2i], x[2i+1]) on a 10 x 10 grid: a generator whose neighbours correlate fails (99 degrees of freedom).
        const int g = 10;
        var pairs = new long[g * g];
        for (int i = 0; i + 1 < N; i += 2)
            pairs[Math.Min(g - 1, (int)((x[i] - lo) / (hi - lo) * g)) * g + Math.Min(g - 1, (int)((x[i + 1] - lo) / (hi - lo) * g))]++;
        var (chi2Pairs, pPairs) = ChiSquaredTest(pairs, Enumerable.Repeat(N / 2.0 / (g * g), g * g).ToArray(), g * g - 1);
        Assert.True(pPairs > Alpha, $"Rand: consecutive pairs chi-squared {chi2Pairs:G4}, p = {pPairs:G3}");

        // Power: the same sample is rejected as U(-1, 3.05), and sorted neighbours (perfectly dependent) fail the pair test.
        Assert.True(KolmogorovSmirnov(x, v => ContinuousUniform.CDF(lo, 3.05, v)).P < Alpha, "KS does not tell U(-1, 3) from U(-1, 3.05)");
        var sorted = x.Order().ToArray();
        var sortedPairs = new long[g * g];
        for (int i = 0; i + 1 < N; i += 2)
            sortedPairs[Math.Min(g - 1, (int)((sorted[i] - lo) / (hi - lo) * g)) * g + Math.Min(g - 1, (int)((sorted[i + 1] - lo) / (hi - lo) * g))]++;
        Assert.True(ChiSquaredTest(sortedPairs, Enumerable.Repeat(N / 2.0 / (g * g), g * g).ToArray(), g * g - 1).P < Alpha, "the pair test accepts dependent draws");
    }

    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    [InlineData(0.9f)]
    public void DropoutMask_KeepsEachElementWithProbability1MinusP_Independently(float p)
    {
        var ones = Tensor.Ones([N]);
        var y = Functional.Dropout(ones, p, training: true, new Generator(13)).ToArray();
        float scale = 1f / (1f - p);
        Assert.All(y, v => Assert.True(v == 0f || v == scale, $"dropout({p}) output {v}: neither 0 nor 1/(1-p) = {scale}"));
        int kept = y.Count(v => v != 0f);

        // Exact two-sided binomial test of the number kept, Binomial(n, 1 - p).
        double Tail(int k) => Math.Min(1, 2 * Math.Min(Binomial.CDF(1 - p, N, k), 1 - Binomial.CDF(1 - p, N, k - 1)));
        Assert.True(Tail(kept) > Alpha, $"dropout({p}) kept {kept} of {N}, expected {(1 - p) * N:F0} (binomial p = {Tail(kept):G3})");
        // Inverted dropout keeps the expectation: mean within 4 standard errors of 1 (sd of one element √(p / (1-p))).
        double se = Math.Sqrt(p / (1 - p) / N);
        Assert.InRange(y.Average(v => (double)v), 1 - 4 * se, 1 + 4 * se);

        // Independence of neighbours: the 2 x 2 table of (kept[2i], kept[2i+1]) against the product of the margins (1 degree of freedom).
        var table = new long[4];
        for (int i = 0; i + 1 < N; i += 2) table[(y[i] != 0 ? 2 : 0) + (y[i + 1] != 0 ? 1 : 0)]++;
        double q = 1 - p;
        var expected = new[] { p * p, p * q, q * p, q * q }.Select(e => e * N / 2).ToArray();
        var (chi2, pInd) = ChiSquaredTest(table, expected, 3);
        Assert.True(pInd > Alpha, $"dropout({p}) neighbour pairs chi-squared {chi2:G4}, p = {pInd:G3}");

        // Power: a keep rate 0.01 off is rejected.
        Assert.True(Tail((int)Math.Round((1 - p + 0.01) * N)) < Alpha, "the binomial test accepts a keep rate 0.01 off");
    }

    [Fact]
    public void TheSameSeedGivesTheSameDraws_AndTheCounterMovesOn()
    {
        var g1 = new Generator(21);
        var g2 = new Generator(21);
        var a = Tensor.RandN([1000], g1).ToArray();
        Assert.Equal(a, Tensor.RandN([1000], g2).ToArray());
        Assert.Equal(1000UL, g1.Offset);
        var next = Tensor.RandN([1000], g1).ToArray();
        // The next block is a fresh draw: not equal, and uncorrelated with the first (|r| within 4 / √n).
        Assert.NotEqual(a, next);
        double r = Correlation.Pearson(a.Select(v => (double)v), next.Select(v => (double)v));
        Assert.InRange(r, -4 / Math.Sqrt(1000), 4 / Math.Sqrt(1000));
    }
}
