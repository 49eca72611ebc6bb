namespace SharpTransformer.Data;

/// <summary>How <see cref="MaskedLmCollator"/> corrupts its inputs (BERT's recipe by default).</summary>
/// <param name="SelectProbability">Chance that a token (or a whole word) is selected for prediction.</param>
/// <param name="MaskFraction">Of the selected tokens, the fraction replaced by the mask token.</param>
/// <param name="RandomFraction">Of the selected tokens, the fraction replaced by a random non-special token; the rest stay unchanged.</param>
/// <param name="WholeWordMasking">Select whole words: every piece of a word is selected together.</param>
public sealed record MaskingOptions(float SelectProbability = 0.15f, float MaskFraction = 0.8f, float RandomFraction = 0.1f,
    bool WholeWordMasking = false);
