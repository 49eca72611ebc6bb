using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// Base of every layer and model: parameters and submodules are registered explicitly under names (no reflection),
/// giving hierarchical names such as <c>blocks.0.attn.qkv.weight</c>.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = new();
    private readonly List<(string Name, Module Module)> _modules = new();

    /// <summary>True in training mode (dropout active); see <see cref="Train"/> and <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Registers a parameter tensor (it becomes a leaf that requires gradients) and returns it.</summary>
    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        CheckName(name);
        tensor.RequiresGrad = true;
        _parameters.Add((name, tensor));
        return tensor;
    }

    /// <summary>Registers a submodule and returns it.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        _modules.Add((name, module));
        return module;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"Module {GetType().Name}: invalid name '{name}' (non-empty, no dots).");
        if (_parameters.Any(p => p.Name == name) || _modules.Any(m => m.Name == name))
            throw new ArgumentException($"Module {GetType().Name}: name '{name}' is already registered.");
    }

    /// <summary>Every parameter with its hierarchical name, depth first in registration order. Shared tensors appear once.</summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters()
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (n, p) in Walk(""))
            if (seen.Add(p)) yield return (n, p);
    }

    private IEnumerable<(string, Tensor)> Walk(string prefix)
    {
        foreach (var (n, p) in _parameters) yield return (prefix + n, p);
        foreach (var (n, m) in _modules)
            foreach (var x in m.Walk(prefix + n + ".")) yield return x;
    }

    /// <summary>Every parameter.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Direct submodules with their names.</summary>
    public IEnumerable<(string Name, Module Module)> Children() => _modules;

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Count);

    /// <summary>Sets training mode here and in every submodule.</summary>
    public virtual Module Train(bool training = true)
    {
        Training = training;
        foreach (var (_, m) in _modules) m.Train(training);
        return this;
    }

    /// <summary>Sets evaluation mode (dropout off).</summary>
    public Module Eval() => Train(false);

    /// <summary>Zeroes every parameter's gradient, keeping the memory.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>Parameters by name.</summary>
    public Dictionary<string, Tensor> StateDict() => NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);

    /// <summary>
    /// Copies values into the parameters by name. Missing, unexpected or mis-shaped entries are collected and reported together.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var problems = new List<string>();
        var mine = StateDict();
        foreach (var (name, p) in mine)
        {
            if (!state.TryGetValue(name, out var src)) { if (strict) problems.Add($"missing: {name} {p.ShapeString}"); continue; }
            if (!src.Shape.SequenceEqual(p.Shape)) { problems.Add($"shape mismatch: {name} expects {p.ShapeString}, got {src.ShapeString}"); continue; }
        }
        if (strict)
            foreach (var name in state.Keys)
                if (!mine.ContainsKey(name)) problems.Add($"unexpected: {name} {state[name].ShapeString}");
        if (problems.Count > 0)
            throw new InvalidDataException($"LoadStateDict into {GetType().Name}: {problems.Count} problem(s):\n  " + string.Join("\n  ", problems));
        foreach (var (name, p) in mine)
            if (state.TryGetValue(name, out var src)) p.CopyFrom(src.Backend == p.Backend ? src : src.To(p.Backend));
    }

    /// <summary>Moves every parameter (and its gradient) to <paramref name="backend"/> in place, like PyTorch's <c>module.to(device)</c>.</summary>
    public Module To(IBackend backend)
    {
        using var _ = TensorScope.Suspend();
        foreach (var p in Parameters())
        {
            if (ReferenceEquals(p.Backend, backend)) continue;
            var moved = p.Detach().To(backend);
            p.ReplaceStorage(moved.Storage, moved.Layout);
            p.Grad = p.Grad?.To(backend);
        }
        return this;
    }
}
