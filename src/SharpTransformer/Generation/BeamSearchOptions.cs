namespace SharpTransformer.Generation;

/// <summary>
/// Beam search settings (Hugging Face <c>generate</c>'s <c>num_beams</c>, <c>length_penalty</c>, <c>early_stopping</c>,
/// <c>no_repeat_ngram_size</c>, <c>num_return_sequences</c>; same defaults). The length, stop tokens and cache use come from
/// <see cref="GenerationOptions"/>.
/// </summary>
/// <param name="NumBeams">Beam width: hypotheses kept per input at each step (1 = greedy).</param>
/// <param name="LengthPenalty">
/// A finished hypothesis scores sum(log p) / length^LengthPenalty, the length counting the generated tokens (the stop token
/// included, the prompt or decoder start token not): above 0 favours longer sequences, below 0 shorter ones.
/// </param>
/// <param name="EarlyStopping">When an input stops searching.</param>
/// <param name="NoRepeatNgramSize">No n-gram of this size occurs twice in a sequence (prompt or decoder start included; 0 = off).</param>
/// <param name="NumReturnSequences">Best hypotheses returned per input, at most <paramref name="NumBeams"/>.</param>
public sealed record BeamSearchOptions(
    int NumBeams = 4,
    float LengthPenalty = 1f,
    BeamEarlyStopping EarlyStopping = BeamEarlyStopping.Heuristic,
    int NoRepeatNgramSize = 0,
    int NumReturnSequences = 1)
{
    internal void Validate()
    {
        if (NumBeams < 1)
            throw new ArgumentOutOfRangeException(nameof(NumBeams), NumBeams, $"Beam search: the beam width (NumBeams) must be >= 1, got {NumBeams}.");
        if (NumReturnSequences < 1 || NumReturnSequences > NumBeams)
            throw new ArgumentOutOfRangeException(nameof(NumReturnSequences), NumReturnSequences, $"Beam search: NumReturnSequences must be in [1, NumBeams = {NumBeams}], got {NumReturnSequences}.");
        if (NoRepeatNgramSize < 0)
            throw new ArgumentOutOfRangeException(nameof(NoRepeatNgramSize), NoRepeatNgramSize, $"Beam search: NoRepeatNgramSize must be >= 0, got {NoRepeatNgramSize}.");
        if (!float.IsFinite(LengthPenalty))
            throw new ArgumentOutOfRangeException(nameof(LengthPenalty), LengthPenalty, $"Beam search: LengthPenalty must be finite, got {LengthPenalty}.");
        if (!Enum.IsDefined(EarlyStopping))
            throw new ArgumentOutOfRangeException(nameof(EarlyStopping), EarlyStopping, $"Beam search: unknown EarlyStopping value {(int)EarlyStopping}.");
    }
}
