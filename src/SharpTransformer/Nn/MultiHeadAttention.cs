using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>Options of <see cref="MultiHeadAttention"/>.</summary>
/// <param name="Dim">Model width C.</param>
/// <param name="Heads">Query heads H (head dim = C / H).</param>
/// <param name="KvHeads">Key/value heads (H for multi-head, 1 for multi-query, in between for grouped-query).</param>
/// <param name="Causal">Mask future positions (decoders).</param>
/// <param name="Bias">Biases on the projections.</param>
/// <param name="RopeTheta">Rotary embedding base, or null for no RoPE.</param>
/// <param name="Dropout">Dropout on the output projection (residual dropout).</param>
public sealed record AttentionOptions(int Dim, int Heads, int? KvHeads = null, bool Causal = true, bool Bias = true,
    float? RopeTheta = null, float Dropout = 0f);

/// <summary>
/// Multi-head self-attention with grouped-query support, optional RoPE and a KV cache. Projections: one fused
/// <c>qkv</c> linear (out = (H + 2·Hkv)·D) and <c>proj</c>.
/// </summary>
public sealed class MultiHeadAttention : Module
{
    private readonly Dropout? _dropout;

    /// <summary>Creates the layer.</summary>
    public MultiHeadAttention(AttentionOptions options, Generator? generator = null)
    {
        Options = options;
        int kv = options.KvHeads ?? options.Heads;
        if (options.Dim % options.Heads != 0) throw new ArgumentException($"MultiHeadAttention: width {options.Dim} is not divisible by {options.Heads} heads.");
        if (kv <= 0 || options.Heads % kv != 0) throw new ArgumentException($"MultiHeadAttention: {options.Heads} heads are not a multiple of {kv} key/value heads.");
        HeadDim = options.Dim / options.Heads;
        KvHeads = kv;
        Qkv = RegisterModule("qkv", new Linear(options.Dim, (options.Heads + 2 * kv) * HeadDim, options.Bias, generator));
        Proj = RegisterModule("proj", new Linear(options.Heads * HeadDim, options.Dim, options.Bias, generator));
        if (options.Dropout > 0f) _dropout = RegisterModule("dropout", new Dropout(options.Dropout, generator));
    }

    /// <summary>The options.</summary>
    public AttentionOptions Options { get; }
    /// <summary>Width of each head.</summary>
    public int HeadDim { get; }
    /// <summary>Key/value heads.</summary>
    public int KvHeads { get; }
    /// <summary>Fused query/key/value projection (weight ((H + 2·Hkv)·D, C)).</summary>
    public Linear Qkv { get; }
    /// <summary>Output projection.</summary>
    public Linear Proj { get; }

    /// <summary>
    /// x (B, T, C) → (B, T, C). positions: Int32 (T) or (B, T) for RoPE (default 0..T-1 after the cache).
    /// keyMask: (B, Tk) Float32 with 0 on padding keys (Tk includes cached positions).
    /// </summary>
    public Tensor Forward(Tensor x, IKvCache? cache = null, Tensor? positions = null, Tensor? keyMask = null)
    {
        int b = x.Size(0), t = x.Size(1), h = Options.Heads, d = HeadDim;
        var qkv = Qkv.Forward(x);                                                       // (B, T, (H + 2Hkv) D)
        var q = qkv.Narrow(-1, 0, h * d).Reshape(b, t, h, d).Transpose(1, 2);           // (B, H, T, D)
        var k = qkv.Narrow(-1, h * d, KvHeads * d).Reshape(b, t, KvHeads, d).Transpose(1, 2);   // (B, Hkv, T, D)
        var v = qkv.Narrow(-1, (h + KvHeads) * d, KvHeads * d).Reshape(b, t, KvHeads, d).Transpose(1, 2);
        if (Options.RopeTheta is { } theta)
        {
            var pos = positions ?? DefaultPositions(t, cache?.Length ?? 0, x);
            q = Functional.Rope(q, pos, theta);
            k = Functional.Rope(k, pos, theta);
        }
        if (cache is not null) (k, v) = cache.Append(k, v);                            // (B, Hkv, Tk, D)
        var y = Functional.ScaledDotProductAttention(q, k, v, Options.Causal, keyMask);  // (B, H, T, D)
        y = y.Transpose(1, 2).Reshape(b, t, h * d);                                     // (B, T, C)
        y = Proj.Forward(y);
        return _dropout is null ? y : _dropout.Forward(y);
    }

    private static Tensor DefaultPositions(int t, int start, Tensor like)
    {
        var p = new int[t];
        for (int i = 0; i < t; i++) p[i] = start + i;
        return Tensor.FromArray(p).To(like.Backend);
    }
}
