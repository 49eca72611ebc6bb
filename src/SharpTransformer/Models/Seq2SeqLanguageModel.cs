using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models;

/// <summary>
/// The contract of every encoder-decoder language model (T5, BART, as Hugging Face's <c>...ForConditionalGeneration</c>):
/// the encoder runs once over the source, the decoder runs step by step over the target, attending to its own past through
/// self-attention caches and to the encoder output through cross-attention caches. Generation, trainers and the CLI take this
/// type. Implemented by <see cref="T5.T5"/> and <see cref="Bart.Bart"/>.
/// </summary>
public abstract class Seq2SeqLanguageModel : Module
{
    /// <summary>Vocabulary size V of the decoder's output (shared with the encoder in T5 and BART).</summary>
    public abstract int VocabSize { get; }

    /// <summary>
    /// The token the decoder starts from (config.json's <c>decoder_start_token_id</c>: the padding id 0 in T5, <c>&lt;/s&gt;</c>
    /// id 2 in BART).
    /// </summary>
    public abstract int DecoderStartTokenId { get; }

    /// <summary>Width C of the encoder's hidden states (what the decoder's cross-attention reads).</summary>
    public abstract int HiddenSize { get; }

    /// <summary>The padding id (config.json's <c>pad_token_id</c>): what shifted labels put in place of the ignored -100.</summary>
    public abstract int PadTokenId { get; }

    /// <summary>The end-of-sequence id (config.json's <c>eos_token_id</c>): generation stops after it.</summary>
    public abstract int EosTokenId { get; }

    /// <summary>
    /// The most decoder positions the model takes (BART: its learned positions, <c>max_position_embeddings</c>; T5, which has
    /// relative positions only: <c>n_positions</c>, 512 by default). Longer decoder inputs are an error naming both lengths.
    /// </summary>
    public abstract int MaxTargetLength { get; }

    /// <summary>
    /// Int32 source ids (B, S) → encoder hidden states (B, S, C), after the encoder's final norm. attentionMask: optional (B, S),
    /// Int32 or Float32, 1 on real tokens and 0 on padding.
    /// </summary>
    public abstract Tensor Encode(Tensor inputIds, Tensor? attentionMask = null);

    /// <summary>
    /// Int32 decoder ids (B, T) → logits (B, T, V), with causal self-attention over the decoder positions and cross-attention over
    /// <paramref name="encoderHidden"/> (B, S, C), whose padding <paramref name="encoderMask"/> (B, S) hides. With
    /// <paramref name="caches"/> the ids continue the cached positions (pass only the new ones), and the cross-attention keys and
    /// values are computed once, at the first call.
    /// </summary>
    public abstract Tensor Decode(Tensor decoderIds, Tensor encoderHidden, Tensor? encoderMask = null, Seq2SeqCaches? caches = null);

    /// <summary>Empty self-attention and cross-attention caches, one of each per decoder layer, for <paramref name="maxTargetLength"/> positions.</summary>
    public abstract Seq2SeqCaches CreateCaches(int maxTargetLength);

    /// <summary>Source ids (B, S) and decoder ids (B, T) → logits (B, T, V): <see cref="Encode"/> then <see cref="Decode"/>, for training.</summary>
    public Tensor Forward(Tensor inputIds, Tensor decoderIds, Tensor? attentionMask = null) =>
        Decode(decoderIds, Encode(inputIds, attentionMask), attentionMask);

    /// <summary>
    /// Teacher forcing: Int32 labels (B, T), -100 on positions that do not count, become the decoder inputs shifted right after
    /// <see cref="DecoderStartTokenId"/> (<see cref="Data.Seq2SeqBatch.ShiftRight"/>); returns the mean cross-entropy of the
    /// logits against the labels, as Hugging Face's <c>...ForConditionalGeneration(labels=...)</c>.
    /// </summary>
    public Tensor Loss(Tensor inputIds, Tensor labels, Tensor? attentionMask = null)
    {
        var decoderIds = Data.Seq2SeqBatch.ShiftRight(labels, DecoderStartTokenId, PadTokenId);    // (B, T)
        return Functional.CrossEntropy(Forward(inputIds, decoderIds, attentionMask), labels, ignoreIndex: -100);
    }

    /// <summary>
    /// The path Hugging Face transformers gives the submodule at <paramref name="path"/> of this model (T5 names its projections
    /// <c>q</c>, <c>k</c>, <c>v</c>, <c>o</c>; BART's sit under <c>model.</c> with <c>out_proj</c>). Adapter files in PEFT's
    /// layout and LoRA target names match these paths as well as ours.
    /// </summary>
    public virtual string HuggingFaceModulePath(string path) => path;

    /// <summary>The backend the parameters live on (inputs built on the host are moved there), or null without parameters.</summary>
    public Backends.IBackend? Backend => Parameters().FirstOrDefault()?.Backend;
}
