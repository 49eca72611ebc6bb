using System.CommandLine;
using SharpTransformer.Models;
using SharpTransformer.Models.DeepSeek;
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
    public static readonly string[] Names = ["llama", "mixtral", "deepseek"];

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
        if (name == "deepseek")
        {
            var dc = DeepSeekShape.Config(s with { Arch = "deepseek" }, vocab);
            var ds = new DeepSeekV2(dc);
            long dsExpert = 3L * dc.Hidden * dc.MoeIntermediate;
            int moeLayers = Enumerable.Range(0, dc.Layers).Count(dc.IsMoeLayer);
            long dsActive = ds.ParameterCount() - (long)vocab * dc.Hidden - (long)moeLayers * ((dc.RoutedExperts ?? 0) - dc.ExpertsPerToken) * dsExpert;
            return (ds, dsActive, dc.Layers, dc.Hidden);
        }
        var mc = LmModels.MixtralShape(s with { Arch = "mixtral" }, vocab);
        var mx = new Mixtral(mc);
        long expert = 3L * mc.Hidden * mc.Intermediate;
        long active = mx.ParameterCount() - (long)vocab * mc.Hidden - (long)mc.Layers * (mc.Experts - mc.ExpertsPerToken) * expert;
        return (mx, active, mc.Layers, mc.Hidden);
    }

    /// <summary>
    /// A Llama with grouped-query attention (--kv-heads, default a quarter of the heads) of the shape's layers, heads and width whose
    /// MLP width is chosen so that its parameter count is the closest to <paramref name="like"/>'s: the "same number of parameters"
    /// baseline of <c>bench generate --versus llama</c>.
    /// </summary>
    public static Llama MatchedLlama(CausalLanguageModel like, LmShape s, int vocab)
    {
        int kv = s.KvHeads ?? Enumerable.Range(1, s.Heads).Reverse().First(k => s.Heads % k == 0 && k <= Math.Max(1, s.Heads / 4));
        LlamaConfig Config(int intermediate) => new(VocabSize: vocab, Hidden: s.Embedding, Intermediate: intermediate, Layers: s.Layers, Heads: s.Heads,
            KvHeads: kv, ContextLength: s.Block, TieEmbeddings: true);
        long target = like.ParameterCount(), one = new Llama(Config(1)).ParameterCount();
        int width = (int)Math.Max(1, 1 + Math.Round((target - one) / (3.0 * s.Embedding * s.Layers)));
        return new Llama(Config(width));
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
    private readonly DeepSeekShapeOptions _deepSeek = new();

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _layers, _heads, _kvHeads, _embd, _hidden, _experts, _expertsPerToken, _vocab }) command.Options.Add(o);
        _deepSeek.AddTo(command);
    }

    /// <summary>The shape given, with a context of <paramref name="block"/> tokens, and the vocabulary size.</summary>
    public (LmShape Shape, int Vocab) Read(ParseResult r, string arch, int block) =>
        (new LmShape(arch, r.GetValue(_layers), r.GetValue(_heads), r.GetValue(_embd), block, 0f, r.GetValue(_kvHeads), r.GetValue(_hidden),
            r.GetValue(_experts), r.GetValue(_expertsPerToken), DeepSeek: _deepSeek.Read(r)), r.GetValue(_vocab));
}
