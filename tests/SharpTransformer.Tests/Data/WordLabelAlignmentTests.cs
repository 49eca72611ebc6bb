using SharpTransformer.Data;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Tests.Data;

/// <summary>Word-to-sub-token label alignment (Hugging Face word_ids convention) and truncation counting.</summary>
public sealed class WordLabelAlignmentTests
{
    private const int X = WordLabelAlignment.IgnoreLabel;

    private static readonly WordPieceTokenizer Tok = WordPieceTokenizer.FromVocabulary(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "eu", "re", "##ject", "##s", "german", "-", "1996", "08", "22", "peter", "black", "##burn", "."]);

    private static readonly LabelSet Tags = new(["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]);

    [Fact]
    public void FirstSubTokenCarriesTheLabel()
    {
        Assert.Equal([0, 0, 1, 2, 2, 2], WordLabelAlignment.WordIdsFromCounts([2, 1, 3]));
        // [CLS] w0 w0 w1 w2 w2 w2 [SEP]
        int[] wordIds = [-1, 0, 0, 1, 2, 2, 2, -1];
        Assert.Equal([X, 3, X, 0, 5, X, X, X], WordLabelAlignment.AlignLabels(wordIds, [3, 0, 5]));
        Assert.Throws<ArgumentException>(() => WordLabelAlignment.AlignLabels([0, 3], [1, 2]));
    }

    [Fact]
    public void AlignFromCountsTruncatesAndReports()
    {
        var (ids, labels) = WordLabelAlignment.AlignFromCounts([2, 1, 3], [3, 0, 5], maxTokens: 4, out bool truncated);
        Assert.True(truncated);
        Assert.Equal([0, 0, 1, 2], ids);
        Assert.Equal([3, X, 0, 5], labels);
        WordLabelAlignment.AlignFromCounts([2, 1, 3], [3, 0, 5], maxTokens: 6, out truncated);
        Assert.False(truncated);
    }

    [Fact]
    public void EncoderMapsTokensToTheCallersWordsThroughOffsets()
    {
        var enc = new TokenClassificationEncoder(Tok, Tags, maxLength: 32);
        // "1996-08-22" is one CoNLL word but three BERT pre-tokenized words and five tokens.
        string[] words = ["EU", "rejects", "German", "1996-08-22", "Peter", "Blackburn"];
        string[] tags = ["B-ORG", "O", "B-MISC", "O", "B-PER", "I-PER"];
        var e = enc.Encode(words, tags);
        Assert.Equal(["[CLS]", "eu", "re", "##ject", "##s", "german", "1996", "-", "08", "-", "22", "peter", "black", "##burn", "[SEP]"],
            e.Ids.Select(i => Tok.IdToToken(i)));
        Assert.Equal([-1, 0, 1, 1, 1, 2, 3, 3, 3, 3, 3, 4, 5, 5, -1], e.WordIds);
        Assert.Equal([X, 3, 0, X, X, 5, 0, X, X, X, X, 1, 2, X, X], e.Labels);
        Assert.False(e.Truncated);
        Assert.Equal(6, e.WordCount);
    }

    [Fact]
    public void EncodeAllCountsTruncatedSentencesAndKeepsSpecialTokens()
    {
        var enc = new TokenClassificationEncoder(Tok, Tags, maxLength: 6);
        var sentences = new[]
        {
            new ConllSentence(["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"], "t.txt", 1),        // 5 tokens + 2 special = 7
            new ConllSentence(["Peter", "Blackburn"], ["B-PER", "I-PER"], "t.txt", 5),                  // 3 + 2 = 5
            new ConllSentence(["German", "1996-08-22"], ["B-MISC", "O"], "t.txt", 8),                   // 6 + 2 = 8
        };
        var (examples, truncatedCount) = enc.EncodeAll(sentences);
        Assert.Equal(2, truncatedCount);
        Assert.Equal([true, false, true], examples.Select(e => e.Truncated));
        Assert.All(examples, e => Assert.True(e.Ids.Length <= 6));
        var first = examples[0];
        Assert.Equal(["[CLS]", "eu", "re", "##ject", "##s", "[SEP]"], first.Ids.Select(i => Tok.IdToToken(i)));
        Assert.Equal([X, 3, 0, X, X, X], first.Labels);

        var bad = new[] { new ConllSentence(["EU"], ["B-LOC"], "d.txt", 42) };
        var ex = Assert.Throws<DataFormatException>(() => enc.EncodeAll(bad));
        Assert.Contains("d.txt:42:", ex.Message);
        Assert.Contains("'B-LOC'", ex.Message);
    }

    [Fact]
    public void ConllTrainAlignsEveryWordExactlyOnce()
    {
        var train = ConllReader.Read(Path.Combine(TestPaths.Data, "conll2003", "train.txt")).Take(300).ToList();
        var labels = LabelSet.Infer(train.SelectMany(s => s.Tags));
        var enc = new TokenClassificationEncoder(Tok, labels, maxLength: 512);
        var (examples, truncated) = enc.EncodeAll(train);
        Assert.Equal(0, truncated);
        for (int i = 0; i < train.Count; i++)
        {
            // Every word gets exactly one labelled token (unknown words become one [UNK]), carrying its own tag.
            var labelled = examples[i].Labels.Where(l => l != X).ToArray();
            Assert.Equal(train[i].Tags.Select(labels.Id), labelled);
        }
    }
}
