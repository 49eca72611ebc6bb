namespace SharpTransformer.Alignment;

/// <summary>
/// Stanford Alpaca's prompt, as rasbt's chapter 7 <c>format_input</c> writes it: "Below is an instruction that describes a
/// task. Write a response that appropriately completes the request.", then <c>### Instruction:</c>, then <c>### Input:</c>
/// only when the input is not empty, then <c>### Response:</c>; the response ends with <c>&lt;|endoftext|&gt;</c>.
/// </summary>
public sealed class AlpacaTemplate : PromptTemplate
{
    /// <summary>The template.</summary>
    public static AlpacaTemplate Instance { get; } = new();

    private AlpacaTemplate() { }

    /// <inheritdoc/>
    public override string Name => "alpaca";

    /// <inheritdoc/>
    public override string EndText => "<|endoftext|>";

    /// <summary>rasbt's <c>format_input</c>: the preamble, the instruction and the input (when not empty), without the response header.</summary>
    public static string FormatInput(InstructionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        string text = "Below is an instruction that describes a task. Write a response that appropriately completes the request."
            + $"\n\n### Instruction:\n{record.Instruction}";
        return record.Input.Length > 0 ? text + $"\n\n### Input:\n{record.Input}" : text;
    }

    /// <inheritdoc/>
    public override string FormatPrompt(InstructionRecord record) => FormatInput(record) + "\n\n### Response:\n";
}
