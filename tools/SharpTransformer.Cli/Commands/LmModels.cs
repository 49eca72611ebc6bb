using System.CommandLine;
using System.Text.Json;
using SharpTransformer.IO;
using SharpTransformer.Models;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Models.Mixtral;
using SharpTransformer.Nn;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Cli.Commands;

/// <summary>Builds models and tokenizers for the language-model commands (<see cref="LanguageModelCheckpoint"/> reads them back).</summary>
internal static class LmModels
{
    public static (CausalLanguageModel Model, string Kind, string ConfigJson) Create(LmShape shape, int vocab, ulong seed)
    {
        var (arch, layers, heads, embd, block, dropout, kvHeads, hidden) = (shape.Arch, shape.Layers, shape.Heads, shape.Embedding, shape.Block,
            shape.Dropout, shape.KvHeads, shape.Hidden);
        switch (arch)
        {
            case "gpt2":
                {
                    var c = new Gpt2Config(VocabSize: vocab, ContextLength: block, Layers: layers, Heads: heads, Embedding: embd, Dropout: dropout);
                    var m = new Gpt2(c, seed);
                    return (m, "gpt2", JsonSerializer.Serialize(c));
                }
            case "llama" or "qwen2" or "mistral":
                {
                    int kv = kvHeads ?? heads;
                    if (shape.SlidingWindow is { } w && (arch == "llama" || w > block))
                        throw new CliException(arch == "llama" ? "--sliding-window needs --arch mistral or qwen2."
                            : $"--sliding-window {w} is larger than the context --block {block}.");
                    var c = new LlamaConfig(VocabSize: vocab, Hidden: embd, Intermediate: hidden ?? (8 * embd / 3 + 63) / 64 * 64,
                        Layers: layers, Heads: heads, KvHeads: kv, ContextLength: block, TieEmbeddings: true,
                        QkvBias: arch == "qwen2", SlidingWindow: shape.SlidingWindow,
                        RopeScaling: RopeScalingChoice.Create(shape.RopeScaling, shape.RopeFactor, block));
                    var m = new Llama(c, seed);
                    return (m, "llama", JsonSerializer.Serialize(c));   // qwen2 and mistral are Llama configs: their flags travel in it
                }
            case "mixtral":
                {
                    var c = MixtralShape(shape, vocab);
                    var m = new Mixtral(c, seed);
                    return (m, "mixtral", JsonSerializer.Serialize(c));
                }
            case "deepseek":
                {
                    var c = DeepSeekShape.Config(shape, vocab);
                    var m = new Models.DeepSeek.DeepSeekV2(c, seed);
                    return (m, "deepseek", JsonSerializer.Serialize(c));
                }
            default:
                throw new CliException($"--arch must be gpt2, llama, qwen2, mistral, mixtral or deepseek, got '{arch}'.");
        }
    }

    /// <summary>The Mixtral configuration of <paramref name="shape"/>: experts as wide as --hidden (default as Llama's MLP), a tied head.</summary>
    public static MixtralConfig MixtralShape(LmShape shape, int vocab)
    {
        if (shape.ExpertsPerToken > shape.Experts)
            throw new CliException($"--experts-per-token {shape.ExpertsPerToken} exceeds --experts {shape.Experts}.");
        return new MixtralConfig(VocabSize: vocab, Hidden: shape.Embedding, Intermediate: shape.Hidden ?? (8 * shape.Embedding / 3 + 63) / 64 * 64,
            Layers: shape.Layers, Heads: shape.Heads, KvHeads: shape.KvHeads ?? shape.Heads, Experts: shape.Experts, ExpertsPerToken: shape.ExpertsPerToken,
            ContextLength: shape.Block, RopeTheta: 10000f, RmsNormEps: 1e-6f, TieEmbeddings: true, RouterAuxLossCoef: shape.AuxLossCoef);
    }

    /// <summary>The tokenizer named by --tokenizer (char, or files given by --vocab/--merges) and its snapshot.</summary>
    public static (Tokenizer Tokenizer, string Snapshot) Tokenizer(TokenizerChoice choice, string corpus)
    {
        var (kindName, vocab, merges, lower) = choice;
        string kind = kindName ?? (vocab is null ? "char" : "files");
        if (kind == "char")
        {
            var t = CharTokenizer.FromText(corpus);
            return (t, TokenizerSnapshot.FromChars(t));
        }
        if (vocab is null) throw new CliException("--vocab is required unless --tokenizer char.");
        if (!File.Exists(vocab)) throw new CliException($"vocabulary file not found: {vocab}");
        if (merges is not null && !File.Exists(merges)) throw new CliException($"merges file not found: {merges}");
        return (TokenizeCommand.Load(vocab, merges, lower), TokenizerSnapshot.FromFiles(vocab, merges, lower));
    }

