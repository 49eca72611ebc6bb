using System.Text.Json;
using SharpTransformer.IO;
using SharpTransformer.Models;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Nn;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Cli.Commands;

/// <summary>Builds models and tokenizers for the language-model commands, and restores them from checkpoints.</summary>
internal static class LmModels
{
    public static (Module Module, ICausalLanguageModel Model, string Kind, string ConfigJson) Create(Args a, int vocab, ulong seed)
    {
        string arch = a.String("arch") ?? "gpt2";
        int layers = a.Int("layers", 4), heads = a.Int("heads", 4), embd = a.Int("embd", 128), block = a.Int("block", 64);
        float dropout = a.Float("dropout", 0f);
        switch (arch)
        {
            case "gpt2":
                {
                    var c = new Gpt2Config(VocabSize: vocab, ContextLength: block, Layers: layers, Heads: heads, Embedding: embd, Dropout: dropout);
                    var m = new Gpt2(c, seed);
                    return (m, m, "gpt2", JsonSerializer.Serialize(c));
                }
            case "llama":
                {
                    int kv = a.Int("kv-heads", heads);
                    var c = new LlamaConfig(VocabSize: vocab, Hidden: embd, Intermediate: a.Int("hidden", (8 * embd / 3 + 63) / 64 * 64),
                        Layers: layers, Heads: heads, KvHeads: kv, ContextLength: block, TieEmbeddings: true);
                    var m = new Llama(c, seed);
                    return (m, m, "llama", JsonSerializer.Serialize(c));
                }
            default:
                throw new CliException($"--arch must be gpt2 or llama, got '{arch}'.");
        }
    }

    public static (Module Module, ICausalLanguageModel Model, Tokenizer Tokenizer, Checkpoint Checkpoint) Load(string path)
    {
        if (!File.Exists(path)) throw new CliException($"checkpoint not found: {path}");
        var ck = Checkpoint.Load(path);
        (Module module, ICausalLanguageModel model) = ck.ModelKind switch
        {
            "gpt2" => Build(new Gpt2(JsonSerializer.Deserialize<Gpt2Config>(ck.ConfigJson)!)),
            "llama" => Build(new Llama(JsonSerializer.Deserialize<LlamaConfig>(ck.ConfigJson)!)),
            var k => throw new CliException($"{path}: unknown model kind '{k}'."),
        };
        ck.RestoreModel(module);
        module.Eval();
        var tok = TokenizerSnapshot.Restore(ck.TokenizerJson ?? throw new CliException($"{path}: the checkpoint holds no tokenizer."));
        return (module, model, tok, ck);
    }

    private static (Module, ICausalLanguageModel) Build<T>(T m) where T : Module, ICausalLanguageModel => (m, m);

    /// <summary>The tokenizer named by --tokenizer (char, or files given by --vocab/--merges) and its snapshot.</summary>
    public static (Tokenizer Tokenizer, string Snapshot) Tokenizer(Args a, string corpus)
    {
        string? vocab = a.String("vocab");
        string? merges = a.String("merges");
        bool lower = a.Flag("lowercase");
        string kind = a.String("tokenizer") ?? (vocab is null ? "char" : "files");
        if (kind == "char")
        {
            var t = CharTokenizer.FromText(corpus);
            return (t, TokenizerSnapshot.FromChars(t));
        }
        if (vocab is null) throw new CliException("--vocab is required unless --tokenizer char.");
        if (!File.Exists(vocab)) throw new CliException($"vocabulary file not found: {vocab}");
        if (merges is not null && !File.Exists(merges)) throw new CliException($"merges file not found: {merges}");
        return (Tokenizers.Tokenizer.FromFiles(vocab, merges, lower), TokenizerSnapshot.FromFiles(vocab, merges, lower));
    }

    public static string ReadText(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new CliException($"input file not found: {path}");
}
