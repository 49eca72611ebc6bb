namespace SharpTransformer.Generation;

/// <summary>
/// When beam search stops for an input (Hugging Face's <c>early_stopping</c>); in every mode an input needs
/// <see cref="BeamSearchOptions.NumBeams"/> finished hypotheses first.
/// </summary>
public enum BeamEarlyStopping
{
    /// <summary>
    /// Hugging Face's <c>early_stopping=False</c> (its default): stop when the best running candidate, scored at the current
    /// length, cannot beat the worst finished hypothesis.
    /// </summary>
    Heuristic,

    /// <summary>Hugging Face's <c>early_stopping=True</c>: stop as soon as there are enough finished hypotheses.</summary>
    Immediate,

    /// <summary>
    /// Hugging Face's <c>early_stopping="never"</c>: stop only when no running candidate can beat the worst finished hypothesis
    /// at the best length it could still reach (the maximum length when the length penalty is positive).
    /// </summary>
    Never,
}
