using SharpTransformer.Tokenizers;

namespace SharpTransformer.Alignment;

/// <summary>
/// Tokenizes instruction records through a <see cref="PromptTemplate"/>: the prompt (with the tokenizer's special tokens, and
/// special-token markers of the template read as tokens), then the response, then the end marker (<see cref="EndIds"/>),
/// truncated on the right to <see cref="MaxLength"/> tokens. The prompt and the response are tokenized apart, so the boundary
/// between them is exact. Instruction tuning (SFT), DPO and GRPO share it.
/// </summary>
public sealed class InstructionEncoder
{
    private static readonly EncodeOptions PromptOptions = new() { AllowSpecialTokensInText = true, ComputeOffsets = false };
    private static readonly EncodeOptions ResponseOptions = new() { AddSpecialTokens = false, ComputeOffsets = false };

    /// <summary>Creates the encoder.</summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="template">The prompt template.</param>
    /// <param name="maxLength">Tokens per example at most (prompt, response, end marker). A causal model reads all but the last, so give its context length + 1.</param>
    /// <param name="emptyResponse">What to do when truncation leaves no response token.</param>
    public InstructionEncoder(Tokenizer tokenizer, PromptTemplate template, int maxLength, EmptyResponsePolicy emptyResponse = EmptyResponsePolicy.Throw)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(template);
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "InstructionEncoder: the maximum length must be at least 2 tokens.");
        Tokenizer = tokenizer;
        Template = template;
        MaxLength = maxLength;
        EmptyResponse = emptyResponse;
        EndIds = ResolveEnd(tokenizer, template.EndText);
        if (EndIds.Length == 0) throw new ArgumentException($"InstructionEncoder: the end marker '{template.EndText}' of template '{template.Name}' encodes to no tokens with this tokenizer.", nameof(template));
    }

    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer { get; }
    /// <summary>The prompt template.</summary>
    public PromptTemplate Template { get; }
    /// <summary>Tokens per example at most.</summary>
    public int MaxLength { get; }
    /// <summary>What happens when truncation leaves a response empty.</summary>
    public EmptyResponsePolicy EmptyResponse { get; }

    /// <summary>
    /// The tokens that close a response: the template's end marker as one token when the tokenizer knows it as a token
    /// (<c>&lt;|endoftext|&gt;</c>, <c>&lt;|im_end|&gt;</c>), else the tokenizer's EOS token, else the marker's text tokenized.
    /// </summary>
    public int[] EndIds { get; }

    /// <summary>The prompt's tokens (what generation starts from).</summary>
    public int[] EncodePrompt(InstructionRecord record) =>
        Tokenizer.Encode(Template.FormatPrompt(record), PromptOptions).Ids;

    /// <summary>The response's tokens followed by <see cref="EndIds"/>.</summary>
    public int[] EncodeResponse(string response) =>
        [.. Tokenizer.Encode(Template.FormatResponse(response), ResponseOptions).Ids, .. EndIds];

    /// <summary>
    /// The example for <paramref name="record"/> with <paramref name="response"/> in place of its output (a DPO chosen or
    /// rejected answer, a GRPO completion); null when truncation leaves the response empty under <see cref="EmptyResponsePolicy.Skip"/>.
    /// </summary>
    /// <param name="record">The record (its prompt).</param>
    /// <param name="response">The response text; null: the record's output.</param>
    /// <param name="recordIndex">The record's index, for messages and <see cref="InstructionExample.RecordIndex"/>.</param>
    /// <exception cref="InvalidDataException">Truncation leaves no response token, under <see cref="EmptyResponsePolicy.Throw"/>.</exception>
    public InstructionExample? Encode(InstructionRecord record, string? response = null, int recordIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(record);
        var prompt = EncodePrompt(record);
        var answer = EncodeResponse(response ?? record.Output);
        if (prompt.Length >= MaxLength)
        {
            if (EmptyResponse == EmptyResponsePolicy.Skip) return null;
            throw new InvalidDataException($"record {recordIndex}: its prompt has {prompt.Length} tokens, so truncation to {MaxLength} tokens leaves its response "
                + $"({answer.Length} tokens) empty; raise the maximum length (the model's context), shorten the record, or skip such records.");
        }
        int n = Math.Min(MaxLength, prompt.Length + answer.Length);
        var ids = new int[n];
        prompt.CopyTo(ids, 0);
        answer.AsSpan(0, n - prompt.Length).CopyTo(ids.AsSpan(prompt.Length));
        return new InstructionExample(ids, prompt.Length, recordIndex);
    }

    /// <summary>Encodes every record (indices start at <paramref name="indexOffset"/>), leaving out and listing those skipped.</summary>
    /// <exception cref="InvalidDataException">A response truncated away, under <see cref="EmptyResponsePolicy.Throw"/>.</exception>
    public InstructionEncoding EncodeAll(IReadOnlyList<InstructionRecord> records, int indexOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(records);
        var examples = new List<InstructionExample>(records.Count);
        var skipped = new List<int>();
        for (int i = 0; i < records.Count; i++)
        {
            if (Encode(records[i], null, indexOffset + i) is { } e) examples.Add(e);
            else skipped.Add(indexOffset + i);
        }
        return new InstructionEncoding(examples, skipped);
    }

    /// <summary>Cuts a generated response at the end marker (tokens) and decodes it; also strips the marker's text if it shows.</summary>
    public string DecodeResponse(IReadOnlyList<int> generated)
    {
        ArgumentNullException.ThrowIfNull(generated);
        int cut = IndexOf(generated, EndIds);
        var ids = generated.Take(cut < 0 ? generated.Count : cut).ToArray();
        string text = Tokenizer.Decode(ids);
        int at = text.IndexOf(Template.EndText, StringComparison.Ordinal);
        return at >= 0 ? text[..at] : text;
    }

    /// <summary>The first position of <paramref name="pattern"/> in <paramref name="ids"/>, or -1.</summary>
    internal static int IndexOf(IReadOnlyList<int> ids, int[] pattern)
    {
        for (int i = 0; i + pattern.Length <= ids.Count; i++)
        {
            int k = 0;
            while (k < pattern.Length && ids[i + k] == pattern[k]) k++;
            if (k == pattern.Length) return i;
        }
        return -1;
    }

    private static int[] ResolveEnd(Tokenizer tokenizer, string endText)
    {
        if (tokenizer.TokenToId(endText) is { } id && tokenizer.IdToToken(id) == endText) return [id];
        if (tokenizer.EosId is { } eos) return [eos];
        return tokenizer.Encode(endText, ResponseOptions).Ids;
    }
}
