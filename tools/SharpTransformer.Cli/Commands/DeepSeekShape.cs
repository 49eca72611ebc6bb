using System.CommandLine;
using SharpTransformer.Models.DeepSeek;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// The latent-attention and expert shape of a new DeepSeek-V2-style model (<c>--arch deepseek</c>, <c>--model deepseek</c>); every
/// width left null takes a default from the model's head width d = --embd / --heads.
/// </summary>
/// <param name="KvLoraRank">Compressed key/value width kv_lora_rank (default 4·d); with RopeHeadDim the cache's floats per token and layer.</param>
/// <param name="RopeHeadDim">Per-head width with RoPE qk_rope_head_dim (default d/2, even).</param>
/// <param name="NopeHeadDim">Per-head query/key width without position qk_nope_head_dim (default d).</param>
/// <param name="ValueHeadDim">Per-head value width v_head_dim (default d).</param>
/// <param name="QLoraRank">Low-rank query width q_lora_rank, or null for a plain q_proj.</param>
/// <param name="DenseLayers">Dense SwiGLU layers before the MoE layers (first_k_dense_replace); as many as the layers for a dense model.</param>
/// <param name="SharedExperts">Shared experts (n_shared_experts).</param>
/// <param name="ExpertHidden">Width of each expert (moe_intermediate_size; default the dense width / (experts per token + shared experts)).</param>
internal sealed record DeepSeekShape(int? KvLoraRank = null, int? RopeHeadDim = null, int? NopeHeadDim = null, int? ValueHeadDim = null,
    int? QLoraRank = null, int DenseLayers = 1, int SharedExperts = 1, int? ExpertHidden = null)
{
    /// <summary>The configuration of <paramref name="shape"/> (its <see cref="LmShape.DeepSeek"/> or the defaults) with a tied head.</summary>
    public static DeepSeekV2Config Config(LmShape shape, int vocab)
    {
        var d = shape.DeepSeek ?? new DeepSeekShape();
        if (shape.Embedding % shape.Heads != 0) throw new CliException($"--embd {shape.Embedding} is not a multiple of --heads {shape.Heads}.");
        int head = shape.Embedding / shape.Heads;
        int rope = d.RopeHeadDim ?? Math.Max(2, head / 2 / 2 * 2);
        if (rope % 2 != 0) throw new CliException($"--rope-head-dim must be even, got {rope}.");
        if (shape.ExpertsPerToken > shape.Experts)
            throw new CliException($"--experts-per-token {shape.ExpertsPerToken} exceeds --experts {shape.Experts}.");
        int hidden = shape.Hidden ?? (8 * shape.Embedding / 3 + 63) / 64 * 64;
        return new DeepSeekV2Config(VocabSize: vocab, Hidden: shape.Embedding, Intermediate: hidden, Layers: shape.Layers, Heads: shape.Heads,
            KvLoraRank: d.KvLoraRank ?? 4 * head, QkNopeHeadDim: d.NopeHeadDim ?? head, QkRopeHeadDim: rope, ValueHeadDim: d.ValueHeadDim ?? head,
            QLoraRank: d.QLoraRank, RoutedExperts: shape.Experts, ExpertsPerToken: shape.ExpertsPerToken, SharedExperts: d.SharedExperts,
            MoeIntermediate: d.ExpertHidden ?? Math.Max(1, hidden / (shape.ExpertsPerToken + d.SharedExperts)), FirstDenseLayers: d.DenseLayers,
            ContextLength: shape.Block, TieEmbeddings: true, RouterAuxLossCoef: shape.AuxLossCoef);
    }
}

/// <summary>The options of <see cref="DeepSeekShape"/>.</summary>
internal sealed class DeepSeekShapeOptions
{
    private readonly Option<int?> _kvLoraRank = CliOptions.OptionalInt("--kv-lora-rank", "latent key/value width, cached per token (deepseek; default 4 × head width)", min: 1);
    private readonly Option<int?> _ropeHeadDim = CliOptions.OptionalInt("--rope-head-dim", "per-head RoPE width, one key head shared (deepseek; default head width / 2)", min: 2);
    private readonly Option<int?> _nopeHeadDim = CliOptions.OptionalInt("--nope-head-dim", "per-head query/key width without position (deepseek; default head width)", min: 1);
    private readonly Option<int?> _valueHeadDim = CliOptions.OptionalInt("--v-head-dim", "per-head value width (deepseek; default head width)", min: 1);
    private readonly Option<int?> _qLoraRank = CliOptions.OptionalInt("--q-lora-rank", "low-rank query width (deepseek; default: a plain q_proj)", min: 1);
    private readonly Option<int> _denseLayers = CliOptions.Int("--dense-layers", "dense layers before the MoE layers (deepseek first_k_dense_replace; --layers for a dense model)", 1, min: 0);
    private readonly Option<int> _sharedExperts = CliOptions.Int("--shared-experts", "shared experts (deepseek)", 1, min: 0);
    private readonly Option<int?> _expertHidden = CliOptions.OptionalInt("--expert-hidden", "width of each expert (deepseek; default --hidden / (experts per token + shared))", min: 1);

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _kvLoraRank, _ropeHeadDim, _nopeHeadDim, _valueHeadDim, _qLoraRank, _denseLayers, _sharedExperts, _expertHidden })
            command.Options.Add(o);
    }

    /// <summary>The values given.</summary>
    public DeepSeekShape Read(ParseResult r) => new(r.GetValue(_kvLoraRank), r.GetValue(_ropeHeadDim), r.GetValue(_nopeHeadDim), r.GetValue(_valueHeadDim),
        r.GetValue(_qLoraRank), r.GetValue(_denseLayers), r.GetValue(_sharedExperts), r.GetValue(_expertHidden));
}
