using SharpTransformer.Tensors;

namespace SharpTransformer.Data;

/// <summary>
/// Masked-LM corruption and padding (BERT's recipe): each non-special token (or whole word) is selected with probability 15%;
/// a selected token becomes the mask token 80% of the time, a random non-special token 10%, and stays 10%. Labels hold the
/// original id at selected positions and -100 elsewhere. Deterministic for a seed.
/// </summary>
public sealed class MaskedLmCollator
{
    /// <summary>The label of positions that are not predicted (cross-entropy's ignore index).</summary>
    public const int IgnoreIndex = -100;

    private readonly HashSet<int> _special;
    private readonly Func<int, bool>? _isContinuation;

    /// <summary>
    /// Creates the collator. <paramref name="specialTokenIds"/> are never selected nor drawn as random tokens (the mask and pad ids
    /// are added). <paramref name="isContinuation"/> tells whole-word masking which ids continue a word (WordPiece <c>##</c> pieces,
    /// see <see cref="WordPieceContinuation"/>); word-id arrays passed to <see cref="Mask"/> take precedence.
    /// </summary>
    public MaskedLmCollator(int vocabSize, int maskTokenId, int padTokenId, IEnumerable<int> specialTokenIds, MaskingOptions? options = null,
        ulong seed = 0, Func<int, bool>? isContinuation = null)
    {
        Options = options ?? new MaskingOptions();
        if (Options.SelectProbability is < 0f or > 1f || Options.MaskFraction < 0f || Options.RandomFraction < 0f || Options.MaskFraction + Options.RandomFraction > 1f)
            throw new ArgumentException($"MaskedLmCollator: invalid masking options {Options}.");
        VocabSize = vocabSize;
        MaskTokenId = maskTokenId;
        PadTokenId = padTokenId;
        _special = [.. specialTokenIds, maskTokenId, padTokenId];
        if (_special.Count >= vocabSize) throw new ArgumentException("MaskedLmCollator: every id of the vocabulary is special.");
        _isContinuation = isContinuation;
        Generator = new Generator(seed);
    }

    /// <summary>The options.</summary>
    public MaskingOptions Options { get; }
    /// <summary>Vocabulary size (random replacements are drawn below it).</summary>
    public int VocabSize { get; }
    /// <summary>The mask token id.</summary>
    public int MaskTokenId { get; }
    /// <summary>The padding id.</summary>
    public int PadTokenId { get; }
    /// <summary>The random source (its state can be saved to resume).</summary>
    public Generator Generator { get; }

    /// <summary>A continuation test from a vocabulary: ids whose token starts with <paramref name="prefix"/> (WordPiece's <c>##</c>).</summary>
    public static Func<int, bool> WordPieceContinuation(IReadOnlyList<string?> vocabulary, string prefix = "##")
    {
        var cont = new bool[vocabulary.Count];
        for (int i = 0; i < cont.Length; i++) cont[i] = vocabulary[i]?.StartsWith(prefix, StringComparison.Ordinal) ?? false;
        return id => (uint)id < (uint)cont.Length && cont[id];
    }

    /// <summary>
    /// Corrupts one sequence. <paramref name="wordIds"/> (optional, same length): tokens with equal consecutive word ids form one
    /// word for whole-word masking; a negative word id marks a token outside any word.
    /// </summary>
    public (int[] Inputs, int[] Labels) Mask(ReadOnlySpan<int> ids, ReadOnlySpan<int> wordIds = default)
    {
        if (!wordIds.IsEmpty && wordIds.Length != ids.Length)
            throw new ArgumentException($"MaskedLmCollator: {wordIds.Length} word ids for {ids.Length} tokens.");
        var inputs = ids.ToArray();
        var labels = new int[ids.Length];
        Array.Fill(labels, IgnoreIndex);
        int i = 0;
        while (i < ids.Length)
        {
            if (_special.Contains(ids[i])) { i++; continue; }
            int end = i + 1;
            if (Options.WholeWordMasking)
                while (end < ids.Length && !_special.Contains(ids[end]) && SameWord(ids, wordIds, end)) end++;
            if (Generator.NextFloat() < Options.SelectProbability)
                for (int j = i; j < end; j++)
                {
                    labels[j] = ids[j];
                    float r = Generator.NextFloat();
                    if (r < Options.MaskFraction) inputs[j] = MaskTokenId;
                    else if (r < Options.MaskFraction + Options.RandomFraction) inputs[j] = RandomToken();
                }
            i = end;
        }
        return (inputs, labels);
    }

    private bool SameWord(ReadOnlySpan<int> ids, ReadOnlySpan<int> wordIds, int j) =>
        !wordIds.IsEmpty ? wordIds[j] >= 0 && wordIds[j] == wordIds[j - 1] : _isContinuation?.Invoke(ids[j]) ?? false;

    private int RandomToken()
    {
        int t;
        do t = Generator.NextInt(VocabSize); while (_special.Contains(t));
        return t;
    }

    /// <summary>
    /// Masks and right-pads sequences into a batch. Optional per-sequence segment ids, word ids (whole-word masking) and
    /// next-sentence labels.
    /// </summary>
    public MaskedLmBatch Collate(IReadOnlyList<int[]> sequences, IReadOnlyList<int[]>? tokenTypeIds = null, IReadOnlyList<int[]>? wordIds = null,
        IReadOnlyList<int>? nextSentenceLabels = null)
    {
        if (sequences.Count == 0) throw new ArgumentException("MaskedLmCollator: an empty batch.");
        int b = sequences.Count, t = sequences.Max(s => s.Length);
        var ids = new int[b * t]; var mask = new int[b * t]; var types = new int[b * t]; var labels = new int[b * t];
        Array.Fill(ids, PadTokenId);
        Array.Fill(labels, IgnoreIndex);
        for (int i = 0; i < b; i++)
        {
            var s = sequences[i];
            var (x, y) = Mask(s, wordIds is null ? default : wordIds[i]);
            x.CopyTo(ids, i * t);
            y.CopyTo(labels, i * t);
            mask.AsSpan(i * t, s.Length).Fill(1);
            tokenTypeIds?[i].CopyTo(types, i * t);
        }
        var nsp = nextSentenceLabels is null ? null : Tensor.FromArray(nextSentenceLabels.ToArray(), b);
        return new MaskedLmBatch(Tensor.FromArray(ids, b, t), Tensor.FromArray(mask, b, t), Tensor.FromArray(types, b, t), Tensor.FromArray(labels, b, t), nsp);
    }

    /// <summary>Masks and pads next-sentence pairs, with their segment ids and labels.</summary>
    public MaskedLmBatch Collate(IReadOnlyList<SentencePair> pairs) =>
        Collate(pairs.Select(p => p.InputIds).ToList(), pairs.Select(p => p.TokenTypeIds).ToList(), null, pairs.Select(p => p.NextSentenceLabel).ToList());
}
