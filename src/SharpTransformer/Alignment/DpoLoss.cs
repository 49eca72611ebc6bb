using SharpTransformer.Autograd;
using SharpTransformer.Tensors;

namespace SharpTransformer.Alignment;

/// <summary>
/// The direct-preference losses of TRL's <c>DPOTrainer.dpo_loss</c> over the log-probabilities of the chosen and rejected
/// completions under the policy and the frozen reference. With h = (πc − πr) − (rc − rr): sigmoid (DPO, with cDPO's label
/// smoothing ε) −(1−ε)·log σ(β·h) − ε·log σ(−β·h); IPO (h − 1/(2β))². Both are averaged over the pairs.
/// </summary>
public static class DpoLoss
{
    /// <summary>Computes the loss and the implicit rewards of a batch of pairs.</summary>
    /// <param name="policyChosen">log π(chosen | prompt), Float32 (B), differentiable.</param>
    /// <param name="policyRejected">log π(rejected | prompt), (B).</param>
    /// <param name="referenceChosen">log π_ref(chosen | prompt), (B), held constant.</param>
    /// <param name="referenceRejected">log π_ref(rejected | prompt), (B), held constant.</param>
    /// <param name="beta">β &gt; 0: the strength of the KL regularisation toward the reference (IPO's τ).</param>
    /// <param name="kind">Sigmoid (DPO) or IPO.</param>
    /// <param name="labelSmoothing">cDPO's ε in [0, 0.5): the assumed share of flipped preferences (sigmoid loss only).</param>
    public static DpoLossOutput Compute(Tensor policyChosen, Tensor policyRejected, Tensor referenceChosen, Tensor referenceRejected,
        float beta, DpoLossKind kind = DpoLossKind.Sigmoid, float labelSmoothing = 0f)
    {
        ArgumentNullException.ThrowIfNull(policyChosen);
        ArgumentNullException.ThrowIfNull(policyRejected);
        ArgumentNullException.ThrowIfNull(referenceChosen);
        ArgumentNullException.ThrowIfNull(referenceRejected);
        if (!(beta > 0f) || !float.IsFinite(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "DpoLoss: beta must be positive.");
        if (!(labelSmoothing >= 0f && labelSmoothing < 0.5f))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "DpoLoss: label smoothing must be in [0, 0.5).");
        if (kind == DpoLossKind.Ipo && labelSmoothing > 0f)
            throw new ArgumentException($"DpoLoss: label smoothing ({labelSmoothing}) applies to the sigmoid loss only, not to IPO.", nameof(labelSmoothing));
        var t = new[] { policyChosen, policyRejected, referenceChosen, referenceRejected };
        string[] names = ["policyChosen", "policyRejected", "referenceChosen", "referenceRejected"];
        for (int i = 0; i < t.Length; i++)
            if (t[i].Rank != 1 || t[i].Size(0) != policyChosen.Size(0) || policyChosen.Rank != 1)
                throw new ArgumentException($"DpoLoss: the four log-probabilities must be vectors of one length (B); {names[i]} is {t[i].ShapeString}, policyChosen {policyChosen.ShapeString}.");
        if (policyChosen.Size(0) == 0) throw new ArgumentException("DpoLoss: the batch is empty.");

        var rc = referenceChosen.Detach();
        var rr = referenceRejected.Detach();
        var chosenRatio = policyChosen.Sub(rc);                                   // (B) log π/π_ref of the chosen
        var rejectedRatio = policyRejected.Sub(rr);                               // (B)
        var h = chosenRatio.Sub(rejectedRatio);                                   // (B)
        Tensor losses = kind switch
        {
            DpoLossKind.Ipo => h.Sub(1f / (2f * beta)).Square(),
            _ when labelSmoothing == 0f => LogSigmoid(h.Mul(beta)).Neg(),
            _ => LogSigmoid(h.Mul(beta)).Mul(-(1f - labelSmoothing)).Sub(LogSigmoid(h.Mul(-beta)).Mul(labelSmoothing)),
        };
        float[] chosen, rejected;
        using (GradMode.NoGrad())
        {
            chosen = chosenRatio.Detach().Mul(beta).ToArray();
            rejected = rejectedRatio.Detach().Mul(beta).ToArray();
        }
        return new DpoLossOutput(losses.Mean(), chosen, rejected);
    }

    /// <summary>
    /// log σ(x) computed stably, min(x, 0) − log(1 + e^−|x|), with the exact gradient σ(−x) (also at x = 0, where the policy
    /// equals its reference at the start of training).
    /// </summary>
    public static Tensor LogSigmoid(Tensor x) => CustomFunction.Apply("log_sigmoid", [x], ctx =>
    {
        var v = ctx.Inputs[0];
        ctx.SaveForBackward(v);
        return v.Clamp(max: 0f).Sub(v.Abs().Neg().Exp().Add(1f).Log());
    }, (ctx, dy) => [dy.Mul(ctx.SavedTensors[0].Neg().Sigmoid())]);
}
