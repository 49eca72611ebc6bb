using SharpTransformer.IO.HuggingFace;

namespace SharpTransformer.Models.Bert;

/// <summary>Loading rules shared by the BERT-family models: optional family prefixes, old LayerNorm names, skipped buffers.</summary>
internal static class EncoderCheckpoint
{
    private static readonly string[] HeadPrefixes =
        ["cls.", "lm_head.", "vocab_transform.", "vocab_layer_norm.", "vocab_projector.", "classifier.", "pre_classifier.", "qa_outputs."];

    /// <summary>Loads <paramref name="bindings"/> (encoder names without prefix); names may carry one of <paramref name="prefixes"/>.</summary>
    public static void Load(ITensorSource source, IReadOnlyList<HfBinding> bindings, IReadOnlyList<string> prefixes, string fileName,
        Func<string, bool> ignored)
    {
        var renamed = new RenamedTensorSource(source, RenamedTensorSource.LayerNormGammaBeta);
        HfWeights.Load(renamed, bindings, fileName, prefixes, ignored);
    }

    /// <summary>Non-parameter buffers some checkpoints store.</summary>
    public static bool IsBuffer(string name) =>
        name is "embeddings.position_ids" or "embeddings.token_type_ids";

    /// <summary>Tensors of some task head (skipped by models that do not have that head).</summary>
    public static bool IsTaskHead(string name) => HeadPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));

    /// <summary>Bare names present in <paramref name="source"/> once one of <paramref name="prefixes"/> and old LayerNorm names are undone.</summary>
    public static HashSet<string> BareNames(ITensorSource source, IReadOnlyList<string> prefixes)
    {
        var r = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in source.Names)
        {
            string k = RenamedTensorSource.LayerNormGammaBeta(n);
            foreach (var p in prefixes)
                if (k.StartsWith(p, StringComparison.Ordinal)) { k = k[p.Length..]; break; }
            r.Add(k);
        }
        return r;
    }
}
