using System.Text.RegularExpressions;
using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// Base of every layer and model: parameters and submodules are registered explicitly under names (no reflection),
/// giving hierarchical names such as <c>h.0.attn.c_attn.weight</c>. Submodules live in typed slots of a registry that the
/// forward passes read (<see cref="Child{T}"/>), so a module swapped in by <see cref="ReplaceModule"/> is the one that runs,
/// as with PyTorch's <c>set_submodule</c>.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = new();
    private readonly List<Slot> _modules = new();

    // A named child and the type every module put there must have (the declared type of the property that reads it).
    private sealed class Slot(string name, Module module, Type expected)
    {
        public string Name { get; } = name;
        public Module Module { get; set; } = module;
        public Type Expected { get; } = expected;
    }

    /// <summary>True in training mode (dropout active); see <see cref="Train"/> and <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>
    /// Registers a parameter tensor (it becomes a leaf that requires gradients) and returns it. A parameter belongs to its
    /// module, never to a <see cref="TensorScope"/>: one created inside a scope outlives it.
    /// </summary>
    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        CheckName(name);
        tensor.RequiresGrad = true;
        TensorScope.Untrack(tensor.Storage);
        _parameters.Add((name, tensor));
        return tensor;
    }

    /// <summary>
    /// Registers a submodule in a slot typed <typeparamref name="T"/> and returns it. Replacements of this child must be
    /// <typeparamref name="T"/> (register a linear layer as <see cref="ILinear"/> so wrappers can take its place); properties read
    /// the child back with <see cref="Child{T}"/>.
    /// </summary>
    protected T RegisterModule<T>(string name, T module) where T : class
    {
        CheckName(name);
        if (module is not Module m)
            throw new ArgumentException($"Module {GetType().Name}: child '{name}' of type {module.GetType().Name} is not a Module.");
        _modules.Add(new Slot(name, m, typeof(T)));
        return module;
    }

    /// <summary>The child registered under <paramref name="name"/> (the current one, after any replacement).</summary>
    protected T Child<T>(string name) where T : class
    {
        foreach (var s in _modules)
            if (s.Name == name) return (T)(object)s.Module;
        throw new InvalidOperationException($"Module {GetType().Name}: no child '{name}' (children: {ChildNames()}).");
    }

    /// <summary>The child registered under <paramref name="name"/>, or null when none was registered (optional children).</summary>
    protected T? ChildOrNull<T>(string name) where T : class
    {
        foreach (var s in _modules)
            if (s.Name == name) return (T)(object)s.Module;
        return null;
    }

    /// <summary>The <paramref name="index"/>-th child in registration order.</summary>
    protected Module ChildAt(int index) => _modules[index].Module;

    /// <summary>Number of children.</summary>
    protected int ChildCount => _modules.Count;

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"Module {GetType().Name}: invalid name '{name}' (non-empty, no dots).");
        if (_parameters.Any(p => p.Name == name) || _modules.Any(m => m.Name == name))
            throw new ArgumentException($"Module {GetType().Name}: name '{name}' is already registered.");
    }

    private string ChildNames() => _modules.Count == 0 ? "none" : string.Join(", ", _modules.Select(s => s.Name));

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
        foreach (var s in _modules)
            foreach (var x in s.Module.Walk(prefix + s.Name + ".")) yield return x;
    }

    /// <summary>
    /// This module (named "") and every submodule with its dotted path, depth first in registration order, as PyTorch's
    /// <c>named_modules()</c>. A module reachable by two paths appears once, under the first.
    /// </summary>
    public IEnumerable<(string Name, Module Module)> NamedModules()
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        foreach (var x in WalkModules(""))
            if (seen.Add(x.Item2)) yield return x;
    }

    private IEnumerable<(string, Module)> WalkModules(string path)
    {
        yield return (path, this);
        foreach (var s in _modules)
            foreach (var x in s.Module.WalkModules(path.Length == 0 ? s.Name : path + "." + s.Name)) yield return x;
    }

    /// <summary>Every parameter.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Direct submodules with their names.</summary>
    public IEnumerable<(string Name, Module Module)> Children() => _modules.Select(s => (s.Name, s.Module));

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Count);

    /// <summary>The submodule at a dotted path ("" is this module), as PyTorch's <c>get_submodule</c>.</summary>
    /// <exception cref="ArgumentException">No submodule has that path; the message names the longest existing prefix and its children.</exception>
    public Module GetSubmodule(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0) return this;
        Module m = this;
        string walked = "";
        foreach (var part in path.Split('.'))
        {
            var slot = m._modules.FirstOrDefault(s => s.Name == part);
            if (slot is null) throw NotFound("GetSubmodule", path, walked, m);
            m = slot.Module;
            walked = walked.Length == 0 ? part : walked + "." + part;
        }
        return m;
    }

    private ArgumentException NotFound(string op, string path, string walked, Module at) =>
        new($"Module.{op}: no submodule '{path}' in {GetType().Name}; the longest existing prefix is " +
            $"'{walked}' ({at.GetType().Name}) with children: {at.ChildNames()}" +
            (at._parameters.Count > 0 ? $"; parameters: {string.Join(", ", at._parameters.Select(p => p.Name))}" : "") + ".", nameof(path));

    /// <summary>
    /// Puts <paramref name="replacement"/> in place of the submodule at <paramref name="path"/> and returns the module it
    /// replaced; forward passes use the replacement from then on. The replacement must have the slot's declared type (a linear
    /// slot takes any <see cref="ILinear"/>) and, for a linear, the same input and output features. It takes the training mode
    /// of the module it replaces.
    /// </summary>
    /// <exception cref="ArgumentException">The path does not exist, or the replacement has another type or shape.</exception>
    public Module ReplaceModule(string path, Module replacement)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(replacement);
        if (path.Length == 0) throw new ArgumentException("Module.ReplaceModule: the root module (path \"\") cannot be replaced.", nameof(path));
        int dot = path.LastIndexOf('.');
        string parentPath = dot < 0 ? "" : path[..dot], name = path[(dot + 1)..];
        Module parent;
        try { parent = GetSubmodule(parentPath); }
        catch (ArgumentException) { throw NotFoundFrom("ReplaceModule", path); }
        var slot = parent._modules.FirstOrDefault(s => s.Name == name) ?? throw NotFound("ReplaceModule", path, parentPath, parent);
        if (!slot.Expected.IsInstanceOfType(replacement))
            throw new ArgumentException($"Module.ReplaceModule: '{path}' expects a {slot.Expected.Name}, given a {replacement.GetType().Name} " +
                $"(it replaces a {slot.Module.GetType().Name}).", nameof(replacement));
        if (slot.Module is ILinear old && replacement is ILinear lin && (old.InFeatures != lin.InFeatures || old.OutFeatures != lin.OutFeatures))
            throw new ArgumentException($"Module.ReplaceModule: '{path}' expects a linear of {old.InFeatures} → {old.OutFeatures} features, " +
                $"given {replacement.GetType().Name} of {lin.InFeatures} → {lin.OutFeatures}.", nameof(replacement));
        if (slot.Module is not ILinear && slot.Module.GetType() == replacement.GetType() && slot.Module.OwnShapes() != replacement.OwnShapes())
            throw new ArgumentException($"Module.ReplaceModule: '{path}' expects a {slot.Module.GetType().Name} with {slot.Module.OwnShapes()}, " +
                $"given one with {replacement.OwnShapes()}.", nameof(replacement));
        var previous = slot.Module;
        replacement.Train(previous.Training);
        slot.Module = replacement;
        return previous;
    }

    // "weight (16,), bias (16,)": the module's own parameters (a norm or an embedding of another width differs here).
    private string OwnShapes() => _parameters.Count == 0 ? "no parameters" : string.Join(", ", _parameters.Select(p => $"{p.Name} {p.Tensor.ShapeString}"));

    private ArgumentException NotFoundFrom(string op, string path)
    {
        Module m = this;
        string walked = "";
        foreach (var part in path.Split('.'))
        {
            var slot = m._modules.FirstOrDefault(s => s.Name == part);
            if (slot is null) break;
            m = slot.Module;
            walked = walked.Length == 0 ? part : walked + "." + part;
        }
        return NotFound(op, path, walked, m);
    }

    /// <summary>
    /// Replaces every submodule whose dotted path matches <paramref name="pattern"/> (<see cref="Regex.IsMatch(string)"/>: anchor
    /// with ^ and $ for a whole-path match) by <paramref name="factory"/>(path, module); returns the replaced paths in order.
    /// The submodules of a replaced module are not visited. The root ("") is never matched.
    /// </summary>
    public IReadOnlyList<string> ReplaceModules(Regex pattern, Func<string, Module, Module> factory)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        return ReplaceModules((path, _) => pattern.IsMatch(path), factory);
    }

    /// <summary>
    /// Replaces every submodule for which <paramref name="predicate"/>(path, module) holds by <paramref name="factory"/>(path,
    /// module); returns the replaced paths in order. The submodules of a replaced module are not visited; the root is never passed.
    /// </summary>
    public IReadOnlyList<string> ReplaceModules(Func<string, Module, bool> predicate, Func<string, Module, Module> factory)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentNullException.ThrowIfNull(factory);
        var targets = NamedModules().Where(x => x.Name.Length > 0 && predicate(x.Name, x.Module)).ToList();
        var done = new List<string>();
        foreach (var (path, module) in targets)
        {
            if (done.Any(d => path.StartsWith(d + ".", StringComparison.Ordinal))) continue;
            ReplaceModule(path, factory(path, module));
            done.Add(path);
        }
        return done;
    }

    /// <summary>Freezes every parameter of this module and its submodules (<c>RequiresGrad = false</c>, as <c>requires_grad_(False)</c>).</summary>
    public Module Freeze() => SetTrainable(true);

    /// <summary>Makes every parameter of this module and its submodules trainable again.</summary>
    public Module Unfreeze() => SetTrainable(false);

    /// <summary>
    /// Freezes the submodule or the single parameter at <paramref name="path"/> (e.g. <c>h.0</c> or <c>wte.weight</c>).
    /// </summary>
    /// <exception cref="ArgumentException">Nothing has that path.</exception>
    public Module Freeze(string path) => SetTrainable(path, frozen: true);

    /// <summary>Unfreezes the submodule or the single parameter at <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">Nothing has that path.</exception>
    public Module Unfreeze(string path) => SetTrainable(path, frozen: false);

    private Module SetTrainable(bool frozen)
    {
        foreach (var p in Parameters()) p.RequiresGrad = !frozen;
        return this;
    }

    private Module SetTrainable(string path, bool frozen)
    {
        ArgumentNullException.ThrowIfNull(path);
        string op = frozen ? "Freeze" : "Unfreeze";
        foreach (var (n, p) in NamedParameters())
            if (n == path) { p.RequiresGrad = !frozen; return this; }
        Module m;
        try { m = GetSubmodule(path); }
        catch (ArgumentException) { throw NotFoundFrom(op, path); }
        m.SetTrainable(frozen);
        return this;
    }

    /// <summary>Sets training mode here and in every submodule.</summary>
    public virtual Module Train(bool training = true)
    {
        Training = training;
        foreach (var s in _modules) s.Module.Train(training);
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
