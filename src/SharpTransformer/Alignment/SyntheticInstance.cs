namespace SharpTransformer.Alignment;

/// <summary>One synthetic instruction with its correct answer (<see cref="InstructionRecord.Output"/>) and a wrong one.</summary>
/// <param name="Kind">The task type.</param>
/// <param name="Record">The instruction, its input and the correct output.</param>
/// <param name="Rejected">A plausible wrong answer (never equal to the output), the "rejected" side of a DPO pair.</param>
public sealed record SyntheticInstance(SyntheticTaskKind Kind, InstructionRecord Record, string Rejected);
