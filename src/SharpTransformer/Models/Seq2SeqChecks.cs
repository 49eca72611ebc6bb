using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models;

/// <summary>The input checks every <see cref="Seq2SeqLanguageModel"/> shares; errors name the operation, the argument and the shapes.</summary>
internal static class Seq2SeqChecks
{
    /// <summary>Source ids must be Int32 (B, S) with S ≥ 1; a mask (B, S).</summary>
    public static void Source(string op, Tensor inputIds, Tensor? attentionMask)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        if (inputIds.Rank != 2 || inputIds.DType != DType.Int32)
            throw new ArgumentException($"{op}: input ids must be Int32 (batch, source length), got {inputIds.DType} {inputIds.ShapeString}.");
        if (inputIds.Size(1) == 0 || inputIds.Size(0) == 0)
            throw new ArgumentException($"{op}: the source is empty ({inputIds.ShapeString}); an encoder-decoder needs at least one source token.");
        if (attentionMask is not null && !attentionMask.Shape.SequenceEqual(inputIds.Shape))
            throw new ArgumentException($"{op}: attention mask {attentionMask.ShapeString} does not match the input ids {inputIds.ShapeString}.");
    }

    /// <summary>Decoder ids Int32 (B, T), T ≥ 1, cached + new positions within <paramref name="maxLength"/>; encoder output (B, S, C).</summary>
    public static void Target(string op, Tensor decoderIds, Tensor encoderHidden, int width, Seq2SeqCaches? caches, int maxLength, int layers)
    {
        ArgumentNullException.ThrowIfNull(decoderIds);
        ArgumentNullException.ThrowIfNull(encoderHidden);
        if (decoderIds.Rank != 2 || decoderIds.DType != DType.Int32 || decoderIds.Size(1) == 0)
            throw new ArgumentException($"{op}: decoder ids must be Int32 (batch, target length ≥ 1), got {decoderIds.DType} {decoderIds.ShapeString}.");
        if (encoderHidden.Rank != 3 || encoderHidden.Size(0) != decoderIds.Size(0) || encoderHidden.Size(2) != width)
            throw new ArgumentException($"{op}: the encoder output must be ({decoderIds.Size(0)}, source length, {width}), got {encoderHidden.ShapeString}.");
        if (caches is not null && (caches.SelfAttention.Length != layers || caches.CrossAttention.Length != layers))
            throw new ArgumentException($"{op}: the caches have {caches.SelfAttention.Length} self-attention and {caches.CrossAttention.Length} cross-attention entries; the decoder has {layers} layers.");
        int past = caches?.SelfAttention[0].Length ?? 0, total = past + decoderIds.Size(1);
        if (total > maxLength)
            throw new ArgumentException($"{op}: {total} decoder positions ({past} cached + {decoderIds.Size(1)} new) exceed the model's maximum target length {maxLength}.");
    }

    /// <summary>A <see cref="KvCache"/> and a <see cref="CrossAttentionCache"/> per decoder layer.</summary>
    public static Seq2SeqCaches Caches(int layers, int maxTargetLength, int modelMax)
    {
        if (maxTargetLength <= 0 || maxTargetLength > modelMax)
            throw new ArgumentOutOfRangeException(nameof(maxTargetLength), maxTargetLength, $"CreateCaches: the target length must be in 1..{modelMax} (the model's maximum).");
        return new(Enumerable.Range(0, layers).Select(IKvCache (_) => new KvCache(maxTargetLength)).ToArray(),
            Enumerable.Range(0, layers).Select(IKvCache (_) => new CrossAttentionCache()).ToArray());
    }
}
