using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models;

/// <summary>A causal decoder whose final hidden states (before the LM head) task heads can use.</summary>
public interface IDecoderBackbone : ICausalLanguageModel
{
    /// <summary>Width C of the hidden states.</summary>
    int HiddenSize { get; }

    /// <summary>Int32 ids (B, T) → final hidden states (B, T, C), after the last norm. Arguments as in <see cref="ICausalLanguageModel.Forward"/>.</summary>
    Tensor Hidden(Tensor ids, IKvCache[]? caches = null, Tensor? positions = null, Tensor? keyMask = null);
}
