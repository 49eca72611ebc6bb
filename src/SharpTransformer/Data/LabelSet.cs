namespace SharpTransformer.Data;

/// <summary>
/// The label names of a classification task and their ids (0 … Count-1), in both directions.
/// </summary>
public sealed class LabelSet
{
    private readonly string[] _names;
    private readonly Dictionary<string, int> _ids;

    /// <summary>A label set with the given names; the id of a name is its position.</summary>
    /// <exception cref="ArgumentException">No names, or a name given twice.</exception>
    public LabelSet(IEnumerable<string> names)
    {
        _names = names.ToArray();
        if (_names.Length == 0) throw new ArgumentException("LabelSet: at least one label is needed.", nameof(names));
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _names.Length; i++)
            if (!_ids.TryAdd(_names[i], i)) throw new ArgumentException($"LabelSet: label '{_names[i]}' is given twice.", nameof(names));
    }

    /// <summary>
    /// The distinct labels of <paramref name="observed"/>, sorted by ordinal string order (as Hugging Face's
    /// <c>run_glue.py</c> does with <c>sorted(set(labels))</c>), so "0", "1" get ids 0, 1.
    /// </summary>
    public static LabelSet Infer(IEnumerable<string> observed) =>
        new(observed.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));

    /// <summary>Number of labels.</summary>
    public int Count => _names.Length;

    /// <summary>The names by id.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>The name of an id.</summary>
    public string this[int id] => id >= 0 && id < _names.Length
        ? _names[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"LabelSet: id {id} is not in [0, {_names.Length}).");

    /// <summary>The id of a name, or false when it is not a label.</summary>
    public bool TryGetId(string name, out int id) => _ids.TryGetValue(name, out id);

    /// <summary>The id of a name.</summary>
    /// <exception cref="KeyNotFoundException">Not a label; the message lists the labels.</exception>
    public int Id(string name) => _ids.TryGetValue(name, out int id)
        ? id
        : throw new KeyNotFoundException($"LabelSet: '{name}' is not a label; the labels are: {this}.");

    /// <summary>The labels, comma-separated, in id order.</summary>
    public override string ToString() => string.Join(", ", _names);
}