    public static string ReadText(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new CliException($"input file not found: {path}");
}

/// <summary>Architecture and sizes of a new language model (<c>sharpt train-lm</c>).</summary>
/// <param name="Arch">gpt2, llama, qwen2 (q/k/v biases) or mistral.</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="Embedding">Width.</param>
/// <param name="Block">Context length in tokens.</param>
/// <param name="Dropout">Dropout probability (GPT-2).</param>
/// <param name="KvHeads">Key/value heads (Llama; null = as many as the query heads).</param>
/// <param name="Hidden">MLP width (Llama; each expert's in Mixtral; null = 8/3 of the width rounded up to 64).</param>
/// <param name="Experts">Experts per MoE layer (Mixtral, DeepSeek).</param>
/// <param name="ExpertsPerToken">Experts each token is routed to (Mixtral, DeepSeek).</param>
/// <param name="AuxLossCoef">Weight of the load-balancing loss (Mixtral's router_aux_loss_coef, DeepSeek's aux_loss_alpha).</param>
/// <param name="SlidingWindow">Sliding-window attention on every layer (mistral, qwen2), or null.</param>
/// <param name="RopeScaling">RoPE scaling name (<see cref="RopeScalingChoice"/>; llama, qwen2, mistral), or null.</param>
/// <param name="RopeFactor">Its factor.</param>
/// <param name="DeepSeek">The latent-attention and expert shape of <c>--arch deepseek</c> (<see cref="DeepSeekShape"/>), or null for its defaults.</param>
internal sealed record LmShape(string Arch, int Layers, int Heads, int Embedding, int Block, float Dropout, int? KvHeads, int? Hidden,
    int Experts = 8, int ExpertsPerToken = 2, float AuxLossCoef = 0.02f, int? SlidingWindow = null, string? RopeScaling = null, float RopeFactor = 4f,
    DeepSeekShape? DeepSeek = null);

/// <summary>The options of <see cref="LmShape"/>.</summary>
internal sealed class LmShapeOptions
{
    private readonly Option<string> _arch = CliOptions.Choice("--arch", "architecture", "gpt2", "gpt2", "llama", "qwen2", "mistral", "mixtral", "deepseek");
    private readonly Option<int> _layers = CliOptions.Int("--layers", "transformer blocks", 4, min: 1);
    private readonly Option<int> _heads = CliOptions.Int("--heads", "attention heads", 4, min: 1);
    private readonly Option<int> _embd = CliOptions.Int("--embd", "width (a multiple of --heads)", 128, min: 1);
    private readonly Option<int> _block = CliOptions.Int("--block", "context length in tokens", 64, min: 1);
    private readonly Option<float> _dropout = CliOptions.Float("--dropout", "dropout probability (gpt2)", 0f, 0f, 0.99f);
    private readonly Option<int?> _kvHeads = CliOptions.OptionalInt("--kv-heads", "key/value heads (llama; default: --heads)", min: 1);
    private readonly Option<int?> _hidden = CliOptions.OptionalInt("--hidden", "MLP width (llama; of each expert for mixtral; default: 8/3 of --embd rounded up to 64)", min: 1);
    private readonly Option<int> _experts = CliOptions.Int("--experts", "experts per MoE layer (mixtral, deepseek)", 8, min: 1);
    private readonly Option<int> _expertsPerToken = CliOptions.Int("--experts-per-token", "experts each token is routed to (mixtral, deepseek)", 2, min: 1);
    private readonly Option<float> _auxLossCoef = CliOptions.Float("--aux-loss-coef", "weight of the load-balancing loss (mixtral's router_aux_loss_coef, deepseek's aux_loss_alpha)", 0.02f, 0f, 10f);
    private readonly Option<int?> _window = CliOptions.OptionalInt("--sliding-window", "sliding-window attention of this many positions (mistral, qwen2)", min: 1);
    private readonly Option<string> _rope = CliOptions.Choice("--rope-scaling", "RoPE scaling (llama, qwen2, mistral), trained context = --block / --rope-factor", "none", RopeScalingChoice.Names);
    private readonly Option<float> _ropeFactor = CliOptions.Float("--rope-factor", "factor of --rope-scaling", 4f, 1f, 1e6f);
    private readonly DeepSeekShapeOptions _deepSeek = new();

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _arch, _layers, _heads, _embd, _block, _dropout, _kvHeads, _hidden, _experts, _expertsPerToken, _auxLossCoef,
            _window, _rope, _ropeFactor }) command.Options.Add(o);
        _deepSeek.AddTo(command);
    }

    /// <summary>The values given.</summary>
    public LmShape Read(ParseResult r) => new(r.GetValue(_arch)!, r.GetValue(_layers), r.GetValue(_heads), r.GetValue(_embd), r.GetValue(_block),
        r.GetValue(_dropout), r.GetValue(_kvHeads), r.GetValue(_hidden), r.GetValue(_experts), r.GetValue(_expertsPerToken), r.GetValue(_auxLossCoef),
        r.GetValue(_window), r.GetValue(_rope), r.GetValue(_ropeFactor), _deepSeek.Read(r));
}

/// <summary>The tokenizer of a new language model: <c>char</c>, or the files of a BPE or WordPiece vocabulary.</summary>
/// <param name="Kind">char or files (null: char unless a vocabulary is given).</param>
/// <param name="Vocab">vocab.json, tokenizer.json or vocab.txt.</param>
/// <param name="Merges">merges.txt of a BPE vocabulary.</param>
/// <param name="Lowercase">Lower-case the text first.</param>
internal sealed record TokenizerChoice(string? Kind, string? Vocab, string? Merges, bool Lowercase);

/// <summary>The options of <see cref="TokenizerChoice"/>.</summary>
internal sealed class TokenizerOptions
{
    private readonly Option<string> _kind = CliOptions.Choice("--tokenizer", "characters, or the files of --vocab/--merges (default: char unless --vocab)", null, "char", "files");
    private readonly Option<string> _vocab = CliOptions.ExistingFile("--vocab", "vocabulary: vocab.json (with --merges), tokenizer.json or vocab.txt", "vocabulary file", required: false);
    private readonly Option<string> _merges = CliOptions.ExistingFile("--merges", "BPE merges.txt", "merges file", required: false);
    private readonly Option<bool> _lowercase = CliOptions.Flag("--lowercase", "lower-case the text before tokenizing");

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _kind, _vocab, _merges, _lowercase }) command.Options.Add(o);
    }

    /// <summary>The values given.</summary>
    public TokenizerChoice Read(ParseResult r) => new(r.GetValue(_kind), r.GetValue(_vocab), r.GetValue(_merges), r.GetValue(_lowercase));
}
