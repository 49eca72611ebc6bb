using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models;

/// <summary>
/// The contract of every encoder-decoder language model (T5, BART, as Hugging Face's <c>...ForConditionalGeneration</c>):
/// the encoder runs once over the source, the decoder runs step by step over the target, attending to its own past through
/// self-attention caches and to the encoder output through cross-attention caches. Generation, trainers and the CLI take this
/// type. No family implements it yet: T5 and BART come with the encoder-decoder issue.
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

    /// <summary>The backend the parameters live on (inputs built on the host are moved there), or null without parameters.</summary>
    public Backends.IBackend? Backend => Parameters().FirstOrDefault()?.Backend;
}
