namespace SharpTransformer.Alignment;

/// <summary>
/// One tokenized instruction example: the prompt's tokens, then the response's, then the end marker (truncated to the
/// encoder's maximum length). Only tokens at or after <see cref="PromptLength"/> are predicted with loss.
/// </summary>
/// <param name="Ids">Prompt, response and end-marker token ids.</param>
/// <param name="PromptLength">How many of <paramref name="Ids"/> are the prompt (masked out of the loss).</param>
/// <param name="RecordIndex">The record it came from (0-based, in the order given to the encoder, plus its offset).</param>
public sealed record InstructionExample(int[] Ids, int PromptLength, int RecordIndex)
{
    /// <summary>Tokens in the example.</summary>
    public int Length => Ids.Length;

    /// <summary>Response tokens (end marker included) that carry loss.</summary>
    public int ResponseLength => Ids.Length - PromptLength;

    /// <summary>
    /// Next-token targets for inputs <c>Ids[..^1]</c>: target t is <c>Ids[t + 1]</c> when that token belongs to the response,
    /// else <paramref name="ignoreIndex"/> (length <see cref="Length"/> - 1).
    /// </summary>
    public int[] Targets(int ignoreIndex = InstructionBatch.IgnoreIndex)
    {
        var y = new int[Math.Max(0, Ids.Length - 1)];
        for (int t = 0; t < y.Length; t++) y[t] = t + 1 >= PromptLength ? Ids[t + 1] : ignoreIndex;
        return y;
    }
}
