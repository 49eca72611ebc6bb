using System.Text;
using BenchmarkDotNet.Attributes;
using BertOptions = Microsoft.ML.Tokenizers.BertOptions;
using BertTokenizer = Microsoft.ML.Tokenizers.BertTokenizer;
using TiktokenTokenizer = Microsoft.ML.Tokenizers.TiktokenTokenizer;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Bench.Tokenizers;

/// <summary>
/// Encoding throughput on Tiny Shakespeare (1,115,394 bytes, one string per operation): ours against
/// Microsoft.ML.Tokenizers, for GPT-2 byte-level BPE and for BERT WordPiece (a vocabulary trained here, 8,000 tokens).
/// MB/s = 1.115394 / mean seconds. Both sides keep their per-word caches warm across iterations.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class TokenizerEncodeBenchmarks
{
    private string _text = "";
    private ByteLevelBpeTokenizer _gpt2 = null!;
    private TiktokenTokenizer _mlGpt2 = null!;
    private WordPieceTokenizer _bert = null!;
    private BertTokenizer _mlBert = null!;

    [GlobalSetup]
    public void Setup()
    {
        string shared = FindShared();
        _text = File.ReadAllText(Path.Combine(shared, "data", "tinyshakespeare", "input.txt"));
        string encoder = Path.Combine(shared, "data", "gpt2", "encoder.json"), merges = Path.Combine(shared, "data", "gpt2", "vocab.bpe");
        _gpt2 = ByteLevelBpeTokenizer.FromFiles(encoder, merges);
        _mlGpt2 = TiktokenTokenizer.CreateForModel("gpt2", new MemoryStream(Gpt2Tiktoken(encoder)));

        var dir = Directory.CreateTempSubdirectory("bench-wp").FullName;
        WordPieceTrainer.Train([_text], new WordPieceTrainerOptions(8000)).Save(dir);
        string vocab = Path.Combine(dir, "vocab.txt");
        _bert = WordPieceTokenizer.FromVocabFile(vocab);
        _mlBert = BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = true });

        if (!_mlGpt2.EncodeToIds(_text).SequenceEqual(_gpt2.Encode(_text)))
            throw new InvalidOperationException("GPT-2 encodings differ");
        Console.WriteLine($"// GPT-2 tokens: {_gpt2.Encode(_text).Length}, WordPiece tokens: ours {_bert.Encode(_text).Length}, ML {_mlBert.EncodeToIds(_text).Count}");
    }

    [Benchmark(Baseline = true, Description = "GPT-2 BPE, Microsoft.ML TiktokenTokenizer")]
    public int Gpt2_MicrosoftML() => _mlGpt2.EncodeToIds(_text).Count;

    [Benchmark(Description = "GPT-2 BPE, SharpTransformer")]
    public int Gpt2_Ours() => _gpt2.Encode(_text).Length;

    [Benchmark(Description = "WordPiece, Microsoft.ML BertTokenizer")]
    public int WordPiece_MicrosoftML() => _mlBert.EncodeToIds(_text).Count;

    [Benchmark(Description = "WordPiece, SharpTransformer")]
    public int WordPiece_Ours() => _bert.Encode(_text).Length;

    private static byte[] Gpt2Tiktoken(string encoder)
    {
        var vocab = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(encoder))!;
        var sb = new StringBuilder();
        foreach (var (token, id) in vocab.OrderBy(kv => kv.Value))
        {
            if (token == SpecialTokens.EndOfText) continue;
            sb.Append(Convert.ToBase64String(token.Select(c => (byte)ByteLevel.CharToByte(c)).ToArray())).Append(' ').Append(id).Append('\n');
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static string FindShared()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, "..", "shared", "data");
            if (File.Exists(Path.Combine(dir.FullName, "SharpTransformer.sln")) && Directory.Exists(p)) return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
        }
        throw new DirectoryNotFoundException("../shared beside the repository");
    }
}
