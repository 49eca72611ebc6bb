using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.T5;

/// <summary>
/// T5 (Hugging Face's <c>T5ForConditionalGeneration</c>, T5 and T5 v1.1): a <c>shared</c> token embedding for both stacks,
/// pre-norm blocks with the T5 layer norm (RMS, no mean, no bias), attention without 1/√d scaling plus a bucketed relative
/// position bias (bidirectional in the encoder, causal in the decoder), ReLU or gated-GELU feed-forward, and an output head
/// tied to the embedding (after a d_model^-0.5 rescale) or separate. Module paths are Hugging Face's except for the attention
/// projections (<c>q_proj</c> for <c>q</c>, ...) and the bias table (<see cref="HuggingFaceModulePath"/> maps them).
/// </summary>
public sealed class T5 : Seq2SeqLanguageModel
{
    /// <summary>Builds a randomly initialised model.</summary>
    public T5(T5Config config, ulong seed = 1337)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var g = new Generator(seed);
        RegisterModule("shared", new Embedding(config.VocabSize, config.DModel, g, 1f));
        RegisterModule("encoder", new T5Stack(config, decoder: false, g));
        RegisterModule("decoder", new T5Stack(config, decoder: true, g));
        if (!config.TieEmbeddings) RegisterModule<ILinear>("lm_head", new Linear(config.DModel, config.VocabSize, bias: false, g));
        // Hugging Face's T5 initialisation: N(0, (fan-in)^-0.5) scaled like its _init_weights (factor 1).
        using var _ = TensorScope.Suspend();
        foreach (var (name, p) in NamedParameters())
        {
            if (p.Rank != 2 || name.StartsWith("shared", StringComparison.Ordinal)) continue;
            float std = name.EndsWith("relative_attention_bias.weight", StringComparison.Ordinal) ? MathF.Pow(config.DModel, -0.5f)
                : MathF.Pow(p.Size(1), -0.5f);
            p.CopyFrom(Tensor.RandN(p.Shape.ToArray(), g, 0f, std));
        }
    }

    /// <summary>The configuration.</summary>
    public T5Config Config { get; }
    /// <summary>Token embedding <c>shared</c> (V, C) of both stacks (and the tied head).</summary>
    public Embedding Shared => Child<Embedding>("shared");
    /// <summary>The encoder stack <c>encoder</c>.</summary>
    public T5Stack Encoder => Child<T5Stack>("encoder");
    /// <summary>The decoder stack <c>decoder</c>.</summary>
    public T5Stack Decoder => Child<T5Stack>("decoder");
    /// <summary>Separate output head <c>lm_head</c> (V, C), or null when tied to <see cref="Shared"/>.</summary>
    public ILinear? LmHead => ChildOrNull<ILinear>("lm_head");

    /// <inheritdoc/>
    public override int VocabSize => Config.VocabSize;
    /// <inheritdoc/>
    public override int DecoderStartTokenId => Config.DecoderStartTokenId;
    /// <inheritdoc/>
    public override int HiddenSize => Config.DModel;
    /// <inheritdoc/>
    public override int PadTokenId => Config.PadTokenId;
    /// <inheritdoc/>
    public override int EosTokenId => Config.EosTokenId;
    /// <inheritdoc/>
    public override int MaxTargetLength => Config.MaxTargetLength;

    /// <summary>The attention options of every T5 attention: no biases, separate q/k/v/o, head width d_kv, score scale 1.</summary>
    internal static AttentionOptions AttentionOptionsOf(T5Config c, bool causal) =>
        new(c.DModel, c.Heads, Causal: causal, Bias: false, Dropout: c.Dropout, FusedQkv: false, HeadDim: c.DKv, Scale: 1f);

    /// <inheritdoc/>
    public override Tensor Encode(Tensor inputIds, Tensor? attentionMask = null)
    {
        Seq2SeqChecks.Source("T5.Encode", inputIds, attentionMask);
        var mask = attentionMask is null ? null : AttentionMasks.ToKeyMask(attentionMask, "T5.Encode");
        return Encoder.Forward(Shared.Forward(inputIds), mask);                                  // (B, S, C)
    }

    /// <inheritdoc/>
    public override Tensor Decode(Tensor decoderIds, Tensor encoderHidden, Tensor? encoderMask = null, Seq2SeqCaches? caches = null)
    {
        Seq2SeqChecks.Target("T5.Decode", decoderIds, encoderHidden, Config.DModel, caches, MaxTargetLength, Config.DecoderLayers);
        var mask = encoderMask is null ? null : AttentionMasks.ToKeyMask(encoderMask, "T5.Decode");
        var h = Decoder.Forward(Shared.Forward(decoderIds), null, caches?.SelfAttention, encoderHidden, mask, caches?.CrossAttention);   // (B, T, C)
        if (LmHead is { } head) return head.Forward(h);                                        // (B, T, V)
        return Tensor.Linear(h * MathF.Pow(Config.DModel, -0.5f), Shared.Weight);               // (B, T, V), tied: rescaled first
    }

    /// <inheritdoc/>
    public override Seq2SeqCaches CreateCaches(int maxTargetLength) => Seq2SeqChecks.Caches(Config.DecoderLayers, maxTargetLength, MaxTargetLength);

    /// <inheritdoc/>
    /// <remarks>
    /// Our attention projections are <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>o_proj</c> where Hugging Face has <c>q</c>,
    /// <c>k</c>, <c>v</c>, <c>o</c>; the bias table sits beside <c>SelfAttention</c> instead of inside it.
    /// </remarks>
    public override string HuggingFaceModulePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        foreach (var p in (string[])["q", "k", "v", "o"])
            if (path.EndsWith($"Attention.{p}_proj", StringComparison.Ordinal)) return path[..^"_proj".Length];
        const string rel = ".relative_attention_bias";
        return path.EndsWith(rel, StringComparison.Ordinal) ? path[..^rel.Length] + ".SelfAttention" + rel : path;
    }

    /// <summary>The Hugging Face tensor names of this model (<c>T5ForConditionalGeneration</c>, canonical names: <c>shared.weight</c>, no aliases).</summary>
    public IReadOnlyList<HfBinding> HfBindings()
    {
        var r = new List<HfBinding> { new("shared.weight", Shared.Weight) };
        foreach (var (stackName, stack) in (ReadOnlySpan<(string, T5Stack)>)[("encoder", Encoder), ("decoder", Decoder)])
        {
            for (int i = 0; i < stack.Block.Count; i++)
            {
                var b = stack.Block[i];
                string p = $"{stackName}.block.{i}.layer.";
                Attention(r, p + "0.SelfAttention.", b.SelfAttention.SelfAttention);
                if (b.SelfAttention.RelativeAttentionBias is { } table) r.Add(new(p + "0.SelfAttention.relative_attention_bias.weight", table.Weight));
                r.Add(new(p + "0.layer_norm.weight", b.SelfAttention.LayerNorm.Weight));
                int f = 1;
                if (b.CrossAttention is { } cross)
                {
                    Attention(r, p + "1.EncDecAttention.", cross.EncDecAttention);
                    r.Add(new(p + "1.layer_norm.weight", cross.LayerNorm.Weight));
                    f = 2;
                }
                var ff = b.FeedForward.DenseReluDense;
                string fp = $"{p}{f}.DenseReluDense.";
                if (ff.Gated is { } g)
                {
                    r.Add(Dense(fp + "wi_0", g.Wi0));
                    r.Add(Dense(fp + "wi_1", g.Wi1));
                }
                else r.Add(Dense(fp + "wi", ff.Wi!));
                r.Add(Dense(fp + "wo", ff.Wo));
                r.Add(new($"{p}{f}.layer_norm.weight", b.FeedForward.LayerNorm.Weight));
            }
            r.Add(new($"{stackName}.final_layer_norm.weight", stack.FinalLayerNorm.Weight));
        }
        if (LmHead is { } head) r.Add(Dense("lm_head", head));
        return r;
    }

    private static void Attention(List<HfBinding> r, string prefix, MultiHeadAttention a)
    {
        r.Add(Dense(prefix + "q", a.Query!));
        r.Add(Dense(prefix + "k", a.Key!));
        r.Add(Dense(prefix + "v", a.Value!));
        r.Add(Dense(prefix + "o", a.Output));
    }

    private static HfBinding Dense(string name, ILinear l) => new(name + ".weight", l.RequireWeight("T5.HfBindings " + name));

    /// <summary>
    /// Loads Hugging Face T5 weights by tensor name. The tied aliases <c>encoder.embed_tokens.weight</c>,
    /// <c>decoder.embed_tokens.weight</c> (and <c>lm_head.weight</c> when the head is tied) are accepted; a file holding only an
    /// alias gives the shared embedding from it. Every missing, unexpected or mis-shaped tensor is reported.
    /// </summary>
    public void LoadHuggingFace(ITensorSource source, string fileName = "model.safetensors")
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!source.Names.Contains("shared.weight"))
            foreach (var alias in (string[])["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"])
                if (source.Names.Contains(alias))
                {
                    source = new RenamedTensorSource(source, n => n == alias ? "shared.weight" : n);
                    break;
                }
        HfWeights.Load(source, HfBindings(), fileName, [], n => n is "encoder.embed_tokens.weight" or "decoder.embed_tokens.weight"
            || (LmHead is null && n == "lm_head.weight"));
    }
}
