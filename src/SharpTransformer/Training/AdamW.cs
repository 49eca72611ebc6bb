using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>Options of <see cref="AdamW"/>; defaults as torch.optim.AdamW.</summary>
public sealed record AdamWOptions(float LearningRate = 1e-3f, float Beta1 = 0.9f, float Beta2 = 0.999f, float Epsilon = 1e-8f,
    float WeightDecay = 0.01f);

/// <summary>
/// AdamW with decoupled weight decay, applied by default only to matrices (rank ≥ 2) as nanoGPT does. Frozen parameters
/// (<c>RequiresGrad</c> false, see <see cref="Nn.Module.Freeze()"/>) are skipped and get no state.
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

    /// <summary>The optimised parameters in order.</summary>
    public IReadOnlyList<Tensor> Parameters => _params.Select(p => p.P).ToList();

    /// <inheritdoc/>
    public void Step()
    {
        StepCount++;
        foreach (var (p, scale, wd) in _params)
        {
            if (p.Grad is null || !p.RequiresGrad) continue;   // frozen after construction: no update, no state
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

    /// <summary>The moments of every parameter (for checkpoints), in parameter order; null where no step was taken yet.</summary>
    public IReadOnlyList<(Tensor Parameter, Tensor? M, Tensor? V)> State =>
        _params.Select(x => _state.TryGetValue(x.P, out var s) ? (x.P, (Tensor?)s.M, (Tensor?)s.V) : (x.P, null, null)).ToList();

    /// <summary>Restores the step count and moments (parameter order as <see cref="State"/>).</summary>
    public void LoadState(int stepCount, IReadOnlyList<(float[] M, float[] V)?> moments)
    {
        if (moments.Count != _params.Count) throw new ArgumentException($"AdamW.LoadState: {moments.Count} moment pairs for {_params.Count} parameters.");
        StepCount = stepCount;
        using var _ = TensorScope.Suspend();
        for (int i = 0; i < _params.Count; i++)
        {
            var p = _params[i].P;
            if (moments[i] is not { } mv) { _state.Remove(p); continue; }
            if (mv.M.Length != p.Count || mv.V.Length != p.Count) throw new ArgumentException($"AdamW.LoadState: moments of parameter {i} ({p.Name}) have the wrong size.");
            var m = Tensor.FromArray(mv.M, p.Shape.ToArray()).To(p.Backend);
            var v = Tensor.FromArray(mv.V, p.Shape.ToArray()).To(p.Backend);
            _state[p] = (m, v);
        }
    }

    /// <inheritdoc/>
    public void ZeroGrad()
    {
        foreach (var (p, _, _) in _params) p.ZeroGrad();
    }
}
