using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>Options of <see cref="AdamW"/>; defaults as torch.optim.AdamW.</summary>
public sealed record AdamWOptions(float LearningRate = 1e-3f, float Beta1 = 0.9f, float Beta2 = 0.999f, float Epsilon = 1e-8f,
    float WeightDecay = 0.01f);

/// <summary>
/// AdamW with decoupled weight decay, applied by default only to matrices (rank ≥ 2) as nanoGPT does.
/// Each parameter is updated by one fused SIMD pass of the backend. Moments live on their parameter's backend: after
/// <c>module.To(backend)</c> they follow the parameters at the next <see cref="Step"/>, so moving the model moves the optimizer.
/// </summary>
public sealed class AdamW : IOptimizer
{
    private readonly List<(Tensor P, float Scale, float Wd)> _params = new();
    private readonly Dictionary<Tensor, (Tensor M, Tensor V)> _state = new(ReferenceEqualityComparer.Instance);

    /// <summary>Optimises every parameter of the given tensors in one group.</summary>
    public AdamW(IEnumerable<Tensor> parameters, AdamWOptions? options = null)
        : this([new ParameterGroup(parameters.ToList())], options) { }

    /// <summary>Optimises parameter groups with their own learning-rate scale and weight decay.</summary>
    public AdamW(IEnumerable<ParameterGroup> groups, AdamWOptions? options = null)
    {
        Options = options ?? new AdamWOptions();
        LearningRate = Options.LearningRate;
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var g in groups)
            foreach (var p in g.Parameters)
            {
                if (!p.RequiresGrad) continue;
                if (!seen.Add(p)) throw new ArgumentException($"AdamW: parameter {p.Name ?? p.ShapeString} appears in more than one group.");
                _params.Add((p, g.LearningRateScale, g.WeightDecay ?? (p.Rank >= 2 ? Options.WeightDecay : 0f)));
            }
    }

    /// <summary>Hyper-parameters.</summary>
    public AdamWOptions Options { get; }
    /// <inheritdoc/>
    public float LearningRate { get; set; }
    /// <inheritdoc/>
    public int StepCount { get; private set; }

    /// <inheritdoc/>
    public IReadOnlyList<Tensor> Parameters => _params.Select(p => p.P).ToList();

    /// <inheritdoc/>
    public void Step()
    {
        StepCount++;
        foreach (var (p, scale, wd) in _params)
        {
            if (p.Grad is null) continue;
            var (m, v) = StateOf(p);
            var args = new AdamWArgs(LearningRate * scale, Options.Beta1, Options.Beta2, Options.Epsilon, wd, StepCount);
            p.Backend.AdamW(p.Storage, p.Grad.Storage, m.Storage, v.Storage, p.Count, args);
        }
    }

    private (Tensor M, Tensor V) StateOf(Tensor p)
    {
        if (_state.TryGetValue(p, out var s))
        {
            if (ReferenceEquals(s.M.Backend, p.Backend)) return s;
            // The parameter moved (module.To(backend)): its moments follow it, like PyTorch's optimizer state after model.to(device).
            using var __ = TensorScope.Suspend();
            var moved = (s.M.To(p.Backend), s.V.To(p.Backend));
            s.M.Storage.Dispose();
            s.V.Storage.Dispose();
            _state[p] = moved;
            return moved;
        }
        if (!p.IsContiguous || p.Layout.Offset != 0 || !p.Grad!.IsContiguous)
            throw new InvalidOperationException($"AdamW: parameter {p.Name ?? p.ShapeString} and its gradient must be contiguous.");
        using var _ = TensorScope.Suspend();
        s = (Tensor.Zeros(p.Shape, DType.Float32, p.Backend), Tensor.Zeros(p.Shape, DType.Float32, p.Backend));
        _state[p] = s;
        return s;
    }

    /// <summary>
    /// The live moments of every parameter, on the parameter's backend, in parameter order; null where no step was taken yet.
    /// (<see cref="StateDict"/> gives host copies for checkpoints.)
    /// </summary>
    public IReadOnlyList<(Tensor Parameter, Tensor? M, Tensor? V)> Moments =>
        _params.Select(x => _state.TryGetValue(x.P, out var s) ? (x.P, (Tensor?)s.M, (Tensor?)s.V) : (x.P, null, null)).ToList();

    /// <summary>The name of this optimizer in an <see cref="OptimizerState"/>.</summary>
    public const string Kind = "adamw";

    /// <inheritdoc/>
    /// <remarks>Buffers "m" (first moment) and "v" (second moment) of each parameter that took a step.</remarks>
    public OptimizerState StateDict() => new(Kind, StepCount,
        _params.Where(x => _state.ContainsKey(x.P)).Select(x =>
        {
            var (m, v) = _state[x.P];
            return new ParameterState(x.P, new Dictionary<string, float[]> { ["m"] = m.ToArray(), ["v"] = v.ToArray() });
        }).ToList());

    /// <inheritdoc/>
    public void LoadStateDict(OptimizerState state)
    {
        if (state.Kind != Kind) throw new ArgumentException($"AdamW.LoadStateDict: the state is of a '{state.Kind}' optimizer, not '{Kind}'.", nameof(state));
        var index = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _params.Count; i++) index[_params[i].P] = i;
        var loaded = new List<(Tensor P, float[] M, float[] V)>();
        foreach (var ps in state.Parameters)
        {
            var p = ps.Parameter;
            string name = p.Name ?? p.ShapeString;
            if (!index.ContainsKey(p)) throw new ArgumentException($"AdamW.LoadStateDict: parameter {name} is not optimised by this optimizer (frozen, or of another model).", nameof(state));
            if (!ps.Buffers.TryGetValue("m", out var m) || !ps.Buffers.TryGetValue("v", out var v))
                throw new ArgumentException($"AdamW.LoadStateDict: parameter {name} lacks buffer 'm' or 'v' (has {string.Join(", ", ps.Buffers.Keys)}).", nameof(state));
            if (m.Length != p.Count || v.Length != p.Count)
                throw new ArgumentException($"AdamW.LoadStateDict: moments of parameter {name} {p.ShapeString} have {m.Length} and {v.Length} values, not {p.Count}.", nameof(state));
            loaded.Add((p, m, v));
        }
        using var _ = TensorScope.Suspend();
        foreach (var (m, v) in _state.Values) { m.Storage.Dispose(); v.Storage.Dispose(); }
        _state.Clear();
        foreach (var (p, m, v) in loaded)
            _state[p] = (Tensor.FromArray(m, p.Shape.ToArray()).To(p.Backend), Tensor.FromArray(v, p.Shape.ToArray()).To(p.Backend));
        StepCount = state.StepCount;
    }

    /// <inheritdoc/>
    public void ZeroGrad()
    {
        foreach (var (p, _, _) in _params) p.ZeroGrad();
    }
}
