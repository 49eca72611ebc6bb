using SharpTransformer.Tokenizers;

namespace SharpTransformer.Data;

/// <summary>
/// Turns tagged sentences (CoNLL words and tags) into token ids with aligned labels for a token-classification model:
/// words are joined by spaces and encoded with the tokenizer's special tokens, each token is mapped back to its word by
/// offsets, and labels follow <see cref="WordLabelAlignment"/>. Sentences longer than <see cref="MaxLength"/> tokens are
/// truncated (special tokens kept), and <see cref="EncodeAll"/> counts them.
/// </summary>
public sealed class TokenClassificationEncoder
{
    /// <summary>Creates an encoder.</summary>
    /// <param name="tokenizer">The tokenizer (must report offsets, as the WordPiece and BPE tokenizers do).</param>
    /// <param name="labels">The tag names and ids.</param>
    /// <param name="maxLength">The most tokens per sequence, special tokens included.</param>
    public TokenClassificationEncoder(ITokenizer tokenizer, LabelSet labels, int maxLength = 512)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        Tokenizer = tokenizer;
        Labels = labels;
        MaxLength = maxLength;
    }

    /// <summary>The tokenizer.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>The tag names and ids.</summary>
    public LabelSet Labels { get; }

    /// <summary>The most tokens per sequence, special tokens included.</summary>
    public int MaxLength { get; }

    /// <summary>Encodes one sentence.</summary>
    /// <exception cref="ArgumentException">Words and tags differ in number, or a tag is not in <see cref="Labels"/>.</exception>
    public TokenClassificationExample Encode(IReadOnlyList<string> words, IReadOnlyList<string> tags)
    {
        if (words.Count != tags.Count) throw new ArgumentException($"TokenClassificationEncoder: {words.Count} words but {tags.Count} tags.");
        var tagIds = new int[tags.Count];
        for (int i = 0; i < tags.Count; i++)
            if (!Labels.TryGetId(tags[i], out tagIds[i]))
                throw new ArgumentException($"TokenClassificationEncoder: tag '{tags[i]}' of word {i} ('{words[i]}') is not one of the labels: {Labels}.");
        var text = string.Join(' ', words);
        var encoding = Tokenizer.Encode(text, EncodeOptions.Default);
        bool truncated = encoding.Length > MaxLength;
        if (truncated) encoding = Tokenizer.Encode(text, new EncodeOptions { MaxLength = MaxLength });
        var wordIds = WordLabelAlignment.WordIdsFromOffsets(encoding, words);
        return new TokenClassificationExample(encoding.Ids, WordLabelAlignment.AlignLabels(wordIds, tagIds), wordIds, words.Count, truncated);
    }

    /// <summary>Encodes many sentences and counts those that were truncated.</summary>
    /// <exception cref="DataFormatException">A tag that is not in <see cref="Labels"/>; the message names the sentence's file and line.</exception>
    public (List<TokenClassificationExample> Examples, int TruncatedCount) EncodeAll(IEnumerable<ConllSentence> sentences)
    {
        var list = new List<TokenClassificationExample>();
        int truncated = 0;
        foreach (var s in sentences)
        {
            TokenClassificationExample e;
            try { e = Encode(s.Words, s.Tags); }
            catch (ArgumentException ex) { throw new DataFormatException(s.FileName, s.LineNumber, ex.Message, ex); }
            if (e.Truncated) truncated++;
            list.Add(e);
        }
        return (list, truncated);
    }
}
