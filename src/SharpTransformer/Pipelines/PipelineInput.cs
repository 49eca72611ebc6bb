using SharpTransformer.Tensors;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Pipelines;

/// <summary>One encoded text (or text pair) as the tensors (1, T) a model takes: ids, attention mask, token types.</summary>
internal sealed record PipelineInput(TokenEncoding Encoding, Tensor Ids, Tensor Mask, Tensor TypeIds)
{
    /// <summary>
    /// Encodes <paramref name="text"/> (and <paramref name="textPair"/>) with the tokenizer's special tokens and offsets, cut to
    /// <paramref name="maxLength"/> tokens, onto <paramref name="backend"/>.
    /// </summary>
    public static PipelineInput Create(Tokenizer tokenizer, string text, string? textPair, int maxLength, Backends.IBackend? backend,
        bool allowSpecialTokensInText = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        int max = tokenizer.ModelMaxLength is int m ? Math.Min(m, maxLength) : maxLength;
        var options = new EncodeOptions { MaxLength = max, AllowSpecialTokensInText = allowSpecialTokensInText };
        var e = textPair is null ? tokenizer.Encode(text, options) : tokenizer.EncodePair(text, textPair, options);
        if (e.Length == 0) throw new ArgumentException("Pipeline: the text encodes to no tokens.", nameof(text));
        Tensor T(int[] data) => backend is null ? Tensor.FromArray(data, 1, data.Length) : Tensor.FromArray(data, 1, data.Length).To(backend);
        return new PipelineInput(e, T(e.Ids), T(e.AttentionMask), T(e.TypeIds));
    }

    /// <summary>Softmax of <paramref name="logits"/>[offset .. offset + count) computed in double precision.</summary>
    public static float[] Softmax(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        var r = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) sum += r[i] = Math.Exp(logits[i] - max);
        return r.Select(v => (float)(v / sum)).ToArray();
    }
}
