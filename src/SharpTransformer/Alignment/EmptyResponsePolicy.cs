namespace SharpTransformer.Alignment;

/// <summary>What <see cref="InstructionEncoder"/> does with a record whose response truncation leaves empty.</summary>
public enum EmptyResponsePolicy
{
    /// <summary>Throw an <see cref="InvalidDataException"/> naming the record and the lengths.</summary>
    Throw,
    /// <summary>Leave the record out and list it in <see cref="InstructionEncoding.Skipped"/>.</summary>
    Skip,
}
