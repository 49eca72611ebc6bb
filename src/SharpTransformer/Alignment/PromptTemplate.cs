using SharpTransformer.Tokenizers;

namespace SharpTransformer.Alignment;

/// <summary>
/// Turns an instruction record into the text a causal language model reads: the prompt (everything before the response,
/// ending where the model starts to answer) and the response, closed by an end marker. Instruction tuning puts the loss on the
/// response and its end marker only; preference training (DPO) and GRPO score responses after the same prompt.
/// Derive from it for a template of your own.
/// </summary>
public abstract class PromptTemplate
{
    /// <summary>The template's name (for logs and checkpoints).</summary>
    public abstract string Name { get; }

    /// <summary>The prompt: the text up to where the response begins (for Alpaca, through <c>"### Response:\n"</c>).</summary>
    public abstract string FormatPrompt(InstructionRecord record);

    /// <summary>The text of a response as it follows the prompt (the output itself for the built-in templates).</summary>
    public virtual string FormatResponse(string response) => response;

    /// <summary>
    /// The marker that closes a response. <see cref="InstructionEncoder"/> appends it as one token when the tokenizer has it
    /// as a token (GPT-2's <c>&lt;|endoftext|&gt;</c>, ChatML's <c>&lt;|im_end|&gt;</c>), else the tokenizer's EOS token,
    /// else the marker's text; generation stops there.
    /// </summary>
    public abstract string EndText { get; }

    /// <summary>The whole training text of a record: prompt, response and end marker.</summary>
    public string Format(InstructionRecord record) => FormatPrompt(record) + FormatResponse(record.Output) + EndText;

    /// <summary>Alpaca's template (<see cref="AlpacaTemplate"/>).</summary>
    public static PromptTemplate Alpaca => AlpacaTemplate.Instance;

    /// <summary>The default chat template with roles: ChatML (<see cref="ChatPromptTemplate.ChatMl"/>).</summary>
    public static PromptTemplate Chat => ChatPromptTemplate.ChatMl;

    /// <summary>
    /// The built-in template of <paramref name="kind"/>; for <see cref="PromptTemplateKind.Chat"/>, the one the tokenizer's
    /// <see cref="Tokenizer.ChatTemplate"/> describes when it is recognised (<see cref="ChatPromptTemplate.FromTokenizer"/>).
    /// </summary>
    public static PromptTemplate For(PromptTemplateKind kind, Tokenizer? tokenizer = null) => kind switch
    {
        PromptTemplateKind.Alpaca => Alpaca,
        PromptTemplateKind.Chat => ChatPromptTemplate.FromTokenizer(tokenizer),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "PromptTemplate.For: unknown template kind."),
    };
}
