using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>Options of <see cref="Sgd"/>; defaults as torch.optim.SGD.</summary>
public sealed record SgdOptions(float LearningRate = 1e-2f, float Momentum = 0f, float WeightDecay = 0f, bool Nesterov = false);

/// <summary>Stochastic gradient descent with optional momentum (PyTorch's formulation: buf = μ·buf + g; p -= lr·buf).</summary>
public sealed class Sgd : IOptimizer
{
    private readonly List<Tensor> _params;
    private readonly Dictionary<Tensor, Tensor> _momentum = new(ReferenceEqualityComparer.Instance);

    /// <summary>Creates the optimizer.</summary>
    public Sgd(IEnumerable<Tensor> parameters, SgdOptions? options = null)
    {
        Options = options ?? new SgdOptions();
        if (Options.Nesterov && Options.Momentum <= 0f) throw new ArgumentException("Sgd: Nesterov momentum needs a positive momentum.");
        LearningRate = Options.LearningRate;
        _params = parameters.Where(p => p.RequiresGrad).ToList();
    }

    /// <summary>Hyper-parameters.</summary>
    public SgdOptions Options { get; }
    /// <inheritdoc/>
    public float LearningRate { get; set; }
    /// <inheritdoc/>
    public int StepCount { get; private set; }

    /// <inheritdoc/>
    public void Step()
    {
        StepCount++;
        foreach (var p in _params)
        {
            var grad = p.Grad;
            if (grad is null) continue;
            var b = p.Backend;
            var g = grad;
            if (Options.WeightDecay != 0f) g = grad.Detach().Add(p.Detach().Mul(Options.WeightDecay));
            if (Options.Momentum != 0f)
            {
                if (!_momentum.TryGetValue(p, out var buf))
                {
                    using var _ = TensorScope.Suspend();
                    buf = g.Detach().Clone();
                    _momentum[p] = buf;
                }
                else
                {
                    b.Unary(UnaryOp.MulScalar, buf.Storage, buf.Layout, buf.Storage, Options.Momentum);
                    b.Binary(BinaryOp.Add, buf.Storage, buf.Layout, g.Storage, g.Layout, buf.Storage);
                }
                g = Options.Nesterov ? g.Detach().Add(buf.Detach().Mul(Options.Momentum)) : buf;
            }
            var step = g.Detach().Mul(-LearningRate);
            b.Binary(BinaryOp.Add, p.Storage, p.Layout, step.Storage, step.Layout, p.Storage);
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<Tensor> Parameters => _params;

    /// <summary>The name of this optimizer in an <see cref="OptimizerState"/>.</summary>
    public const string Kind = "sgd";

    /// <inheritdoc/>
    /// <remarks>Buffer "momentum" of each parameter that took a step with momentum on.</remarks>
    public OptimizerState StateDict() => new(Kind, StepCount,
        _params.Where(_momentum.ContainsKey)
            .Select(p => new ParameterState(p, new Dictionary<string, float[]> { ["momentum"] = _momentum[p].ToArray() })).ToList());

    /// <inheritdoc/>
    public void LoadStateDict(OptimizerState state)
    {
        if (state.Kind != Kind) throw new ArgumentException($"Sgd.LoadStateDict: the state is of a '{state.Kind}' optimizer, not '{Kind}'.", nameof(state));
        var mine = new HashSet<Tensor>(_params, ReferenceEqualityComparer.Instance);
        var loaded = new List<(Tensor P, float[] Buf)>();
        foreach (var ps in state.Parameters)
        {
            var p = ps.Parameter;
            string name = p.Name ?? p.ShapeString;
            if (!mine.Contains(p)) throw new ArgumentException($"Sgd.LoadStateDict: parameter {name} is not optimised by this optimizer (frozen, or of another model).", nameof(state));
            if (!ps.Buffers.TryGetValue("momentum", out var buf))
                throw new ArgumentException($"Sgd.LoadStateDict: parameter {name} lacks buffer 'momentum' (has {string.Join(", ", ps.Buffers.Keys)}).", nameof(state));
            if (buf.Length != p.Count) throw new ArgumentException($"Sgd.LoadStateDict: the momentum of parameter {name} {p.ShapeString} has {buf.Length} values, not {p.Count}.", nameof(state));
            loaded.Add((p, buf));
        }
        using var _ = TensorScope.Suspend();
        _momentum.Clear();
        foreach (var (p, buf) in loaded) _momentum[p] = Tensor.FromArray(buf, p.Shape.ToArray()).To(p.Backend);
        StepCount = state.StepCount;
    }

    /// <inheritdoc/>
    public void ZeroGrad()
    {
        foreach (var p in _params) p.ZeroGrad();
    }
}
