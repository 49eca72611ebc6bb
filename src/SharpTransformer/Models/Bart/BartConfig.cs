using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models.Bert;

namespace SharpTransformer.Models.Bart;

/// <summary>Hyper-parameters of a BART encoder-decoder (Hugging Face names in comments; defaults are bart-base's).</summary>
/// <param name="VocabSize">Tokens (vocab_size).</param>
/// <param name="DModel">Width C (d_model).</param>
/// <param name="EncoderLayers">Encoder layers (encoder_layers).</param>
/// <param name="DecoderLayers">Decoder layers (decoder_layers).</param>
/// <param name="EncoderHeads">Encoder attention heads (encoder_attention_heads).</param>
/// <param name="DecoderHeads">Decoder attention heads (decoder_attention_heads).</param>
/// <param name="EncoderFfn">Encoder feed-forward width (encoder_ffn_dim).</param>
/// <param name="DecoderFfn">Decoder feed-forward width (decoder_ffn_dim).</param>
/// <param name="MaxPositions">Learned positions (max_position_embeddings); the tables hold two more rows (the offset of 2).</param>
/// <param name="Activation">Feed-forward activation (activation_function: gelu, gelu_new, relu).</param>
/// <param name="ScaleEmbedding">Multiply token embeddings by √C (scale_embedding).</param>
/// <param name="TieEmbeddings">The output head is the shared embedding (tie_word_embeddings).</param>
/// <param name="Dropout">Residual dropout in training (dropout).</param>
/// <param name="PadTokenId">Padding id (pad_token_id).</param>
/// <param name="EosTokenId">End-of-sequence id (eos_token_id).</param>
/// <param name="DecoderStartTokenId">First decoder input (decoder_start_token_id; &lt;/s&gt; in BART).</param>
public sealed record BartConfig(int VocabSize = 50265, int DModel = 768, int EncoderLayers = 6, int DecoderLayers = 6, int EncoderHeads = 12,
    int DecoderHeads = 12, int EncoderFfn = 3072, int DecoderFfn = 3072, int MaxPositions = 1024,
    HiddenActivation Activation = HiddenActivation.Gelu, bool ScaleEmbedding = false, bool TieEmbeddings = true, float Dropout = 0.1f,
    int PadTokenId = 1, int EosTokenId = 2, int DecoderStartTokenId = 2)
{
    /// <summary>A tiny model for tests.</summary>
    public static BartConfig Tiny => new(VocabSize: 64, DModel: 32, EncoderLayers: 2, DecoderLayers: 2, EncoderHeads: 4, DecoderHeads: 4,
        EncoderFfn: 64, DecoderFfn: 64, MaxPositions: 64, Dropout: 0f, PadTokenId: 0, EosTokenId: 1, DecoderStartTokenId: 2);

    /// <summary>Reads a Hugging Face BART <c>config.json</c>.</summary>
    /// <exception cref="NotSupportedException">A pre-norm (mBART) layout or an unknown activation; the message names the value and the file.</exception>
    public static BartConfig FromHuggingFace(HfConfigJson c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (c.Bool(false, "normalize_before") || c.Bool(false, "add_final_layer_norm"))
            throw new NotSupportedException($"BartConfig: {c.FileName} sets normalize_before or add_final_layer_norm (mBART's pre-norm layout); only BART's post-norm layout is supported.");
        string act = c.String("gelu", "activation_function");
        var activation = act switch
        {
            "gelu" => HiddenActivation.Gelu,
            "gelu_new" or "gelu_pytorch_tanh" => HiddenActivation.GeluTanh,
            "relu" => HiddenActivation.Relu,
            _ => throw new NotSupportedException($"BartConfig: {c.FileName} has activation_function '{act}'; supported: gelu, gelu_new, relu."),
        };
        int pad = c.Int(1, "pad_token_id"), eos = c.Int(2, "eos_token_id");
        var config = new BartConfig(
            VocabSize: c.Int(50265, "vocab_size"),
            DModel: c.Int(768, "d_model"),
            EncoderLayers: c.Int(6, "encoder_layers"),
            DecoderLayers: c.Int(6, "decoder_layers"),
            EncoderHeads: c.Int(12, "encoder_attention_heads"),
            DecoderHeads: c.Int(12, "decoder_attention_heads"),
            EncoderFfn: c.Int(3072, "encoder_ffn_dim"),
            DecoderFfn: c.Int(3072, "decoder_ffn_dim"),
            MaxPositions: c.Int(1024, "max_position_embeddings"),
            Activation: activation,
            ScaleEmbedding: c.Bool(false, "scale_embedding"),
            TieEmbeddings: c.Bool(true, "tie_word_embeddings"),
            Dropout: c.Float(0.1f, "dropout"),
            PadTokenId: pad,
            EosTokenId: eos,
            DecoderStartTokenId: c.Int(eos, "decoder_start_token_id"));
        config.Validate(c.FileName);
        return config;
    }

    /// <summary>Checks every size; an error names the field and the file.</summary>
    public void Validate(string fileName = "BartConfig")
    {
        void Positive(int v, string name) { if (v <= 0) throw new ArgumentException($"BartConfig: {fileName}: {name} must be positive, got {v}."); }
        Positive(VocabSize, "vocab_size"); Positive(DModel, "d_model"); Positive(EncoderLayers, "encoder_layers"); Positive(DecoderLayers, "decoder_layers");
        Positive(EncoderHeads, "encoder_attention_heads"); Positive(DecoderHeads, "decoder_attention_heads");
        Positive(EncoderFfn, "encoder_ffn_dim"); Positive(DecoderFfn, "decoder_ffn_dim"); Positive(MaxPositions, "max_position_embeddings");
        if (DModel % EncoderHeads != 0 || DModel % DecoderHeads != 0)
            throw new ArgumentException($"BartConfig: {fileName}: d_model {DModel} is not divisible by the heads ({EncoderHeads}, {DecoderHeads}).");
    }
}
