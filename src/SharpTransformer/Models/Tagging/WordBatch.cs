using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Tagging;

/// <summary>A padded batch of sentences as <see cref="WordCharTagger"/> reads it.</summary>
/// <param name="Words">Int32 word ids (B, T).</param>
/// <param name="Casing">Int32 casing categories (B, T).</param>
/// <param name="Chars">Int32 character ids (B·T, L): each word padded by one position on both sides.</param>
/// <param name="Mask">Float32 (B, T): 1 on words, 0 on padding.</param>
/// <param name="Lengths">Words per sentence.</param>
/// <param name="CharWindowPenalty">
/// Float32 (B·T, L-2, 1): 0 for width-3 windows centred on a character, -1e4 for windows centred on padding (an empty
/// word keeps its first window), so a word's pooled character features do not depend on the rest of the batch.
/// </param>
public sealed record WordBatch(Tensor Words, Tensor Casing, Tensor Chars, Tensor Mask, int[] Lengths, Tensor CharWindowPenalty)
{
    /// <summary>Builds a batch; with <paramref name="wordDropout"/> &gt; 0, words become unknown at that rate (training).</summary>
    public static WordBatch Create(WordFeaturizer f, IReadOnlyList<IReadOnlyList<string>> sentences, float wordDropout = 0f, Random? random = null)
    {
        // Lengths rounded up to multiples of 8 and 4 keep the number of distinct shapes (and pooled buffers) small.
        int b = sentences.Count, t = (Math.Max(1, sentences.Max(s => s.Count)) + 7) / 8 * 8;
        int l = (2 + Math.Max(1, sentences.SelectMany(s => s).Select(w => Math.Min(w.Length, f.MaxChars)).DefaultIfEmpty(1).Max()) + 3) / 4 * 4;
        var words = new int[b * t];
        var casing = new int[b * t];
        var chars = new int[b * t * l];
        var mask = new float[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < sentences[i].Count; j++)
            {
                string w = sentences[i][j];
                int k = i * t + j;
                words[k] = wordDropout > 0f && random!.NextSingle() < wordDropout ? 1 : f.WordId(w);
                casing[k] = WordCasing.Of(w);
                mask[k] = 1f;
                for (int c = 0; c < Math.Min(w.Length, f.MaxChars); c++) chars[k * l + 1 + c] = f.CharId(w[c]);
            }
        var penalty = new float[b * t * (l - 2)];
        for (int k = 0; k < b * t; k++)
        {
            var row = penalty.AsSpan(k * (l - 2), l - 2);
            if (chars[k * l + 1] == 0) { row[1..].Fill(-1e4f); continue; }               // empty word or padding
            for (int j = 0; j < l - 2; j++) if (chars[k * l + j + 1] == 0) row[j] = -1e4f;
        }
        return new WordBatch(Tensor.FromArray(words, b, t), Tensor.FromArray(casing, b, t), Tensor.FromArray(chars, b * t, l),
            Tensor.FromArray(mask, b, t), sentences.Select(s => s.Count).ToArray(), Tensor.FromArray(penalty, b * t, l - 2, 1));
    }
}
