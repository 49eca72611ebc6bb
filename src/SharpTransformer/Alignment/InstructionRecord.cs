namespace SharpTransformer.Alignment;

/// <summary>
/// One Alpaca-style instruction record (<c>instruction</c>, <c>input</c>, <c>output</c>), as in Stanford Alpaca and rasbt's
/// chapter 7 data. <see cref="Input"/> is empty when the instruction needs no input.
/// </summary>
/// <param name="Instruction">What to do.</param>
/// <param name="Input">The text to do it on, or "".</param>
/// <param name="Output">The expected response (the only tokens that carry loss in instruction tuning).</param>
public sealed record InstructionRecord(string Instruction, string Input, string Output);
