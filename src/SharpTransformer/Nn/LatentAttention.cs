using SharpTransformer.Autograd;
using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// Multi-head latent attention (DeepSeek-V2/V3, MLA). Queries come from <c>q_proj</c>, or from the low-rank path
/// <c>q_b_proj(q_a_layernorm(q_a_proj x))</c>; keys and values from one compressed vector per token:
/// <c>kv_a_proj_with_mqa x</c> gives the latent c (Dc = <c>kv_lora_rank</c>) and a RoPE key k_r (Dr, one head shared by every query
/// head), and <c>kv_b_proj(kv_a_layernorm c)</c> expands c into per-head keys without position (Dn) and values (Dv). Per head the
/// query is [q_nope | rope(q_rope)] and the key [k_nope | rope(k_r)], scores scaled by (Dn + Dr)^-0.5; the heads' outputs
/// (H·Dv) go through <c>o_proj</c>. Module paths equal Hugging Face's.
/// <para>
/// RoPE: DeepSeek rotates adjacent pairs (2i, 2i + 1). This layer de-interleaves the Dr rotary values of the query and of the key
/// (pairs become (i, i + Dr/2)) and applies the rotate-half kernel: the same permutation of both sides leaves every score as it is.
/// The cached RoPE keys are kept in that de-interleaved order.
/// </para>
/// <para>
/// Cache: <see cref="LatentKvCache"/> (any <see cref="IKvCache"/> works) stores per token the normalised latent (after
/// <c>kv_a_layernorm</c>) and the rotated RoPE key, (Dc + Dr) floats per layer. With a cache, no gradient and
/// <see cref="LatentAttentionOptions.AbsorbWhenCached"/>, decoding never expands the cache: q_nope is multiplied by the key half
/// of <c>kv_b_proj</c> (W_uk, per head Dn × Dc), attention runs over the joint latent rows [c | k_r] as one key/value head
/// (multi-query), and the value half (W_uv) is applied to the attended latent. Otherwise (training, no cache) keys and values are
/// expanded for every position.
/// </para>
/// </summary>
public sealed class LatentAttention : Module
{
    /// <summary>Creates the layer with PyTorch's default linear initialisation.</summary>
    public LatentAttention(LatentAttentionOptions options, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        var o = options;
        void Positive(int v, string field)
        {
            if (v <= 0) throw new ArgumentException($"LatentAttention: {field} must be positive, got {v}.");
        }
        Positive(o.Dim, "Dim (hidden_size)");
        Positive(o.Heads, "Heads (num_attention_heads)");
        Positive(o.KvLoraRank, "KvLoraRank (kv_lora_rank)");
        Positive(o.QkNopeHeadDim, "QkNopeHeadDim (qk_nope_head_dim)");
        Positive(o.QkRopeHeadDim, "QkRopeHeadDim (qk_rope_head_dim)");
        Positive(o.ValueHeadDim, "ValueHeadDim (v_head_dim)");
        if (o.QLoraRank is { } qr) Positive(qr, "QLoraRank (q_lora_rank)");
        if (o.QkRopeHeadDim % 2 != 0) throw new ArgumentException($"LatentAttention: RoPE needs an even QkRopeHeadDim (qk_rope_head_dim), got {o.QkRopeHeadDim}.");
        if (o.Scale is { } s && !(s > 0f && float.IsFinite(s))) throw new ArgumentException($"LatentAttention: Scale must be positive and finite, got {s}.");
        int h = o.Heads;
        if (o.QLoraRank is { } rank)
        {
            RegisterModule<ILinear>("q_a_proj", new Linear(o.Dim, rank, o.Bias, generator));
            RegisterModule<ILayer>("q_a_layernorm", new RmsNorm(rank, o.LatentNormEps));
            RegisterModule<ILinear>("q_b_proj", new Linear(rank, h * o.QkHeadDim, bias: false, generator));
        }
        else RegisterModule<ILinear>("q_proj", new Linear(o.Dim, h * o.QkHeadDim, bias: false, generator));
        RegisterModule<ILinear>("kv_a_proj_with_mqa", new Linear(o.Dim, o.KvLoraRank + o.QkRopeHeadDim, o.Bias, generator));
        RegisterModule<ILayer>("kv_a_layernorm", new RmsNorm(o.KvLoraRank, o.LatentNormEps));
        RegisterModule<ILinear>("kv_b_proj", new Linear(o.KvLoraRank, h * (o.QkNopeHeadDim + o.ValueHeadDim), bias: false, generator));
        RegisterModule<ILinear>("o_proj", new Linear(h * o.ValueHeadDim, o.Dim, o.Bias, generator));
    }

