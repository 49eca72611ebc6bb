using SharpTransformer.Evaluation;

namespace SharpTransformer.Tests.Evaluation;

public class TextMetricTests
{
    private static string TestData(string name) => Path.Combine(TestPaths.Root, "tests", "SharpTransformer.Tests", "Evaluation", "testdata", name);

    // porter_nltk.tsv holds NLTK 3.8's PorterStemmer() stems (made by testdata/make_metric_oracles.py).
    [Fact]
    public void PorterStemmerMatchesNltkOnTheFixture()
    {
        var rows = File.ReadAllLines(TestData("porter_nltk.tsv")).Select(l => l.Split('\t')).ToArray();
        Assert.True(rows.Length > 1500);
        var wrong = rows.Where(r => PorterStemmer.Stem(r[0]) != r[1]).Select(r => $"{r[0]}: {PorterStemmer.Stem(r[0])} (nltk {r[1]})").ToArray();
        Assert.True(wrong.Length == 0, string.Join("; ", wrong.Take(20)));
    }

    [Theory]
    // Porter's paper, and NLTK's departures from it.
    [InlineData("caresses", "caress")]
    [InlineData("ponies", "poni")]
    [InlineData("agreed", "agre")]
    [InlineData("hopping", "hop")]
    [InlineData("filing", "file")]
    [InlineData("relational", "relat")]
    [InlineData("generalizations", "gener")]
    [InlineData("skies", "sky")]
    [InlineData("dying", "die")]
    [InlineData("dies", "die")]
    [InlineData("spied", "spi")]
    [InlineData("enjoy", "enjoy")]
    [InlineData("happy", "happi")]
    [InlineData("is", "is")]
    public void PorterStemmerKnownStems(string word, string stem) => Assert.Equal(stem, PorterStemmer.Stem(word));

    [Fact]
    public void RougeTokenizesLikeRougeScore()
    {
        Assert.Equal(["the", "cat", "were", "sit", "on", "the", "mat", "2024"], Rouge.Tokenize("The CATS were sitting, on_the mat (2024)!"));
        Assert.Equal(["cats", "sitting"], Rouge.Tokenize("cats sitting", stem: false));
        Assert.Empty(Rouge.Tokenize(" ... "));
    }

    [Fact]
    public void RougeMatchesHandComputedValues()
    {
        // prediction: the cat were sit on the mat (7); reference: a cat sat on the mat (6)
        var s = Rouge.Score("The cats were sitting on the mat.", "A cat sat on the mat!");
        Assert.Equal(4.0 / 7, s.Rouge1.Precision, 12);   // cat, on, the (clipped to 1), mat
        Assert.Equal(4.0 / 6, s.Rouge1.Recall, 12);
        Assert.Equal(8.0 / 13, s.Rouge1.F1, 12);
        Assert.Equal(2.0 / 6, s.Rouge2.Precision, 12);   // "on the", "the mat"
        Assert.Equal(2.0 / 5, s.Rouge2.Recall, 12);
        Assert.Equal(4.0 / 11, s.Rouge2.F1, 12);
        Assert.Equal(8.0 / 13, s.RougeL.F1, 12);         // LCS: cat on the mat
        // LCS differs from unigram overlap when the order differs: "mat the cat" vs "the cat mat" -> LCS 2 of 3.
        var order = Rouge.Score("mat the cat", "the cat mat");
        Assert.Equal(1.0, order.Rouge1.F1, 12);
        Assert.Equal(2.0 / 3, order.RougeL.F1, 12);
        Assert.Equal(0.5, order.Rouge2.F1, 12);
        // Nothing in common or nothing predicted: zeros.
        Assert.Equal(0, Rouge.Score("", "a reference").Rouge1.F1);
        Assert.Equal(0, Rouge.Score("xyz", "abc").RougeL.F1);
        // The corpus figure is the mean of per-example F1.
        var c = Rouge.Corpus(["The cats were sitting on the mat.", "same text"], ["A cat sat on the mat!", "Same text."]);
        Assert.Equal((8.0 / 13 + 1) / 2, c.Rouge1.F1, 12);
        Assert.Equal((4.0 / 11 + 1) / 2, c.Rouge2.F1, 12);
        Assert.Throws<ArgumentException>(() => Rouge.Corpus(["a"], ["a", "b"]));
    }

    [Theory]
    [InlineData("Hello, world!", "Hello , world !")]
    [InlineData("It costs $3.50, doesn't it?", "It costs $ 3.50 , doesn't it ?")]
    [InlineData("1990-1995 e-mail", "1990 - 1995 e-mail")]
    [InlineData("&quot;hi&quot; &amp; bye", "\" hi \" & bye")]
    [InlineData("Mr. Smith (age 40) left.", "Mr . Smith ( age 40 ) left .")]
    [InlineData("a<skipped>b  \n c", "ab c")]
    public void Tokenizer13aMatchesMteval(string line, string expected) => Assert.Equal(expected, Bleu.Tokenize13a(line));

    // bleu_nltk.tsv: corpora (blank-line separated) with NLTK's corpus_bleu, equal to sacreBLEU's when no count is zero.
    [Fact]
    public void BleuMatchesNltkCorpusBleuWithoutZeroCounts()
    {
        var blocks = File.ReadAllText(TestData("bleu_nltk.tsv")).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, blocks.Length);
        foreach (var block in blocks)
        {
            var rows = block.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToArray();
            var score = Bleu.Corpus(rows.Select(r => r[0]).ToArray(), rows.Select(r => r[1]).ToArray());
            Assert.Equal(double.Parse(rows[0][2], System.Globalization.CultureInfo.InvariantCulture), score.Score, 9);
        }
    }

    [Fact]
    public void BleuSmoothsZeroCountsAndPenalisesBrevityAsSacreBleu()
    {
        // hyp a b c d e, ref a b x d e y: 1-grams 4/5, 2-grams 2/4, 3-grams 0/3 -> 100/(2*3), 4-grams 0/2 -> 100/(4*2);
        // the hypothesis is shorter: BP = exp(1 - 6/5).
        var s = Bleu.Corpus(["a b c d e"], ["a b x d e y"]);
        double[] p = [80, 50, 100.0 / 6, 12.5];
        for (int n = 0; n < 4; n++) Assert.Equal(p[n], s.Precisions[n], 9);
        Assert.Equal(Math.Exp(-0.2), s.BrevityPenalty, 12);
        Assert.Equal(Math.Exp(-0.2) * Math.Exp(p.Sum(Math.Log) / 4), s.Score, 9);
        // No trigrams at all: precision 0 counts as log 0 and BLEU is 0.
        Assert.Equal(0, Bleu.Corpus(["the cat"], ["the cat sat"]).Score, 9);
        // Several references: clipping by the most any reference holds, and the closest reference length (shorter on ties).
        var multi = Bleu.Corpus(["the the the the"], [(IReadOnlyList<string>)["the cat", "the the cat sat on it"]]);
        Assert.Equal(50, multi.Precisions[0], 9);
        Assert.Equal(2, multi.ReferenceLength);   // |4-2| = 2 = |4-6|: the shorter
        Assert.Equal(4, multi.HypothesisLength);
        Assert.Throws<ArgumentException>(() => Bleu.Corpus(["a"], Array.Empty<string>()));
    }
}
