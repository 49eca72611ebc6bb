namespace SharpTransformer.Models.Tagging;

/// <summary>Sizes of a <see cref="WordCharTagger"/>.</summary>
/// <param name="Words">Word vocabulary size (lower-cased words; id 0 padding, 1 unknown).</param>
/// <param name="Chars">Character vocabulary size (id 0 padding, 1 unknown).</param>
/// <param name="Tags">Number of tags.</param>
/// <param name="WordDim">Word embedding width.</param>
/// <param name="CharDim">Character embedding width.</param>
/// <param name="CharFilters">Filters of the character convolution (width 3, max-pooled over the word).</param>
/// <param name="CaseDim">Width of the casing-feature embedding.</param>
/// <param name="Dim">Transformer width.</param>
/// <param name="Layers">Transformer layers.</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="Hidden">Feed-forward width.</param>
/// <param name="Dropout">Dropout on features and in the blocks.</param>
/// <param name="UseCrf">Decode with a linear-chain CRF instead of a softmax per word.</param>
/// <param name="MaxWords">Longest sentence in words.</param>
public sealed record WordCharTaggerConfig(int Words, int Chars, int Tags, int WordDim = 100, int CharDim = 30, int CharFilters = 50, int CaseDim = 8,
    int Dim = 128, int Layers = 2, int Heads = 4, int Hidden = 512, float Dropout = 0.2f, bool UseCrf = true, int MaxWords = 256);
