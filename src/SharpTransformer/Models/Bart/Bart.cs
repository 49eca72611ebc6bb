using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bart;

/// <summary>
/// BART (Hugging Face's <c>BartForConditionalGeneration</c>): a <c>shared</c> token embedding (optionally scaled by √C), learned
/// positions offset by 2, <c>layernorm_embedding</c>, post-norm encoder and decoder layers with GELU feed-forwards, and an output
/// head tied to the embedding plus <c>final_logits_bias</c>. Our module paths are Hugging Face's without the <c>model.</c>
/// prefix, with <c>o_proj</c> for <c>out_proj</c> (<see cref="HuggingFaceModulePath"/> maps them).
/// </summary>
public sealed class Bart : Seq2SeqLanguageModel
{
    /// <summary>Builds a randomly initialised model (N(0, 0.02) as Hugging Face's init_std).</summary>
    public Bart(BartConfig config, ulong seed = 1337)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var g = new Generator(seed);
        RegisterModule("shared", new Embedding(config.VocabSize, config.DModel, g, 0.02f));
        RegisterModule("encoder", new BartStack(config, decoder: false, g));
        RegisterModule("decoder", new BartStack(config, decoder: true, g));
        // A buffer in Hugging Face (zeros); a parameter here, so that fine-tuning may move it (its gradient is the column sum of dlogits).
        FinalLogitsBias = RegisterParameter("final_logits_bias", Tensor.Zeros(1, config.VocabSize));
        if (!config.TieEmbeddings) RegisterModule<ILinear>("lm_head", new Linear(config.DModel, config.VocabSize, bias: false, g));
        using var _ = TensorScope.Suspend();
        foreach (var (name, p) in NamedParameters())
            if (p.Rank == 2 && name != "final_logits_bias") p.CopyFrom(Tensor.RandN(p.Shape.ToArray(), g, 0f, 0.02f));
    }

    /// <summary>The configuration.</summary>
    public BartConfig Config { get; }
    /// <summary>Token embedding <c>shared</c> (V, C) of both stacks and the tied head.</summary>
    public Embedding Shared => Child<Embedding>("shared");
    /// <summary>The encoder stack.</summary>
    public BartStack Encoder => Child<BartStack>("encoder");
    /// <summary>The decoder stack.</summary>
    public BartStack Decoder => Child<BartStack>("decoder");
    /// <summary>Added to the logits, (1, V).</summary>
    public Tensor FinalLogitsBias { get; }
    /// <summary>Separate output head <c>lm_head</c>, or null when tied to <see cref="Shared"/>.</summary>
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
    public override int MaxTargetLength => Config.MaxPositions;

    /// <inheritdoc/>
    public override Tensor Encode(Tensor inputIds, Tensor? attentionMask = null)
    {
        Seq2SeqChecks.Source("Bart.Encode", inputIds, attentionMask);
        if (inputIds.Size(1) > Config.MaxPositions)
            throw new ArgumentException($"Bart.Encode: the source has {inputIds.Size(1)} positions, more than max_position_embeddings {Config.MaxPositions}.");
        var mask = attentionMask is null ? null : AttentionMasks.ToKeyMask(attentionMask, "Bart.Encode");
        return Encoder.Forward(Shared.Forward(inputIds), mask);                                   // (B, S, C)
    }

    /// <inheritdoc/>
    public override Tensor Decode(Tensor decoderIds, Tensor encoderHidden, Tensor? encoderMask = null, Seq2SeqCaches? caches = null)
    {
        Seq2SeqChecks.Target("Bart.Decode", decoderIds, encoderHidden, Config.DModel, caches, MaxTargetLength, Config.DecoderLayers);
        var mask = encoderMask is null ? null : AttentionMasks.ToKeyMask(encoderMask, "Bart.Decode");
        var h = Decoder.Forward(Shared.Forward(decoderIds), null, caches?.SelfAttention, encoderHidden, mask, caches?.CrossAttention);   // (B, T, C)
        var logits = LmHead is { } head ? head.Forward(h) : Tensor.Linear(h, Shared.Weight);      // (B, T, V)
        return logits + FinalLogitsBias;                                                          // + (1, V)
    }

    /// <inheritdoc/>
    public override Seq2SeqCaches CreateCaches(int maxTargetLength) => Seq2SeqChecks.Caches(Config.DecoderLayers, maxTargetLength, MaxTargetLength);

    /// <inheritdoc/>
    /// <remarks><c>BartForConditionalGeneration</c> holds the model under <c>model.</c>; <c>lm_head</c> and <c>final_logits_bias</c> sit at the root.</remarks>
    public override string HuggingFaceModulePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path == "lm_head" || path.StartsWith("lm_head.", StringComparison.Ordinal) || path == "final_logits_bias") return path;
        if (path.EndsWith("attn.o_proj", StringComparison.Ordinal)) path = path[..^"o_proj".Length] + "out_proj";
        return "model." + path;
    }

    /// <summary>The Hugging Face tensor names of this model (canonical: <c>model.shared.weight</c>, no aliases).</summary>
    public IReadOnlyList<HfBinding> HfBindings()
    {
        var r = new List<HfBinding> { new("model.shared.weight", Shared.Weight) };
        foreach (var (stackName, stack) in (ReadOnlySpan<(string, BartStack)>)[("encoder", Encoder), ("decoder", Decoder)])
        {
            string s = $"model.{stackName}.";
            r.Add(new(s + "embed_positions.weight", stack.EmbedPositions.Weight));
            Norm(r, s + "layernorm_embedding", stack.LayernormEmbedding);
            for (int i = 0; i < stack.Layers.Count; i++)
            {
                var l = stack.Layers[i];
                string p = $"{s}layers.{i}.";
                Attention(r, p + "self_attn.", l.SelfAttention);
                Norm(r, p + "self_attn_layer_norm", l.SelfAttentionLayerNorm);
                if (l.EncoderAttention is { } cross)
                {
                    Attention(r, p + "encoder_attn.", cross);
                    Norm(r, p + "encoder_attn_layer_norm", l.EncoderAttentionLayerNorm!);
                }
                Dense(r, p + "fc1", l.Fc1);
                Dense(r, p + "fc2", l.Fc2);
                Norm(r, p + "final_layer_norm", l.FinalLayerNorm);
            }
        }
        r.Add(new("final_logits_bias", FinalLogitsBias));
        if (LmHead is { } head) Dense(r, "lm_head", head);
        return r;
    }

    private static void Attention(List<HfBinding> r, string prefix, MultiHeadAttention a)
    {
        Dense(r, prefix + "q_proj", a.Query!);
        Dense(r, prefix + "k_proj", a.Key!);
        Dense(r, prefix + "v_proj", a.Value!);
        Dense(r, prefix + "out_proj", a.Output);
    }

    private static void Dense(List<HfBinding> r, string name, ILinear l)
    {
        r.Add(new(name + ".weight", l.RequireWeight("Bart.HfBindings " + name)));
        if (l is Linear { Bias: { } b }) r.Add(new(name + ".bias", b));
    }

    private static void Norm(List<HfBinding> r, string name, LayerNorm n)
    {
        r.Add(new(name + ".weight", n.Weight));
        r.Add(new(name + ".bias", n.Bias!));
    }

    /// <summary>
    /// Loads Hugging Face BART weights by tensor name (an optional <c>model.</c> prefix is accepted on a bare <c>BartModel</c>
    /// file). The tied aliases <c>model.encoder.embed_tokens.weight</c>, <c>model.decoder.embed_tokens.weight</c> (and
    /// <c>lm_head.weight</c> when tied) are accepted; a file without <c>model.shared.weight</c> gives it from an alias; a missing
    /// <c>final_logits_bias</c> stays zero. Every missing, unexpected or mis-shaped tensor is reported.
    /// </summary>
    public void LoadHuggingFace(ITensorSource source, string fileName = "model.safetensors")
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!source.Names.Any(n => n.StartsWith("model.", StringComparison.Ordinal)))
            source = new RenamedTensorSource(source, n => n == "final_logits_bias" || n.StartsWith("lm_head", StringComparison.Ordinal) ? n : "model." + n);
        if (!source.Names.Contains("model.shared.weight"))
            foreach (var alias in (string[])["model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"])
                if (source.Names.Contains(alias))
                {
                    var a = alias;
                    source = new RenamedTensorSource(source, n => n == a ? "model.shared.weight" : n);
                    break;
                }
        var bindings = HfBindings();
        if (!source.Names.Contains("final_logits_bias")) bindings = bindings.Where(b => b.HfName != "final_logits_bias").ToList();
        HfWeights.Load(source, bindings, fileName, [], n => n is "model.encoder.embed_tokens.weight" or "model.decoder.embed_tokens.weight"
            || (LmHead is null && n == "lm_head.weight"));
    }
}
