using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>
/// Encoder embeddings: word + position (+ token type when the family has segments), then LayerNorm and dropout.
/// RoBERTa's positions start past the padding id and skip padding tokens (see <see cref="EncoderKind.Roberta"/>).
/// </summary>
public sealed class BertEmbeddings : Module
{
    /// <summary>Creates the embeddings.</summary>
    public BertEmbeddings(BertConfig config, Generator generator)
    {
        Config = config;
        int c = config.HiddenSize;
        RegisterModule("word", new Embedding(config.VocabSize, c, generator, 0.02f));
        RegisterModule("position", new Embedding(config.MaxPositions, c, generator, 0.02f));
        if (config.HasTokenTypes) RegisterModule("token_type", new Embedding(config.TypeVocabSize, c, generator, 0.02f));
        RegisterModule("norm", new LayerNorm(c, config.LayerNormEps));
        if (config.HiddenDropout > 0f) RegisterModule("dropout", new Dropout(config.HiddenDropout, generator));
    }

    /// <summary>The configuration.</summary>
    public BertConfig Config { get; }
    /// <summary>Word table (V, C); the masked-LM decoder is tied to it.</summary>
    public Embedding Word => Child<Embedding>("word");
    /// <summary>Position table (MaxPositions, C).</summary>
    public Embedding Position => Child<Embedding>("position");
    /// <summary>Segment table (TypeVocabSize, C), or null for DistilBERT.</summary>
    public Embedding? TokenType => ChildOrNull<Embedding>("token_type");
    /// <summary>LayerNorm after the sum.</summary>
    public LayerNorm Norm => Child<LayerNorm>("norm");

    /// <summary>Int32 ids (B, T) and optional Int32 segment ids (B, T) → (B, T, C).</summary>
    public Tensor Forward(Tensor inputIds, Tensor? tokenTypeIds = null)
    {
        int b = inputIds.Size(0), t = inputIds.Size(1);
        var x = Word.Forward(inputIds);                                           // (B, T, C)
        x = x.Add(Position.Forward(PositionIds(inputIds)));                       // (T, C) or (B, T, C) broadcast
        if (TokenType is { } tokenType)
        {
            var types = tokenTypeIds ?? Tensor.FromArray(new int[b * t], b, t).To(inputIds.Backend);
            if (!types.Shape.SequenceEqual(inputIds.Shape))
                throw new ArgumentException($"BertEmbeddings: token type ids {types.ShapeString} do not match input ids {inputIds.ShapeString}.");
            x = x.Add(tokenType.Forward(types));                                  // (B, T, C)
        }
        x = Norm.Forward(x);
        return ChildOrNull<Dropout>("dropout") is { } dropout ? dropout.Forward(x) : x;
    }

    /// <summary>
    /// Position ids: (T) = 0..T-1 for BERT and DistilBERT; (B, T) for RoBERTa, where a token's position is the padding id plus
    /// the number of non-padding tokens up to and including it, and a padding token's position is the padding id.
    /// </summary>
    public Tensor PositionIds(Tensor inputIds)
    {
        int b = inputIds.Size(0), t = inputIds.Size(1);
        if (t > Config.MaxSequenceLength)
            throw new ArgumentException($"BertEmbeddings: {t} tokens exceed the {Config.MaxSequenceLength} positions of the model.");
        if (Config.Kind != EncoderKind.Roberta) return Tensor.FromArray(Enumerable.Range(0, t).ToArray()).To(inputIds.Backend);
        var ids = inputIds.ToIntArray();
        var pos = new int[b * t];
        int pad = Config.PadTokenId;
        for (int i = 0; i < b; i++)
        {
            int count = 0;
            for (int j = 0; j < t; j++)
            {
                int k = i * t + j;
                pos[k] = ids[k] == pad ? pad : pad + ++count;
            }
        }
        return Tensor.FromArray(pos, b, t).To(inputIds.Backend);
    }
}
