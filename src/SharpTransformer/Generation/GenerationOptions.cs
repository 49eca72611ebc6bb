namespace SharpTransformer.Generation;

/// <summary>How to pick new tokens (defaults as Hugging Face's <c>generate</c> with sampling on).</summary>
/// <param name="MaxNewTokens">Tokens to add at most.</param>
/// <param name="Greedy">Always take the most likely token (ignores temperature, top-k and top-p).</param>
/// <param name="Temperature">Divides the logits; lower is more conservative. Must be positive.</param>
/// <param name="TopK">Keep only the k most likely tokens (0 = all).</param>
/// <param name="TopP">Keep the smallest set of tokens whose probability reaches p (1 = all).</param>
/// <param name="RepetitionPenalty">Divides positive (multiplies negative) logits of tokens already present (1 = off), as CTRL.</param>
/// <param name="Seed">Seed of the sampling generator.</param>
/// <param name="StopTokens">Generation ends after one of these tokens (it is included in the output).</param>
/// <param name="UseCache">Reuse keys and values of past positions (KV cache).</param>
/// <param name="TruncatePrompt">Keep only the last tokens of a prompt longer than the context window instead of throwing.</param>
public sealed record GenerationOptions(
    int MaxNewTokens = 100,
    bool Greedy = false,
    float Temperature = 1f,
    int TopK = 0,
    float TopP = 1f,
    float RepetitionPenalty = 1f,
    ulong Seed = 0,
    IReadOnlyList<int>? StopTokens = null,
    bool UseCache = true,
    bool TruncatePrompt = false)
{
    internal void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, "Generation: MaxNewTokens must be >= 0.");
        if (!(Temperature > 0f)) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Generation: temperature must be > 0 (use Greedy for argmax).");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "Generation: TopK must be >= 0.");
        if (!(TopP > 0f && TopP <= 1f)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "Generation: TopP must be in (0, 1].");
        if (!(RepetitionPenalty > 0f)) throw new ArgumentOutOfRangeException(nameof(RepetitionPenalty), RepetitionPenalty, "Generation: repetition penalty must be > 0.");
    }
}
