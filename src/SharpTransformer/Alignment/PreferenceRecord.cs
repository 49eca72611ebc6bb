namespace SharpTransformer.Alignment;

/// <summary>One preference record: the prompt (as an instruction record) and the chosen and rejected responses to it.</summary>
/// <param name="Prompt">The instruction and input that make the prompt (its output, when the data has one, is not used by DPO).</param>
/// <param name="Chosen">The preferred response.</param>
/// <param name="Rejected">The dispreferred response.</param>
public sealed record PreferenceRecord(InstructionRecord Prompt, string Chosen, string Rejected);
