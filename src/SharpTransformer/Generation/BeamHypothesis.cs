namespace SharpTransformer.Generation;

/// <summary>One sequence found by beam search.</summary>
/// <param name="Tokens">The generated tokens (without the prompt or decoder start token; the stop token included when it ended on one).</param>
/// <param name="Score">
/// <paramref name="LogProbability"/> / Tokens.Length^<see cref="BeamSearchOptions.LengthPenalty"/> (Hugging Face's
/// <c>sequences_scores</c>); hypotheses are returned best first by this score.
/// </param>
/// <param name="LogProbability">The model's log-probability of the tokens given the input, summed over the tokens.</param>
public sealed record BeamHypothesis(int[] Tokens, double Score, double LogProbability);
