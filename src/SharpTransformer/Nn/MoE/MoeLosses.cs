using SharpTransformer.Tensors;

namespace SharpTransformer.Nn.MoE;

/// <summary>The auxiliary losses of mixture-of-experts routing, computed from the last forward of each layer (<see cref="SparseMoe.LastRouting"/>).</summary>
public static class MoeLosses
{
    /// <summary>
    /// The Switch/Mixtral load-balancing loss, as transformers' <c>load_balancing_loss_func</c> without an attention mask: the
    /// router rows of all layers are taken together (N rows), p their softmax, and
    /// <c>E · Σ_e (tokens choosing e / N) · mean_n p[n, e]</c> (the choices of all k slots counted). Its minimum, k, is reached
    /// when the load is uniform. Not multiplied by <c>router_aux_loss_coef</c>. Null when no layer has routed yet.
    /// </summary>
    public static Tensor? LoadBalancing(IReadOnlyList<SparseMoe> layers)
    {
        var routes = Routes(layers, "MoeLosses.LoadBalancing");
        if (routes is null) return null;
        int e = routes[0].ExpertCount, rowsTotal = routes.Sum(r => r.Tokens);
        var f = new float[e];
        foreach (var r in routes) foreach (var j in r.Experts) f[j] += 1f;
        for (int j = 0; j < e; j++) f[j] /= rowsTotal;
        var probs = routes.Count == 1 ? routes[0].Probabilities : Tensor.Concat(routes.Select(r => r.Probabilities).ToList(), 0);   // (N, E)
        var meanP = probs.Mean(0);                                                      // (E)
        var fT = Tensor.FromArray(f, e);
        if (!ReferenceEquals(fT.Backend, meanP.Backend)) fT = fT.To(meanP.Backend);
        return meanP.Mul(fT).Sum().Mul(e);                                              // ()
    }

    /// <summary>
    /// The router z-loss of ST-MoE: the mean over the router rows of all layers of <c>logsumexp(logits)²</c>, which keeps the
    /// router logits small. Null when no layer has routed yet.
    /// </summary>
    public static Tensor? RouterZ(IReadOnlyList<SparseMoe> layers)
    {
        var routes = Routes(layers, "MoeLosses.RouterZ");
        if (routes is null) return null;
        var logits = routes.Count == 1 ? routes[0].Logits : Tensor.Concat(routes.Select(r => r.Logits).ToList(), 0);   // (N, E)
        var max = logits.Max(-1, keepDim: true).Detach();                               // (N, 1)
        var lse = logits.Sub(max).Exp().Sum(-1, keepDim: true).Log().Add(max);          // (N, 1)
        return lse.Square().Mean();                                                     // ()
    }

    /// <summary>
    /// <c>router_aux_loss_coef · </c><see cref="LoadBalancing"/><c> + router_z_loss_coef · </c><see cref="RouterZ"/> of the model's
    /// last forward, what a trainer adds to the language-model loss; null when both coefficients are 0 or nothing was routed.
    /// </summary>
    public static Tensor? Auxiliary(IMixtureOfExpertsModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Tensor? total = null;
        if (model.RouterAuxLossCoef != 0f && LoadBalancing(model.MoeLayers) is { } lb) total = lb.Mul(model.RouterAuxLossCoef);
        if (model.RouterZLossCoef != 0f && RouterZ(model.MoeLayers) is { } z)
        {
            var zw = z.Mul(model.RouterZLossCoef);
            total = total is null ? zw : total.Add(zw);
        }
        return total;
    }

    /// <summary>Tokens routed to each expert of each layer (layers × E) in training since the last reset; resets them when <paramref name="reset"/>.</summary>
    public static long[][] TokenCounts(IReadOnlyList<SparseMoe> layers, bool reset = false)
    {
        var r = layers.Select(l => l.TokenCounts.ToArray()).ToArray();
        if (reset) foreach (var l in layers) l.ResetTokenCounts();
        return r;
    }

    private static List<MoeRouting>? Routes(IReadOnlyList<SparseMoe> layers, string op)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var routes = layers.Select(l => l.LastRouting).OfType<MoeRouting>().ToList();
        if (routes.Count == 0) return null;
        foreach (var r in routes)
            if (r.ExpertCount != routes[0].ExpertCount)
                throw new InvalidOperationException($"{op}: the layers route over different numbers of experts ({routes[0].ExpertCount} and {r.ExpertCount}).");
        return routes;
    }
}
