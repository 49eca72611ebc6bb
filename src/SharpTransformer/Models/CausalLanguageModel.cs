using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models;

/// <summary>
/// The contract of every decoder-only language model (GPT-2, Llama, ...): generation, trainers, task heads and the CLI take
/// this type, so they reach both the model's forward pass and its parameters without casts.
/// </summary>
public abstract class CausalLanguageModel : Module
{
    /// <inheritdoc/>
    public abstract int VocabSize { get; }

    /// <inheritdoc/>
    public abstract int ContextLength { get; }

    /// <inheritdoc/>
    public abstract int HiddenSize { get; }

    /// <summary>One empty cache per layer, able to hold <see cref="ContextLength"/> positions.</summary>
    public abstract IKvCache[] CreateCaches();

    /// <summary>
    /// Int32 ids (B, T) → final hidden states (B, T, C), after the last norm, continuing the cached positions when
    /// <paramref name="caches"/> is given. positions: optional Int32 (B, T) or (T) position ids; keyMask: optional (B, Tk)
    /// Float32, 0 on padding keys (Tk includes the cached positions).
    /// </summary>
    public abstract Tensor Hidden(Tensor ids, IKvCache[]? caches = null, Tensor? positions = null, Tensor? keyMask = null);

    /// <summary>Hidden states (..., C) → logits (..., V) through the model's output head.</summary>
    public abstract Tensor Head(Tensor hidden);

    /// <summary>Int32 ids (B, T) → logits (B, T, V); arguments as in <see cref="Hidden"/>.</summary>
    public Tensor Forward(Tensor ids, IKvCache[]? caches = null, Tensor? positions = null, Tensor? keyMask = null) =>
        Head(Hidden(ids, caches, positions, keyMask));

    /// <summary>
    /// The path Hugging Face transformers gives the submodule at <paramref name="path"/> of this model (our paths are theirs
    /// without the backbone prefix: GPT-2 adds <c>transformer.</c>, Llama <c>model.</c> except for <c>lm_head</c>). Adapter
    /// files in PEFT's layout name modules this way.
    /// </summary>
    public virtual string HuggingFaceModulePath(string path) => path;

    /// <summary>The backend the parameters live on (inputs built on the host are moved there), or null without parameters.</summary>
    public Backends.IBackend? Backend => Parameters().FirstOrDefault()?.Backend;
}
