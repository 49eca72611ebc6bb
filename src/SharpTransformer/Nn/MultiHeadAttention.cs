using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// Multi-head attention for every family: self- or cross-attention, grouped-query heads, optional RoPE, an additive score bias
/// (T5's relative positions), a scale override, separate query-key and value head widths, a sliding causal window and a
/// key/value cache (<see cref="IKvCache"/>). Projections are named as Hugging Face names them: one fused <c>c_attn</c> and
/// <c>c_proj</c> (GPT-2) or <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>o_proj</c> (see <see cref="AttentionOptions.FusedQkv"/>).
/// </summary>
public sealed class MultiHeadAttention : Module
{
    private readonly string _output;

    /// <summary>Creates the layer.</summary>
    public MultiHeadAttention(AttentionOptions options, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        int h = options.Heads, kv = options.KvHeads ?? options.Heads;
        if (options.Dim <= 0 || h <= 0) throw new ArgumentException($"MultiHeadAttention: width {options.Dim} and heads {h} must be positive.");
        if (options.HeadDim is null && options.Dim % h != 0) throw new ArgumentException($"MultiHeadAttention: width {options.Dim} is not divisible by {h} heads (or give HeadDim).");
        if (kv <= 0 || h % kv != 0) throw new ArgumentException($"MultiHeadAttention: {h} heads are not a multiple of {kv} key/value heads.");
        HeadDim = options.HeadDim ?? options.Dim / h;
        ValueHeadDim = options.ValueHeadDim ?? HeadDim;
        KvHeads = kv;
        int kvDim = options.KvDim ?? options.Dim;
        if (HeadDim <= 0 || ValueHeadDim <= 0 || kvDim <= 0)
            throw new ArgumentException($"MultiHeadAttention: HeadDim {HeadDim}, ValueHeadDim {ValueHeadDim} and KvDim {kvDim} must be positive.");
        if (options.Scale is { } s && !(s > 0f && float.IsFinite(s))) throw new ArgumentException($"MultiHeadAttention: Scale must be positive and finite, got {s}.");
        if (options.Window is { } w)
        {
            if (w <= 0) throw new ArgumentException($"MultiHeadAttention: Window must be positive, got {w}.");
            if (!options.Causal) throw new ArgumentException($"MultiHeadAttention: a sliding Window ({w}) needs Causal attention.");
        }
        if (options.RopeTheta is not null && HeadDim % 2 != 0) throw new ArgumentException($"MultiHeadAttention: RoPE needs an even HeadDim, got {HeadDim}.");
        if (options.FusedQkv)
        {
            if (kvDim != options.Dim) throw new ArgumentException($"MultiHeadAttention: a fused qkv projection needs KvDim ({kvDim}) equal to Dim ({options.Dim}).");
            RegisterModule<ILinear>("c_attn", new Linear(options.Dim, (h + kv) * HeadDim + kv * ValueHeadDim, options.Bias, generator));
            _output = "c_proj";
        }
        else
        {
            RegisterModule<ILinear>("q_proj", new Linear(options.Dim, h * HeadDim, options.Bias, generator));
            RegisterModule<ILinear>("k_proj", new Linear(kvDim, kv * HeadDim, options.Bias, generator));
            RegisterModule<ILinear>("v_proj", new Linear(kvDim, kv * ValueHeadDim, options.Bias, generator));
            _output = "o_proj";
        }
        RegisterModule<ILinear>(_output, new Linear(h * ValueHeadDim, options.Dim, options.OutputBias ?? options.Bias, generator));
        if (options.Dropout > 0f) RegisterModule("dropout", new Dropout(options.Dropout, generator));
    }

    /// <summary>The options.</summary>
    public AttentionOptions Options { get; }
    /// <summary>Query/key head width D.</summary>
    public int HeadDim { get; }
    /// <summary>Value head width Dv.</summary>
    public int ValueHeadDim { get; }
    /// <summary>Key/value heads.</summary>
    public int KvHeads { get; }
    /// <summary>Fused projection <c>c_attn</c>, weight ((H + Hkv)·D + Hkv·Dv, C): rows q, then k, then v; null with separate projections.</summary>
    public ILinear? Qkv => Options.FusedQkv ? Child<ILinear>("c_attn") : null;
    /// <summary>Query projection <c>q_proj</c> (H·D, C); null when fused.</summary>
    public ILinear? Query => Options.FusedQkv ? null : Child<ILinear>("q_proj");
    /// <summary>Key projection <c>k_proj</c> (Hkv·D, KvDim); null when fused.</summary>
    public ILinear? Key => Options.FusedQkv ? null : Child<ILinear>("k_proj");
    /// <summary>Value projection <c>v_proj</c> (Hkv·Dv, KvDim); null when fused.</summary>
    public ILinear? Value => Options.FusedQkv ? null : Child<ILinear>("v_proj");
    /// <summary>Output projection (<c>c_proj</c> when fused, else <c>o_proj</c>), (C, H·Dv).</summary>
    public ILinear Output => Child<ILinear>(_output);

