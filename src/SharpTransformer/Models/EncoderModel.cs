using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models;

/// <summary>
/// The contract of every bidirectional encoder (BERT, DistilBERT, RoBERTa, the pre-LN <c>TransformerEncoder</c>): task heads,
/// pipelines and trainers take this type, so they reach both the encoder's forward pass and its parameters without casts.
/// </summary>
public abstract class EncoderModel : Module, ITextEncoder
{
    /// <inheritdoc/>
    public abstract int HiddenSize { get; }

    /// <inheritdoc/>
    public abstract int VocabSize { get; }

    /// <inheritdoc/>
    public abstract int MaxPositions { get; }

    /// <inheritdoc/>
    public abstract EncoderOutput Encode(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null);

    /// <summary>The backend the parameters live on (inputs built on the host are moved there), or null without parameters.</summary>
    public Backends.IBackend? Backend => Parameters().FirstOrDefault()?.Backend;
}
