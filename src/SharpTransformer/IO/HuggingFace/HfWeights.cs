using SharpTransformer.Tensors;

namespace SharpTransformer.IO.HuggingFace;

/// <summary>Loads and exports Hugging Face checkpoint tensors through a model's list of <see cref="HfBinding"/>s.</summary>
public static class HfWeights
{
    /// <summary>
    /// Copies every bound tensor from <paramref name="source"/>. Names may carry one of <paramref name="optionalPrefixes"/>;
    /// names in <paramref name="ignored"/> (buffers such as causal masks, or a head tied to the embedding) are accepted and skipped.
    /// Missing tensors, unexpected tensors and shape mismatches are collected and reported together in one exception.
    /// </summary>
    public static void Load(ITensorSource source, IReadOnlyList<HfBinding> bindings, string fileName,
        IReadOnlyList<string>? optionalPrefixes = null, Func<string, bool>? ignored = null)
    {
        var prefixes = optionalPrefixes ?? [];
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var n in source.Names)
        {
            string key = n;
            foreach (var p in prefixes)
                if (n.StartsWith(p, StringComparison.Ordinal)) { key = n[p.Length..]; break; }
            byName[key] = n;
        }
        var missing = new List<string>();
        var mismatched = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var b in bindings)
        {
            if (!byName.TryGetValue(b.HfName, out var stored)) { missing.Add($"{b.HfName} {Layout.Format(b.HfShape)}"); continue; }
            used.Add(b.HfName);
            var shape = source.ShapeOf(stored);
            if (!shape.AsSpan().SequenceEqual(b.HfShape)) mismatched.Add($"{stored}: checkpoint {Layout.Format(shape)}, model expects {Layout.Format(b.HfShape)}");
        }
        var unexpected = byName.Keys.Where(k => !used.Contains(k) && !(ignored?.Invoke(k) ?? false)).Select(k => $"{byName[k]} {Layout.Format(source.ShapeOf(byName[k]))}").ToList();
        if (missing.Count + mismatched.Count + unexpected.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing ({missing.Count}):\n    " + string.Join("\n    ", missing));
            if (unexpected.Count > 0) parts.Add($"unexpected ({unexpected.Count}):\n    " + string.Join("\n    ", unexpected));
            if (mismatched.Count > 0) parts.Add($"shape mismatch ({mismatched.Count}):\n    " + string.Join("\n    ", mismatched));
            throw new InvalidDataException($"Loading {fileName}: the checkpoint does not match the model.\n  " + string.Join("\n  ", parts));
        }
        using var _ = TensorScope.Suspend();
        foreach (var b in bindings)
        {
            var data = source.ReadFloats(byName[b.HfName]);
            var src = Tensor.FromArray(data, b.HfShape).To(b.Target.Backend);
            b.ViewOf(b.Target).CopyFrom(src);
        }
    }

    /// <summary>Values (or gradients with <paramref name="gradients"/>) of every binding in the checkpoint's names and layouts.</summary>
    public static Dictionary<string, (int[] Shape, float[] Data)> Export(IReadOnlyList<HfBinding> bindings, bool gradients = false)
    {
        var r = new Dictionary<string, (int[], float[])>(StringComparer.Ordinal);
        foreach (var b in bindings)
        {
            var t = gradients ? b.Target.Grad ?? Tensor.Zeros(b.Target.Shape, DType.Float32, b.Target.Backend) : b.Target;
            r[b.HfName] = (b.HfShape, b.ViewOf(t).ToArray());
        }
        return r;
    }
}
