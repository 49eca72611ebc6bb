namespace SharpTransformer.Alignment;

/// <summary>The responses generated for held-out records and how many match the expected output exactly.</summary>
/// <param name="Records">The records, in order.</param>
/// <param name="Responses">The generated response of each record (end marker removed).</param>
/// <param name="ExactMatch">Share of responses equal to the record's output (both trimmed of surrounding white space).</param>
public sealed record InstructionEvaluation(IReadOnlyList<InstructionRecord> Records, IReadOnlyList<string> Responses, double ExactMatch)
{
    /// <summary>Whether <paramref name="response"/> equals <paramref name="expected"/> after trimming white space at both ends.</summary>
    public static bool Matches(string response, string expected) =>
        string.Equals(response.Trim(), expected.Trim(), StringComparison.Ordinal);
}
