namespace SharpTransformer.Nn;

/// <summary>An indexed list of submodules named 0, 1, 2, ... (as nn.ModuleList).</summary>
public sealed class ModuleList<T> : Module where T : Module
{
    private readonly List<T> _items = new();

    /// <summary>Creates the list.</summary>
    public ModuleList(IEnumerable<T> items)
    {
        foreach (var m in items) _items.Add(RegisterModule(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), m));
    }

    /// <summary>Number of modules.</summary>
    public int Count => _items.Count;

    /// <summary>The i-th module.</summary>
    public T this[int i] => _items[i];

    /// <summary>The modules in order.</summary>
    public IReadOnlyList<T> Items => _items;
}