    /// <summary>The options.</summary>
    public LatentAttentionOptions Options { get; }
    /// <summary>The score scale: <see cref="LatentAttentionOptions.Scale"/> or (Dn + Dr)^-0.5.</summary>
    public float Scale => Options.Scale ?? 1f / MathF.Sqrt(Options.QkHeadDim);
    /// <summary>Query projection <c>q_proj</c> (H·(Dn + Dr), C); null on the low-rank query path.</summary>
    public ILinear? Query => ChildOrNull<ILinear>("q_proj");
    /// <summary>Low-rank query down-projection <c>q_a_proj</c> (q_lora_rank, C), or null.</summary>
    public ILinear? QueryDown => ChildOrNull<ILinear>("q_a_proj");
    /// <summary>RMSNorm <c>q_a_layernorm</c> of the low-rank query, or null.</summary>
    public ILayer? QueryNorm => ChildOrNull<ILayer>("q_a_layernorm");
    /// <summary>Low-rank query up-projection <c>q_b_proj</c> (H·(Dn + Dr), q_lora_rank), or null.</summary>
    public ILinear? QueryUp => ChildOrNull<ILinear>("q_b_proj");
    /// <summary>Compression <c>kv_a_proj_with_mqa</c> (Dc + Dr, C): the latent, then the shared RoPE key.</summary>
    public ILinear KeyValueDown => Child<ILinear>("kv_a_proj_with_mqa");
    /// <summary>RMSNorm <c>kv_a_layernorm</c> of the latent (Dc).</summary>
    public ILayer KeyValueNorm => Child<ILayer>("kv_a_layernorm");
    /// <summary>Expansion <c>kv_b_proj</c> (H·(Dn + Dv), Dc): per head Dn key rows, then Dv value rows.</summary>
    public ILinear KeyValueUp => Child<ILinear>("kv_b_proj");
    /// <summary>Output projection <c>o_proj</c> (C, H·Dv).</summary>
    public ILinear Output => Child<ILinear>("o_proj");

    /// <summary>An empty <see cref="LatentKvCache"/> for this layer with room for <paramref name="capacity"/> positions.</summary>
    public LatentKvCache CreateCache(int capacity) => new(capacity, Options.KvLoraRank, Options.QkRopeHeadDim);

