namespace SharpTransformer.Alignment;

/// <summary>The examples of <see cref="InstructionEncoder.EncodeAll"/> and the records left out.</summary>
/// <param name="Examples">The tokenized examples, in record order.</param>
/// <param name="Skipped">Records whose response truncation left empty (under <see cref="EmptyResponsePolicy.Skip"/>), by index.</param>
public sealed record InstructionEncoding(IReadOnlyList<InstructionExample> Examples, IReadOnlyList<int> Skipped);
