using SharpTransformer.Tensors;

namespace SharpTransformer.Nn.MoE;

/// <summary>
/// Sparse mixture-of-experts feed-forward (Mixtral's <c>block_sparse_moe</c>, DeepSeek's <c>mlp</c> in MoE layers): a linear
/// router <c>gate</c> (E, C), routed SwiGLU experts <c>experts.{e}</c>, and, with <see cref="MoeOptions.SharedExperts"/>, one
/// SwiGLU <c>shared_experts</c> applied to every token. Each expert runs only on the tokens routed to it: the rows of each
/// expert are gathered (<see cref="Tensor.IndexSelect"/>), the expert's GEMMs run on those rows, and the outputs are
/// scatter-added back with their routing weights (<see cref="MoeCombine"/>), so compute follows the active parameters.
/// The routing of the last forward is kept in <see cref="LastRouting"/> for the auxiliary losses (<see cref="MoeLosses"/>);
/// in training mode the tokens per expert are also summed into <see cref="TokenCounts"/>.
/// </summary>
public sealed class SparseMoe : Module, ILayer
{
    private long[] _counts;

    /// <summary>Creates the module with random weights.</summary>
    public SparseMoe(MoeOptions options, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate("SparseMoe");
        Options = options;
        RegisterModule<ILinear>("gate", new Linear(options.Dim, options.Experts, bias: false, generator));
        RegisterModule("experts", new ModuleList<SwiGluExpert>(Enumerable.Range(0, options.Experts)
            .Select(_ => new SwiGluExpert(options.Dim, options.ExpertHidden, options.Naming, generator))));
        if (options.SharedExperts > 0)
            RegisterModule("shared_experts", new SwiGluExpert(options.Dim, options.ExpertHidden * options.SharedExperts, options.Naming, generator));
        _counts = new long[options.Experts];
    }

    /// <summary>The options.</summary>
    public MoeOptions Options { get; }
    /// <summary>The router <c>gate</c>: (C) → (E) logits, weight (E, C).</summary>
    public ILinear Gate => Child<ILinear>("gate");
    /// <summary>The routed experts <c>experts.{e}</c>.</summary>
    public ModuleList<SwiGluExpert> Experts => Child<ModuleList<SwiGluExpert>>("experts");
    /// <summary>The shared experts <c>shared_experts</c>, or null.</summary>
    public SwiGluExpert? SharedExperts => ChildOrNull<SwiGluExpert>("shared_experts");

    /// <summary>
    /// The routing of the last forward (null before the first). Its tensors belong to that forward: inside a
    /// <see cref="TensorScope"/> they are valid until the scope ends.
    /// </summary>
    public MoeRouting? LastRouting { get; private set; }

    /// <summary>Tokens routed to each expert by the forwards in training mode since the last <see cref="ResetTokenCounts"/>.</summary>
    public IReadOnlyList<long> TokenCounts => _counts;

    /// <summary>Sets <see cref="TokenCounts"/> to zero.</summary>
    public void ResetTokenCounts() => _counts = new long[Options.Experts];

    /// <summary>(..., C) → (..., C)</summary>
    public Tensor Forward(Tensor x)
    {
        var o = Options;
        int c = o.Dim, e = o.Experts, k = o.ExpertsPerToken;
        if (x.Size(-1) != c) throw new ArgumentException($"SparseMoe.Forward: input {x.ShapeString} does not end in hidden_size {c}.");
        var lead = x.Shape[..^1].ToArray();
        int n = x.Count / c;
        var xf = x.Reshape(n, c);                                                       // (N, C)
        var logits = Gate.Forward(xf);                                                  // (N, E)
        var probs = logits.Softmax(-1);                                                 // (N, E)

        // Top-k per token on the host (the choice is not differentiable; the chosen probabilities are).
        var p = probs.ToArray();
        var chosen = new int[n * k];
        var counts = new int[e];
        for (int t = 0; t < n; t++) SelectTopK(p.AsSpan(t * e, e), chosen.AsSpan(t * k, k));
        foreach (var j in chosen) counts[j]++;

        var flat = new int[n * k];                                                      // index into probs viewed as (N·E)
        for (int t = 0; t < n; t++)
            for (int s = 0; s < k; s++) flat[t * k + s] = t * e + chosen[t * k + s];
        var w = probs.Reshape(n * e).IndexSelect(0, Ints(flat, x.Backend)).Reshape(n, k);   // (N, k)
        if (o.NormalizeTopK) w = w.Div(w.Sum(-1, keepDim: true));
        if (o.RoutedScalingFactor != 1f) w = w.Mul(o.RoutedScalingFactor);

        // Per expert: its tokens in order, and where each (token, choice) lands among the concatenated expert outputs. Each
        // expert's rows are padded to a multiple of RowMultiple with copies of one of its tokens that no slot points at (they
        // get zero gradient): the tensors then come in a few sizes that the buffer pool reuses from step to step, where exact
        // counts would give new sizes every step.
        var starts = new int[e + 1];
        for (int j = 0; j < e; j++) starts[j + 1] = starts[j] + (counts[j] + RowMultiple - 1) / RowMultiple * RowMultiple;
        var fill = (int[])starts.Clone();
        var rowsOf = new int[starts[e]];                                                // expert-major token ids
        var slots = new int[n * k];
        for (int t = 0; t < n; t++)
            for (int s = 0; s < k; s++)
            {
                int j = chosen[t * k + s], r = fill[j]++;
                rowsOf[r] = t;
                slots[t * k + s] = r;
            }
        for (int j = 0; j < e; j++)
            for (int r = fill[j]; r < starts[j + 1]; r++) rowsOf[r] = rowsOf[starts[j]];
        var outs = new List<Tensor>(e);
        var experts = Experts;
        for (int j = 0; j < e; j++)
        {
            if (counts[j] == 0) continue;
            var xe = xf.IndexSelect(0, Ints(rowsOf[starts[j]..starts[j + 1]], x.Backend));   // (n_j, C)
            outs.Add(experts[j].Forward(xe));                                           // (n_j, C)
        }
        var rows = outs.Count == 1 ? outs[0] : Tensor.Concat(outs, 0);                  // (≥ N·k, C), expert-major
        var y = MoeCombine.Apply(rows, w, slots);                                       // (N, C)
        if (SharedExperts is { } shared) y = y.Add(shared.Forward(xf));

        LastRouting = new MoeRouting(logits, probs, chosen, k, counts);
        if (Training) for (int j = 0; j < e; j++) _counts[j] += counts[j];
        return y.Reshape([.. lead, c]);                                                 // (..., C)
    }

    /// <summary>Each expert's row count is padded up to a multiple of this (see <see cref="Forward"/>).</summary>
    internal const int RowMultiple = 16;

    private static Tensor Ints(int[] values, Backends.IBackend backend)
    {
        var t = Tensor.FromArray(values, values.Length);
        return ReferenceEquals(t.Backend, backend) ? t : t.To(backend);
    }

    /// <summary>The indices of the k largest values, largest first; ties go to the lower index.</summary>
    internal static void SelectTopK(ReadOnlySpan<float> p, Span<int> dst)
    {
        int k = dst.Length;
        for (int s = 0; s < k; s++)
        {
            int best = -1;
            float bv = float.NegativeInfinity;
            for (int j = 0; j < p.Length; j++)
            {
                if (dst[..s].Contains(j)) continue;
                if (best < 0 || p[j] > bv) { best = j; bv = p[j]; }
            }
            dst[s] = best;
        }
    }
}