    /// <summary>
    /// x (B, T, C) → (B, T, C). Self-attention unless <paramref name="kvSource"/> (B, S, KvDim) is given: then keys and values come
    /// from it (cross-attention), and a cache that already holds them (<see cref="IKvCache.IsComplete"/>, a
    /// <see cref="CrossAttentionCache"/> after its first call) is read instead of projecting the source again.
    /// positions: Int32 (T) or (B, T) for RoPE (default 0..T-1 after the cache). keyMask: (B, Tk) Float32 with 0 on padding
    /// keys (Tk includes cached positions). bias: additive scores broadcastable to (B, H, T, Tk), with its gradient.
    /// </summary>
    public Tensor Forward(Tensor x, IKvCache? cache = null, Tensor? positions = null, Tensor? keyMask = null,
        Tensor? kvSource = null, Tensor? bias = null)
    {
        if (x.Rank != 3 || x.Size(2) != Options.Dim)
            throw new ArgumentException($"MultiHeadAttention: input must be (batch, time, {Options.Dim}), got {x.ShapeString}.");
        int b = x.Size(0), t = x.Size(1), h = Options.Heads, hkv = KvHeads, d = HeadDim, dv = ValueHeadDim;
        Tensor q, k, v;
        if (kvSource is null)
        {
            if (Options.FusedQkv)
            {
                var qkv = Qkv!.Forward(x);                                              // (B, T, (H + Hkv) D + Hkv Dv)
                q = SplitHeads(qkv.Narrow(-1, 0, h * d), h, d);                         // (B, H, T, D)
                k = SplitHeads(qkv.Narrow(-1, h * d, hkv * d), hkv, d);                 // (B, Hkv, T, D)
                v = SplitHeads(qkv.Narrow(-1, (h + hkv) * d, hkv * dv), hkv, dv);       // (B, Hkv, T, Dv)
            }
            else
            {
                q = SplitHeads(Query!.Forward(x), h, d);                                // (B, H, T, D)
                k = SplitHeads(Key!.Forward(x), hkv, d);                                // (B, Hkv, T, D)
                v = SplitHeads(Value!.Forward(x), hkv, dv);                             // (B, Hkv, T, Dv)
            }
            if (Options.RopeTheta is { } theta)
            {
                var pos = positions ?? DefaultPositions(t, cache?.Length ?? 0, x);
                q = Functional.Rope(q, pos, theta, Options.RopeScaling);
                k = Functional.Rope(k, pos, theta, Options.RopeScaling);
            }
            if (cache is not null) (k, v) = cache.Append(k, v);                        // (B, Hkv, Tk, D), (B, Hkv, Tk, Dv)
            if (cache is SlidingWindowKvCache && keyMask is not null && keyMask.Rank == 2 && keyMask.Size(1) > k.Size(2))
                keyMask = keyMask.Narrow(1, keyMask.Size(1) - k.Size(2), k.Size(2));  // the window cache dropped older keys
        }
        else
        {
            if (Options.FusedQkv) throw new InvalidOperationException("MultiHeadAttention: cross-attention (a key/value source) needs separate projections (FusedQkv: false).");
            if (Options.RopeTheta is not null) throw new InvalidOperationException("MultiHeadAttention: RoPE is not applied across a key/value source; build cross-attention without RopeTheta.");
            int kvDim = Options.KvDim ?? Options.Dim;
            if (kvSource.Rank != 3 || kvSource.Size(0) != b || kvSource.Size(2) != kvDim)
                throw new ArgumentException($"MultiHeadAttention: the key/value source must be ({b}, time, {kvDim}), got {kvSource.ShapeString}.");
            q = SplitHeads(Query!.Forward(x), h, d);                                    // (B, H, T, D)
            if (cache is { IsComplete: true }) (k, v) = cache.Stored();                 // (B, Hkv, S, D), (B, Hkv, S, Dv)
            else
            {
                k = SplitHeads(Key!.Forward(kvSource), hkv, d);                         // (B, Hkv, S, D)
                v = SplitHeads(Value!.Forward(kvSource), hkv, dv);                      // (B, Hkv, S, Dv)
                if (cache is not null) (k, v) = cache.Append(k, v);
            }
        }
        var y = Attend(q, k, v, Options.Causal && kvSource is null, keyMask, bias);    // (B, H, T, Dv)
        y = y.Transpose(1, 2).Reshape(b, t, h * dv);                                    // (B, T, H Dv)
        y = Output.Forward(y);                                                          // (B, T, C)
        return ChildOrNull<Dropout>("dropout") is { } drop ? drop.Forward(y) : y;
    }

    // (B, T, n·w) → (B, n, T, w)
    private static Tensor SplitHeads(Tensor x, int n, int w) => x.Reshape(x.Size(0), x.Size(1), n, w).Transpose(1, 2);

    // The window is the kernel's (Mistral): query i sees keys in (i' - window, i'] with i' = i + Tk - Tq; the kernel also takes
    // a value head width Dv different from the query-key width D (DeepSeek's latent attention).
    private Tensor Attend(Tensor q, Tensor k, Tensor v, bool causal, Tensor? keyMask, Tensor? bias) =>
        Functional.ScaledDotProductAttention(q, k, v, causal, keyMask, bias, Options.Scale, causal ? Options.Window : null);

    private static Tensor DefaultPositions(int t, int start, Tensor like)
    {
        var p = new int[t];
        for (int i = 0; i < t; i++) p[i] = start + i;
        return Tensor.FromArray(p).To(like.Backend);
    }
}
