namespace SharpTransformer.Tensors;

/// <summary>
/// A seeded source of random tensors. Each draw takes the next block of a counter-based stream, so the same seed gives
/// the same values on every backend; <see cref="State"/> can be saved and restored in checkpoints.
/// </summary>
public sealed class Generator
{
    /// <summary>Creates a generator.</summary>
    public Generator(ulong seed) { Seed = seed; }

    /// <summary>The seed.</summary>
    public ulong Seed { get; private set; }

    /// <summary>Number of values drawn so far (the counter).</summary>
    public ulong Offset { get; private set; }

    /// <summary>The full state: seed and counter.</summary>
    public (ulong Seed, ulong Offset) State
    {
        get => (Seed, Offset);
        set { Seed = value.Seed; Offset = value.Offset; }
    }

    /// <summary>Reserves <paramref name="count"/> values and returns the counter of the first.</summary>
    public ulong Advance(int count)
    {
        var o = Offset;
        Offset += (ulong)count;
        return o;
    }

    /// <summary>A uniform float in [0, 1) for host-side decisions (shuffles, sampling).</summary>
    public float NextFloat() => Backends.CounterRng.Uniform01(Seed, Advance(1));

    /// <summary>A uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "Generator.NextInt: n must be positive.");
        return (int)(Backends.CounterRng.Hash(Seed, Advance(1)) % (ulong)n);
    }
}
