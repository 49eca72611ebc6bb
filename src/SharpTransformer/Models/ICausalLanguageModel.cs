using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models;

/// <summary>A decoder-only language model that generation, training and evaluation can drive.</summary>
public interface ICausalLanguageModel
{
    /// <summary>Vocabulary size V.</summary>
    int VocabSize { get; }

    /// <summary>Maximum positions.</summary>
    int ContextLength { get; }

    /// <summary>One empty KV cache per layer.</summary>
    IKvCache[] CreateCaches();

    /// <summary>
    /// Int32 ids (B, T) → logits (B, T, V), continuing the cached positions when <paramref name="caches"/> is given.
    /// positions: optional Int32 (B, T) position ids; keyMask: optional (B, Tk) Float32, 0 on padding keys.
    /// </summary>
    Tensor Forward(Tensor ids, IKvCache[]? caches = null, Tensor? positions = null, Tensor? keyMask = null);
}