    /// <summary>
    /// x (B, T, C) → (B, T, C), causal self-attention continuing the positions in <paramref name="cache"/> (whose "keys" are the
    /// normalised latents (B, 1, T, Dc) and "values" the rotated RoPE keys (B, 1, T, Dr)). positions: Int32 (T) or (B, T) for RoPE
    /// (default 0..T-1 after the cache). keyMask: (B, Tk) Float32 with 0 on padding keys (Tk includes cached positions).
    /// </summary>
    public Tensor Forward(Tensor x, IKvCache? cache = null, Tensor? positions = null, Tensor? keyMask = null)
    {
        var o = Options;
        if (x.Rank != 3 || x.Size(2) != o.Dim)
            throw new ArgumentException($"LatentAttention: input must be (batch, time, {o.Dim}), got {x.ShapeString}.");
        int b = x.Size(0), t = x.Size(1), h = o.Heads, dn = o.QkNopeHeadDim, dr = o.QkRopeHeadDim, dv = o.ValueHeadDim, dc = o.KvLoraRank;
        var qFlat = Query is { } qp ? qp.Forward(x) : QueryUp!.Forward(QueryNorm!.Forward(QueryDown!.Forward(x)));   // (B, T, H (Dn + Dr))
        var q = qFlat.Reshape(b, t, h, dn + dr).Transpose(1, 2);                      // (B, H, T, Dn + Dr)
        var qNope = q.Narrow(3, 0, dn);                                               // (B, H, T, Dn)
        var kvA = KeyValueDown.Forward(x);                                            // (B, T, Dc + Dr)
        var c = KeyValueNorm.Forward(kvA.Narrow(2, 0, dc)).Unsqueeze(1);             // (B, 1, T, Dc)
        var kRope = kvA.Narrow(2, dc, dr).Unsqueeze(1);                               // (B, 1, T, Dr)
        var pos = positions ?? DefaultPositions(t, cache?.Length ?? 0, x);
        var qRope = RotateRope(q.Narrow(3, dn, dr), pos);                             // (B, H, T, Dr), de-interleaved order
        kRope = RotateRope(kRope, pos);                                               // (B, 1, T, Dr)
        var (cAll, kRopeAll) = cache is null ? (c, kRope) : cache.Append(c, kRope);  // (B, 1, Tk, Dc), (B, 1, Tk, Dr)
        int tk = cAll.Size(2);

        Tensor y;                                                                     // (B, H, T, Dv)
        if (cache is not null && o.AbsorbWhenCached && !GradMode.IsEnabled && KeyValueUp.Weight is { } wkv && KeyValueUp.Bias is null
            && KeyValueUp is Linear)
        {
            var w = wkv.Reshape(h, dn + dv, dc);                                      // (H, Dn + Dv, Dc)
            var qLatent = qNope.MatMul(w.Narrow(1, 0, dn));                           // (B, H, T, Dn) @ (H, Dn, Dc) → (B, H, T, Dc)
            var qAbs = Tensor.Concat([qLatent, qRope], 3);                            // (B, H, T, Dc + Dr)
            var latent = cache is LatentKvCache lc ? lc.StoredLatent() : Tensor.Concat([cAll, kRopeAll], 3);   // (B, 1, Tk, Dc + Dr)
            // One key/value head for every query head: keys are the joint rows [c | k_r], values the same rows (the k_r part of the
            // result is dropped), so the cache buffer is read in place.
            Tensor att;                                                               // (B, H, T, Dc + Dr)
            if (t == 1)
            {
                // One new position sees every cached key, so the heads can be the query rows of one multi-query head: the kernel
                // then multiplies an H-row tile by each key tile instead of H single rows.
                att = Functional.ScaledDotProductAttention(qAbs.Reshape(b, 1, h, dc + dr), latent, latent, causal: false, keyMask, scale: Scale)
                    .Reshape(b, h, 1, dc + dr);
            }
            else att = Functional.ScaledDotProductAttention(qAbs, latent, latent, causal: true, keyMask, scale: Scale);
            y = att.Narrow(3, 0, dc).MatMul(w.Narrow(1, dn, dv).Transpose(1, 2));    // (B, H, T, Dc) @ (H, Dc, Dv) → (B, H, T, Dv)
        }
        else
        {
            var kv = KeyValueUp.Forward(cAll.Squeeze(1)).Reshape(b, tk, h, dn + dv).Transpose(1, 2);   // (B, H, Tk, Dn + Dv)
            var k = Tensor.Concat([kv.Narrow(3, 0, dn), kRopeAll.Expand(b, h, tk, dr)], 3);          // (B, H, Tk, Dn + Dr)
            var v = kv.Narrow(3, dn, dv);                                             // (B, H, Tk, Dv)
            var qFull = Tensor.Concat([qNope, qRope], 3);                             // (B, H, T, Dn + Dr)
            y = Functional.ScaledDotProductAttention(qFull, k, v, causal: true, keyMask, scale: Scale);
        }
        y = y.Transpose(1, 2).Reshape(b, t, h * dv);                                  // (B, T, H Dv)
        return Output.Forward(y);                                                     // (B, T, C)
    }

    // RoPE on (B, N, T, Dr): adjacent pairs are first de-interleaved (view (Dr/2, 2), transposed) so that the rotate-half kernel
    // rotates the pairs DeepSeek rotates; with InterleavedRope false the halves are rotated directly (Llama's layout).
    private Tensor RotateRope(Tensor x, Tensor positions)
    {
        int b = x.Size(0), n = x.Size(1), t = x.Size(2), dr = x.Size(3);
        if (Options.InterleavedRope) x = x.Reshape(b, n, t, dr / 2, 2).Transpose(3, 4).Reshape(b, n, t, dr);
        return Functional.Rope(x, positions, Options.RopeTheta, Options.RopeScaling);
    }

    private static Tensor DefaultPositions(int t, int start, Tensor like)
    {
        var p = new int[t];
        for (int i = 0; i < t; i++) p[i] = start + i;
        return Tensor.FromArray(p).To(like.Backend);
    }
}
