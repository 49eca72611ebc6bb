namespace SharpTransformer.IO.HuggingFace;

/// <summary>
/// A view of an <see cref="ITensorSource"/> under other names, e.g. to read old TensorFlow-era BERT checkpoints whose
/// LayerNorm parameters are called <c>gamma</c> and <c>beta</c>. Two stored names that map to one name are an error.
/// </summary>
public sealed class RenamedTensorSource : ITensorSource
{
    private readonly ITensorSource _inner;
    private readonly Dictionary<string, string> _toStored = new(StringComparer.Ordinal);

    /// <summary>Wraps <paramref name="inner"/>, presenting each stored name n as <paramref name="rename"/>(n).</summary>
    public RenamedTensorSource(ITensorSource inner, Func<string, string> rename)
    {
        _inner = inner;
        foreach (var n in inner.Names)
        {
            var shown = rename(n);
            if (!_toStored.TryAdd(shown, n))
                throw new InvalidDataException($"Checkpoint names '{_toStored[shown]}' and '{n}' both stand for '{shown}'.");
        }
    }

    /// <summary>Renames the old LayerNorm names <c>.gamma</c> and <c>.beta</c> to <c>.weight</c> and <c>.bias</c>.</summary>
    public static string LayerNormGammaBeta(string name) =>
        name.EndsWith(".gamma", StringComparison.Ordinal) ? name[..^".gamma".Length] + ".weight"
        : name.EndsWith(".beta", StringComparison.Ordinal) ? name[..^".beta".Length] + ".bias"
        : name;

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Names => _toStored.Keys;
    /// <inheritdoc/>
    public int[] ShapeOf(string name) => _inner.ShapeOf(_toStored[name]);
    /// <inheritdoc/>
    public float[] ReadFloats(string name) => _inner.ReadFloats(_toStored[name]);
}
