using SharpTransformer.Tensors;

namespace SharpTransformer.Models;

/// <summary>The outputs of an encoder pass.</summary>
/// <param name="LastHiddenState">Float32 (B, T, C).</param>
/// <param name="PooledOutput">Float32 (B, C) from the model's own pooler (BERT), or null when it has none.</param>
public sealed record EncoderOutput(Tensor LastHiddenState, Tensor? PooledOutput);

/// <summary>A bidirectional encoder (BERT, DistilBERT, RoBERTa) that task heads can sit on.</summary>
public interface ITextEncoder
{
    /// <summary>Width C of the hidden states.</summary>
    int HiddenSize { get; }

    /// <summary>Vocabulary size V.</summary>
    int VocabSize { get; }

    /// <summary>Maximum sequence length.</summary>
    int MaxPositions { get; }

    /// <summary>
    /// Int32 ids (B, T) → hidden states. attentionMask: optional (B, T), Int32 or Float32, 1 on real tokens and 0 on
    /// padding; tokenTypeIds: optional Int32 (B, T) segment ids (ignored by models without segment embeddings).
    /// </summary>
    EncoderOutput Encode(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null);
}
