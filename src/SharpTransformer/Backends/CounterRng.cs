using SharpTransformer.Backends;

namespace SharpTransformer.Backends;

/// <summary>
/// Counter-based random numbers: element i of a draw is a pure function of (seed, offset + i), so every backend and
/// every thread split produce the same values.
/// </summary>
public static class CounterRng
{
    /// <summary>SplitMix64 finaliser over a key.</summary>
    public static ulong Hash(ulong seed, ulong counter)
    {
        ulong z = seed * 0x9E3779B97F4A7C15UL + counter * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform float in [0, 1) with 24 random bits.</summary>
    public static float Uniform01(ulong seed, ulong counter) => (Hash(seed, counter) >> 40) * (1.0f / 16777216f);

    /// <summary>One sample of the given distribution for element <paramref name="counter"/>.</summary>
    public static float Sample(RandomKind kind, float a, float b, ulong seed, ulong counter)
    {
        switch (kind)
        {
            case RandomKind.Uniform:
                return a + (b - a) * Uniform01(seed, counter);
            case RandomKind.Normal:
                {
                    ulong h = Hash(seed ^ 0xA5A5A5A5A5A5A5A5UL, counter);
                    double u1 = ((h >> 11) + 1.0) * (1.0 / 9007199254740993.0); // (0, 1]
                    double u2 = (Hash(seed, counter) >> 11) * (1.0 / 9007199254740992.0);
                    double r = Math.Sqrt(-2.0 * Math.Log(u1));
                    return (float)(a + b * r * Math.Cos(2.0 * Math.PI * u2));
                }
            case RandomKind.Bernoulli:
                return Uniform01(seed, counter) < a ? b : 0f;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "RandomFill: unknown distribution.");
        }
    }
}
