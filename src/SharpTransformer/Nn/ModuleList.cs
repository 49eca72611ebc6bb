namespace SharpTransformer.Nn;

/// <summary>
/// An indexed list of submodules named 0, 1, 2, ... (as nn.ModuleList). Items are read from the registry, so
/// <c>ReplaceModule("h.3", block)</c> changes what <c>list[3]</c> returns.
/// </summary>
public sealed class ModuleList<T> : Module where T : class
{
    /// <summary>Creates the list.</summary>
    public ModuleList(IEnumerable<T> items)
    {
        foreach (var m in items) RegisterModule(ChildCount.ToString(System.Globalization.CultureInfo.InvariantCulture), m);
    }

    /// <summary>Number of modules.</summary>
    public int Count => ChildCount;

    /// <summary>The i-th module.</summary>
    public T this[int i] => (T)(object)ChildAt(i);

    /// <summary>The modules in order (a snapshot).</summary>
    public IReadOnlyList<T> Items => Enumerable.Range(0, Count).Select(i => this[i]).ToList();
}
