namespace SharpTransformer.Alignment;

/// <summary>The preference loss of <see cref="DpoLoss"/> (TRL's <c>loss_type</c>).</summary>
public enum DpoLossKind
{
    /// <summary>DPO (Rafailov et al. 2023): -log σ(β·((πc − rc) − (πr − rr))), with optional label smoothing (cDPO).</summary>
    Sigmoid,
    /// <summary>IPO (Azar et al. 2023): ((πc − rc) − (πr − rr) − 1/(2β))², on log-probabilities averaged over the completion tokens.</summary>
    Ipo,
}
