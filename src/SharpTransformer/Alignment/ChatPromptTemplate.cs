using SharpTransformer.Tokenizers;

namespace SharpTransformer.Alignment;

/// <summary>
/// A chat template with roles: an optional system turn, the user turn (the instruction, then a blank line and the input when
/// there is one), and the assistant turn that holds the response. <see cref="ChatMl"/> (<c>&lt;|im_start|&gt;user\n…&lt;|im_end|&gt;</c>)
/// is the default; <see cref="Llama3"/> is Llama 3's. A tokenizer's Jinja <c>chat_template</c> is not rendered: <see cref="FromTokenizer"/>
/// recognises those two families by their markers and otherwise uses ChatML.
/// </summary>
public sealed class ChatPromptTemplate : PromptTemplate
{
    /// <summary>Creates a chat template.</summary>
    /// <param name="name">The template's name.</param>
    /// <param name="turnStart">Opens a turn; <c>{role}</c> is replaced by system, user or assistant.</param>
    /// <param name="turnEnd">Closes a turn; also the marker that ends a response.</param>
    /// <param name="separator">Text after <paramref name="turnEnd"/> between turns.</param>
    /// <param name="system">A system message, or null for none.</param>
    public ChatPromptTemplate(string name, string turnStart, string turnEnd, string separator, string? system = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(turnEnd);
        ArgumentNullException.ThrowIfNull(turnStart);
        ArgumentNullException.ThrowIfNull(separator);
        Name = name;
        TurnStart = turnStart;
        TurnEnd = turnEnd;
        Separator = separator;
        System = system;
    }

    /// <inheritdoc/>
    public override string Name { get; }
    /// <summary>Opens a turn; <c>{role}</c> is replaced by the role.</summary>
    public string TurnStart { get; }
    /// <summary>Closes a turn and ends a response.</summary>
    public string TurnEnd { get; }
    /// <summary>Text between turns.</summary>
    public string Separator { get; }
    /// <summary>The system message, or null.</summary>
    public string? System { get; }

    /// <summary>This template with a system message.</summary>
    public ChatPromptTemplate WithSystem(string? system) => new(Name, TurnStart, TurnEnd, Separator, system);

    /// <summary>ChatML (Qwen, many fine-tunes): <c>&lt;|im_start|&gt;{role}\n{content}&lt;|im_end|&gt;\n</c>.</summary>
    public static ChatPromptTemplate ChatMl { get; } = new("chatml", "<|im_start|>{role}\n", "<|im_end|>", "\n");

    /// <summary>Llama 3: <c>&lt;|start_header_id|&gt;{role}&lt;|end_header_id|&gt;\n\n{content}&lt;|eot_id|&gt;</c>.</summary>
    public static ChatPromptTemplate Llama3 { get; } = new("llama3", "<|start_header_id|>{role}<|end_header_id|>\n\n", "<|eot_id|>", "");

    /// <summary>
    /// The template that <paramref name="tokenizer"/>'s <see cref="Tokenizer.ChatTemplate"/> uses, when it is ChatML or Llama 3
    /// (recognised by their markers); <see cref="ChatMl"/> when the tokenizer has no chat template or another one.
    /// </summary>
    public static ChatPromptTemplate FromTokenizer(Tokenizer? tokenizer)
    {
        string? jinja = tokenizer?.ChatTemplate;
        if (jinja is null) return ChatMl;
        if (jinja.Contains("<|start_header_id|>", StringComparison.Ordinal)) return Llama3;
        return ChatMl;
    }

    /// <inheritdoc/>
    public override string EndText => TurnEnd;

    /// <inheritdoc/>
    public override string FormatPrompt(InstructionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        string user = record.Input.Length > 0 ? $"{record.Instruction}\n\n{record.Input}" : record.Instruction;
        string system = System is null ? "" : Turn("system", System);
        return system + Turn("user", user) + TurnStart.Replace("{role}", "assistant", StringComparison.Ordinal);
    }

    private string Turn(string role, string content) => TurnStart.Replace("{role}", role, StringComparison.Ordinal) + content + TurnEnd + Separator;
}
