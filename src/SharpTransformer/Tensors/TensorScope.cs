using SharpTransformer.Backends;

namespace SharpTransformer.Tensors;

/// <summary>
/// Returns the memory of every tensor created inside the scope to its backend's pool when the scope ends, so a training
/// loop reuses the same buffers step after step. Tensors that must outlive the scope are passed to <see cref="Keep"/>.
/// Using a tensor whose memory went back throws <see cref="ObjectDisposedException"/>. Scopes nest; they are per thread.
/// Without a scope, tensors are ordinary garbage-collected objects.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;
    private readonly TensorScope? _parent;
    private readonly bool _suspended;
    private List<IStorage>? _owned = new();
    private HashSet<IStorage>? _kept;

    private TensorScope(bool suspended)
    {
        _parent = _current;
        _suspended = suspended;
        _current = this;
    }

    /// <summary>Starts a scope on this thread.</summary>
    public static TensorScope Begin() => new(false);

    /// <summary>
    /// Suspends scoping until disposed: tensors created meanwhile are not owned by any scope (parameters, optimizer state).
    /// </summary>
    public static TensorScope Suspend() => new(true);

    internal static void Track(IStorage s)
    {
        var c = _current;
        if (c is not null && !c._suspended) c._owned!.Add(s);
    }

    // Takes a storage out of every enclosing scope on this thread: it outlives them all (a module's parameter).
    internal static void Untrack(IStorage s)
    {
        for (var c = _current; c is not null; c = c._parent)
        {
            var owned = c._owned;
            if (owned is null || c._suspended) continue;
            int i = owned.LastIndexOf(s);
            if (i >= 0) owned.RemoveAt(i);
            c._kept?.Remove(s);
        }
    }

    /// <summary>Keeps a tensor's memory alive past this scope (it moves to the enclosing scope, if any).</summary>
    public Tensor Keep(Tensor tensor)
    {
        (_kept ??= new HashSet<IStorage>(ReferenceEqualityComparer.Instance)).Add(tensor.Storage);
        return tensor;
    }

    /// <summary>Releases every tensor created in the scope except the kept ones.</summary>
    public void Dispose()
    {
        if (_owned is null) return;
        if (!ReferenceEquals(_current, this))
            throw new InvalidOperationException("TensorScope: scopes must be disposed in reverse order of creation.");
        _current = _parent;
        var owned = _owned;
        _owned = null;
        if (_suspended) return;
        foreach (var s in owned)
        {
            if (_kept is not null && _kept.Contains(s))
            {
                if (_parent is not null && !_parent._suspended) _parent._owned!.Add(s);
                continue;
            }
            s.Dispose();
        }
    }
}
