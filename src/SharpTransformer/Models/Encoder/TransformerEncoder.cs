using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Encoder;

/// <summary>
/// Pre-LN bidirectional transformer encoder: token + learned position embeddings, dropout, pre-norm blocks
/// (x + attn(LN(x)), x + mlp(LN(x))) with GELU, final LayerNorm. Padding is masked out of attention.
/// Initialised N(0, 0.02) with residual projections scaled by 1/sqrt(2·layers).
/// </summary>
public sealed class TransformerEncoder : EncoderModel
{
    /// <summary>Builds a randomly initialised encoder.</summary>
    public TransformerEncoder(TransformerEncoderConfig config, ulong seed = 1337)
    {
        config.Validate();
        Config = config;
        var g = new Generator(seed);
        int c = config.Dim;
        RegisterModule("tok", new Embedding(config.VocabSize, c, g, 0.02f));
        RegisterModule("pos", new Embedding(config.MaxPositions, c, g, 0.02f));
        if (config.Dropout > 0f) RegisterModule("drop", new Dropout(config.Dropout, g));
        var opts = new BlockOptions(new AttentionOptions(c, config.Heads, Causal: false, Dropout: config.Dropout), config.Hidden,
            FeedForwardKind.Gelu, NormKind.LayerNorm, 1e-5f);
        RegisterModule("blocks", new ModuleList<TransformerBlock>(Enumerable.Range(0, config.Layers).Select(_ => new TransformerBlock(opts, g))));
        RegisterModule("norm", new LayerNorm(c, 1e-5f));
        GptInit.Apply(Blocks.Items, config.Layers, g);
    }

    /// <summary>The configuration.</summary>
    public TransformerEncoderConfig Config { get; }
    /// <summary>Token embedding (V, C).</summary>
    public Embedding TokenEmbedding => Child<Embedding>("tok");
    /// <summary>Position embedding (MaxPositions, C).</summary>
    public Embedding PositionEmbedding => Child<Embedding>("pos");
    /// <summary>The blocks.</summary>
    public ModuleList<TransformerBlock> Blocks => Child<ModuleList<TransformerBlock>>("blocks");
    /// <summary>Final LayerNorm.</summary>
    public LayerNorm Norm => Child<LayerNorm>("norm");

    /// <inheritdoc/>
    public override int HiddenSize => Config.Dim;
    /// <inheritdoc/>
    public override int VocabSize => Config.VocabSize;
    /// <inheritdoc/>
    public override int MaxPositions => Config.MaxPositions;

    /// <inheritdoc/>
    public override EncoderOutput Encode(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
        => new(Forward(inputIds, attentionMask), null);

    /// <summary>Int32 ids (B, T) and optional mask (B, T) → hidden states (B, T, C).</summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null)
    {
        if (inputIds.Rank != 2 || inputIds.DType != DType.Int32)
            throw new ArgumentException($"TransformerEncoder.Forward: ids must be Int32 (batch, time), got {inputIds.DType} {inputIds.ShapeString}.");
        int t = inputIds.Size(1);
        if (t > Config.MaxPositions) throw new ArgumentException($"TransformerEncoder.Forward: {t} positions exceed the maximum {Config.MaxPositions}.");
        var keyMask = attentionMask is null ? null : AttentionMasks.ToKeyMask(attentionMask, "TransformerEncoder.Forward");
        if (keyMask is not null && !keyMask.Shape.SequenceEqual(inputIds.Shape))
            throw new ArgumentException($"TransformerEncoder.Forward: attention mask {keyMask.ShapeString} does not match ids {inputIds.ShapeString}.");
        var positions = Tensor.FromArray(Enumerable.Range(0, t).ToArray()).To(inputIds.Backend);
        var x = TokenEmbedding.Forward(inputIds).Add(PositionEmbedding.Forward(positions));   // (B, T, C)
        if (ChildOrNull<Dropout>("drop") is { } drop) x = drop.Forward(x);
        foreach (var block in Blocks.Items) x = block.Forward(x, null, null, keyMask);
        return Norm.Forward(x);                                                               // (B, T, C)
    }
}
