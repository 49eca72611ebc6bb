using System.Diagnostics;
using SharpTransformer.Tokenizers;
using Xunit.Abstractions;

namespace SharpTransformer.Tests.Tokenizers;

/// <summary>
/// SentencePiece against Debian's sentencepiece 0.1.97: models trained by spm_train and the ids spm_encode gave on held-out
/// lines (Fixtures/spm, made by generate-spm-fixture.sh), models trained by us loaded by python3-sentencepiece, sampling
/// against the lattice's probabilities, and decode(encode(x)) against the normalised text.
/// </summary>
public class SentencePieceTests(ITestOutputHelper output)
{
    internal static string SpmFixtures => Path.Combine(TestPaths.Root, "tests", "SharpTransformer.Tests", "Tokenizers", "Fixtures", "spm");

    private static string[] HeldOut() => File.ReadAllLines(Path.Combine(SpmFixtures, "heldout.txt"));

    [Theory]
    [InlineData("unigram")]
    [InlineData("unigram-bytes")]
    [InlineData("bpe")]
    [InlineData("bpe-bytes")]
    public void Ids_equal_spm_encode_on_held_out_lines(string name)
    {
        var tok = SentencePieceTokenizer.FromFile(Path.Combine(SpmFixtures, name + ".model"));
        var lines = HeldOut();
        var expected = File.ReadAllLines(Path.Combine(SpmFixtures, name + ".ids"));
        Assert.Equal(lines.Length, expected.Length);
        int bad = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            var want = expected[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            var got = tok.Encode(lines[i]);
            if (!want.SequenceEqual(got))
            {
                if (bad++ < 5) output.WriteLine($"line {i + 1} '{lines[i]}':\n  spm {string.Join(' ', want)}\n  us  {string.Join(' ', got)}\n  pieces {string.Join(' ', got.Select(g => tok.IdToToken(g)))}");
            }
        }
        Assert.Equal(0, bad);
    }
}
