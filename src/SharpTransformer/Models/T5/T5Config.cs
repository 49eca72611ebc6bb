using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models.Bert;

namespace SharpTransformer.Models.T5;

/// <summary>Hyper-parameters of a T5 encoder-decoder (Hugging Face names in comments; defaults are t5-small's).</summary>
/// <param name="VocabSize">Tokens (vocab_size).</param>
/// <param name="DModel">Width C (d_model).</param>
/// <param name="DKv">Width of one attention head (d_kv), independent of C / heads.</param>
/// <param name="DFf">Feed-forward width (d_ff).</param>
/// <param name="Layers">Encoder blocks (num_layers).</param>
/// <param name="DecoderLayers">Decoder blocks (num_decoder_layers, default num_layers).</param>
/// <param name="Heads">Attention heads (num_heads).</param>
/// <param name="RelativeBuckets">Relative position buckets (relative_attention_num_buckets).</param>
/// <param name="RelativeMaxDistance">Distance beyond which positions share the last bucket (relative_attention_max_distance).</param>
/// <param name="Eps">T5 layer norm epsilon (layer_norm_epsilon).</param>
/// <param name="Activation">Feed-forward activation (the last part of feed_forward_proj; <c>gated-gelu</c> is the tanh GELU).</param>
/// <param name="GatedFeedForward">Gated feed-forward <c>wi_0</c>, <c>wi_1</c> (feed_forward_proj "gated-...", T5 v1.1).</param>
/// <param name="TieEmbeddings">The output head is the shared embedding, applied after the d_model^-0.5 rescale (tie_word_embeddings).</param>
/// <param name="Dropout">Dropout rate in training (dropout_rate).</param>
/// <param name="PadTokenId">Padding id (pad_token_id).</param>
/// <param name="EosTokenId">End-of-sequence id (eos_token_id).</param>
/// <param name="DecoderStartTokenId">First decoder input (decoder_start_token_id; the pad id in T5).</param>
/// <param name="MaxTargetLength">Decoder positions at most (n_positions): T5 has no learned positions, this only bounds caches.</param>
public sealed record T5Config(int VocabSize = 32128, int DModel = 512, int DKv = 64, int DFf = 2048, int Layers = 6, int DecoderLayers = 6,
    int Heads = 8, int RelativeBuckets = 32, int RelativeMaxDistance = 128, float Eps = 1e-6f,
    HiddenActivation Activation = HiddenActivation.Relu, bool GatedFeedForward = false, bool TieEmbeddings = true, float Dropout = 0.1f,
    int PadTokenId = 0, int EosTokenId = 1, int DecoderStartTokenId = 0, int MaxTargetLength = 512)
{
    /// <summary>A tiny model for tests.</summary>
    public static T5Config Tiny => new(VocabSize: 64, DModel: 32, DKv: 8, DFf: 64, Layers: 2, DecoderLayers: 2, Heads: 4, RelativeBuckets: 16,
        RelativeMaxDistance: 32, Dropout: 0f, MaxTargetLength: 64);

    /// <summary>Reads a Hugging Face T5 <c>config.json</c>.</summary>
    /// <exception cref="NotSupportedException"><c>feed_forward_proj</c> is a value we do not know; the message names it and the file.</exception>
    public static T5Config FromHuggingFace(HfConfigJson c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var (act, gated) = ParseFeedForward(c.String("relu", "feed_forward_proj"), c.FileName);
        int layers = c.Int(6, "num_layers");
        var config = new T5Config(
            VocabSize: c.Int(32128, "vocab_size"),
            DModel: c.Int(512, "d_model"),
            DKv: c.Int(64, "d_kv"),
            DFf: c.Int(2048, "d_ff"),
            Layers: layers,
            DecoderLayers: c.Int(layers, "num_decoder_layers"),
            Heads: c.Int(8, "num_heads"),
            RelativeBuckets: c.Int(32, "relative_attention_num_buckets"),
            RelativeMaxDistance: c.Int(128, "relative_attention_max_distance"),
            Eps: c.Float(1e-6f, "layer_norm_epsilon"),
            Activation: act,
            GatedFeedForward: gated,
            TieEmbeddings: c.Bool(true, "tie_word_embeddings"),
            Dropout: c.Float(0.1f, "dropout_rate"),
            PadTokenId: c.Int(0, "pad_token_id"),
            EosTokenId: c.Int(1, "eos_token_id"),
            DecoderStartTokenId: c.Int(c.Int(0, "pad_token_id"), "decoder_start_token_id"),
            MaxTargetLength: c.Int(512, "n_positions"));
        config.Validate(c.FileName);
        return config;
    }

    /// <summary>
    /// Hugging Face's reading of <c>feed_forward_proj</c>: <c>"act"</c> or <c>"gated-act"</c> with act relu, gelu or gelu_new;
    /// <c>"gated-gelu"</c> means the tanh GELU (<c>gelu_new</c>), as in T5 v1.1.
    /// </summary>
    public static (HiddenActivation Activation, bool Gated) ParseFeedForward(string value, string fileName = "config.json")
    {
        ArgumentNullException.ThrowIfNull(value);
        var parts = value.Split('-');
        bool gated = parts.Length == 2 && parts[0] == "gated";
        string act = parts[^1];
        if (parts.Length > 2 || (parts.Length == 2 && !gated) || act is not ("relu" or "gelu" or "gelu_new"))
            throw new NotSupportedException($"T5Config: {fileName} has feed_forward_proj '{value}', which is not supported; " +
                "supported: relu, gelu, gelu_new, gated-relu, gated-gelu, gated-gelu_new.");
        if (value == "gated-gelu") act = "gelu_new";
        return (act switch { "relu" => HiddenActivation.Relu, "gelu_new" => HiddenActivation.GeluTanh, _ => HiddenActivation.Gelu }, gated);
    }

    /// <summary>The value of <c>feed_forward_proj</c> that <see cref="ParseFeedForward"/> reads back as this configuration.</summary>
    public string FeedForwardProj => (GatedFeedForward, Activation) switch
    {
        (true, HiddenActivation.GeluTanh) => "gated-gelu",
        (true, HiddenActivation.Gelu) => throw new InvalidOperationException("T5Config: a gated exact-GELU feed-forward has no feed_forward_proj name."),
        (var g, var a) => (g ? "gated-" : "") + (a switch { HiddenActivation.Relu => "relu", HiddenActivation.GeluTanh => "gelu_new", _ => "gelu" }),
    };

    /// <summary>Checks every size; an error names the field and the file.</summary>
    public void Validate(string fileName = "T5Config")
    {
        void Positive(int v, string name) { if (v <= 0) throw new ArgumentException($"T5Config: {fileName}: {name} must be positive, got {v}."); }
        Positive(VocabSize, "vocab_size"); Positive(DModel, "d_model"); Positive(DKv, "d_kv"); Positive(DFf, "d_ff");
        Positive(Layers, "num_layers"); Positive(DecoderLayers, "num_decoder_layers"); Positive(Heads, "num_heads");
        Positive(RelativeBuckets, "relative_attention_num_buckets"); Positive(RelativeMaxDistance, "relative_attention_max_distance");
        Positive(MaxTargetLength, "n_positions");
        if (RelativeBuckets < 4) throw new ArgumentException($"T5Config: {fileName}: relative_attention_num_buckets must be at least 4, got {RelativeBuckets}.");
        if (GatedFeedForward && Activation == HiddenActivation.Gelu)
            throw new NotSupportedException($"T5Config: {fileName}: a gated exact-GELU feed-forward has no feed_forward_proj name (\"gated-gelu\" is the tanh GELU).");
    }
}
