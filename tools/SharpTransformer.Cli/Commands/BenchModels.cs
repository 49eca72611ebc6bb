using System.CommandLine;
using SharpTransformer.Models;
using SharpTransformer.Models.Llama;
using SharpTransformer.Models.Mixtral;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// The non-GPT-2 models of <c>sharpt bench train-step</c> and <c>bench generate</c> (<c>--model llama|mixtral</c>), shaped by
/// <see cref="BenchShapeOptions"/>: a dense Llama, or a Mixtral whose experts are as wide as <c>--hidden</c>.
/// </summary>
internal static class BenchModels
{
    /// <summary>The names built here.</summary>
    public static readonly string[] Names = ["llama", "mixtral"];

    /// <summary>True when <paramref name="name"/> is built here rather than by <see cref="ModelConfigs"/>.</summary>
    public static bool Handles(string name) => Names.Contains(name);

    /// <summary>
    /// The model and its active parameters per token without the embedding (all of them for a dense model; a MoE layer counts
    /// its router and k of its experts).
    /// </summary>
    public static (CausalLanguageModel Model, long ActiveNonEmbedding, int Layers, int Width) Create(string name, LmShape s, int vocab)
    {
        if (name == "llama")
        {
            var c = new LlamaConfig(VocabSize: vocab, Hidden: s.Embedding, Intermediate: s.Hidden ?? (8 * s.Embedding / 3 + 63) / 64 * 64,
                Layers: s.Layers, Heads: s.Heads, KvHeads: s.KvHeads ?? s.Heads, ContextLength: s.Block, TieEmbeddings: true);
            var m = new Llama(c);
            return (m, m.ParameterCount() - (long)vocab * s.Embedding, s.Layers, s.Embedding);
        }
        var mc = LmModels.MixtralShape(s with { Arch = "mixtral" }, vocab);
        var mx = new Mixtral(mc);
        long expert = 3L * mc.Hidden * mc.Intermediate;
        long active = mx.ParameterCount() - (long)vocab * mc.Hidden - (long)mc.Layers * (mc.Experts - mc.ExpertsPerToken) * expert;
        return (mx, active, mc.Layers, mc.Hidden);
    }
}

/// <summary>The shape options of <see cref="BenchModels"/> (names as <c>train-lm</c>'s).</summary>
internal sealed class BenchShapeOptions
{
    private readonly Option<int> _layers = CliOptions.Int("--layers", "blocks (llama, mixtral)", 4, min: 1);
    private readonly Option<int> _heads = CliOptions.Int("--heads", "attention heads (llama, mixtral)", 4, min: 1);
    private readonly Option<int?> _kvHeads = CliOptions.OptionalInt("--kv-heads", "key/value heads (llama, mixtral; default: --heads)", min: 1);
    private readonly Option<int> _embd = CliOptions.Int("--embd", "width (llama, mixtral)", 256, min: 1);
    private readonly Option<int?> _hidden = CliOptions.OptionalInt("--hidden", "MLP width (llama), or of each expert (mixtral); default: 8/3 of --embd rounded up to 64", min: 1);
    private readonly Option<int> _experts = CliOptions.Int("--experts", "experts per MoE layer (mixtral)", 8, min: 1);
    private readonly Option<int> _expertsPerToken = CliOptions.Int("--experts-per-token", "experts each token is routed to (mixtral)", 2, min: 1);
    private readonly Option<int> _vocab = CliOptions.Int("--vocab", "vocabulary size (llama, mixtral)", 256, min: 2);

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _layers, _heads, _kvHeads, _embd, _hidden, _experts, _expertsPerToken, _vocab }) command.Options.Add(o);
    }

    /// <summary>The shape given, with a context of <paramref name="block"/> tokens, and the vocabulary size.</summary>
    public (LmShape Shape, int Vocab) Read(ParseResult r, string arch, int block) =>
        (new LmShape(arch, r.GetValue(_layers), r.GetValue(_heads), r.GetValue(_embd), block, 0f, r.GetValue(_kvHeads), r.GetValue(_hidden),
            r.GetValue(_experts), r.GetValue(_expertsPerToken)), r.GetValue(_vocab));
}
