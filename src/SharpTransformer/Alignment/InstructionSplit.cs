namespace SharpTransformer.Alignment;

/// <summary>A split of instruction records into training, test and validation parts (in file order, as rasbt's chapter 7).</summary>
/// <param name="Train">The training records.</param>
/// <param name="Test">The held-out test records.</param>
/// <param name="Validation">The validation records.</param>
public sealed record InstructionSplit(IReadOnlyList<InstructionRecord> Train, IReadOnlyList<InstructionRecord> Test, IReadOnlyList<InstructionRecord> Validation);
