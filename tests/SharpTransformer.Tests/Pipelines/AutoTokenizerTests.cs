using SharpTransformer.Tokenizers;

namespace SharpTransformer.Tests.Pipelines;

public sealed class AutoTokenizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-autotok-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    // [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4 hello=5 Hello=6 world=7 ##s=8
    private string VocabFolder(string name, string? tokenizerConfig = null)
    {
        string dir = Directory.CreateDirectory(Path.Combine(_dir, name)).FullName;
        File.WriteAllLines(Path.Combine(dir, "vocab.txt"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "Hello", "world", "##s"]);
        if (tokenizerConfig is not null) File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), tokenizerConfig);
        return dir;
    }

    [Fact]
    public void VocabTxtLowerCasesByDefaultEverywhereAsBertTokenizerDoes()
    {
        string dir = VocabFolder("default");
        string vocab = Path.Combine(dir, "vocab.txt");
        int[] uncased = [2, 5, 7, 3];
        Assert.Equal(uncased, AutoTokenizer.FromPretrained(dir).Encode("Hello world"));
        Assert.Equal(uncased, Tokenizer.FromFiles(vocab).Encode("Hello world"));
        Assert.Equal(uncased, WordPieceTokenizer.FromVocabFile(vocab).Encode("Hello world"));
        Assert.Equal(new[] { 2, 6, 7, 3 }, Tokenizer.FromFiles(vocab, lowercase: false).Encode("Hello world"));
    }

    [Fact]
    public void TokenizerConfigSetsCasingSpecialTokensMaxLengthAndChatTemplate()
    {
        string dir = VocabFolder("cased", """
            {"do_lower_case": false, "model_max_length": 128, "mask_token": {"content": "[MASK]", "lstrip": false},
             "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}", "tokenizer_class": "BertTokenizer"}
            """);
        var tok = AutoTokenizer.FromPretrained(dir);
        Assert.Equal(new[] { 2, 6, 7, 3 }, tok.Encode("Hello world"));
        Assert.Equal(128, tok.ModelMaxLength);
        Assert.Equal("{% for m in messages %}{{ m.content }}{% endfor %}", tok.ChatTemplate);
        Assert.Equal(4, tok.MaskId);
        Assert.Equal(0, tok.PadId);

        string big = VocabFolder("unlimited", """{"model_max_length": 1000000000000000019884624838656, "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}""");
        var t2 = AutoTokenizer.FromPretrained(big);
        Assert.Null(t2.ModelMaxLength);
        Assert.Equal("D", t2.ChatTemplate);
        Assert.Null(AutoTokenizer.FromPretrained(VocabFolder("plain")).ChatTemplate);
    }

    [Fact]
    public void VocabJsonAndMergesLoadAsByteLevelBpeWithTheConfigsSpecialTokens()
    {
        string dir = Directory.CreateDirectory(Path.Combine(_dir, "gpt2")).FullName;
        File.Copy(Path.Combine(TestPaths.Data, "gpt2", "encoder.json"), Path.Combine(dir, "vocab.json"));
        File.Copy(Path.Combine(TestPaths.Data, "gpt2", "vocab.bpe"), Path.Combine(dir, "merges.txt"));
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "pad_token": {"content": "<|endoftext|>"}, "model_max_length": 1024}""");
        var tok = AutoTokenizer.FromPretrained(dir);
        var reference = ByteLevelBpeTokenizer.FromFiles(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"));
        const string text = "Hello world, it's a test of GPT-2's tokenizer.";
        Assert.IsType<ByteLevelBpeTokenizer>(tok);
        Assert.Equal(reference.Encode(text), tok.Encode(text));
        Assert.Equal(50256, tok.PadId);
        Assert.Null(reference.PadId);
        Assert.Equal(50256, tok.EosId);
        Assert.Equal(1024, tok.ModelMaxLength);
    }

    [Fact]
    public void TokenizerJsonComesFirst()
    {
        string dir = VocabFolder("json");
        File.Copy(Path.Combine(Tokenizers.WordPieceTests.Fixtures, "wordpiece-tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
        var tok = AutoTokenizer.FromPretrained(dir);
        var reference = Tokenizer.FromFiles(Path.Combine(dir, "tokenizer.json"));
        Assert.Equal(reference.VocabSize, tok.VocabSize);
        Assert.NotEqual(9, tok.VocabSize);
        Assert.Equal(reference.Encode("the quick brown fox"), tok.Encode("the quick brown fox"));
    }

    [Fact]
    public void AFolderWithoutTokenizerFilesIsAnErrorNamingTheFolderAndTheFiles()
    {
        string dir = Directory.CreateDirectory(Path.Combine(_dir, "none")).FullName;
        File.WriteAllText(Path.Combine(dir, "vocab.json"), "{}");   // without merges.txt it is not enough
        var e = Assert.Throws<FileNotFoundException>(() => AutoTokenizer.FromPretrained(dir));
        Assert.Contains(dir, e.Message);
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("vocab.json + merges.txt", e.Message);
        Assert.Contains("vocab.txt", e.Message);
        Assert.Throws<DirectoryNotFoundException>(() => AutoTokenizer.FromPretrained(Path.Combine(_dir, "missing")));
        string bad = VocabFolder("bad", """{"do_lower_case": "yes"}""");
        var f = Assert.Throws<VocabularyFormatException>(() => AutoTokenizer.FromPretrained(bad));
        Assert.Contains("tokenizer_config.json", f.Message);
        Assert.Contains("do_lower_case", f.Message);
    }
}
