namespace SharpTransformer.Nn.MoE;

/// <summary>
/// A model with mixture-of-experts layers: trainers add <see cref="MoeLosses.Auxiliary"/> of the last forward to the loss, and
/// report the tokens per expert of <see cref="MoeLayers"/>.
/// </summary>
public interface IMixtureOfExpertsModel
{
    /// <summary>The MoE feed-forwards, in layer order (dense layers are not listed).</summary>
    IReadOnlyList<SparseMoe> MoeLayers { get; }
    /// <summary>Weight of the load-balancing loss (<c>router_aux_loss_coef</c>); 0 turns it off.</summary>
    float RouterAuxLossCoef { get; }
    /// <summary>Weight of the router z-loss; 0 turns it off.</summary>
    float RouterZLossCoef { get; }
}
