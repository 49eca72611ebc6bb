namespace SharpTransformer.Alignment;

/// <summary>
/// Reads and tokenizes the prompts of GRPO: a JSON array or JSON lines of objects with the prompt as <c>instruction</c>
/// (+ optional <c>input</c>) or <c>prompt</c>, and the expected answer as <c>answer</c> or <c>output</c> (what the exact-answer
/// reward compares with; other reward functions may ignore it).
/// </summary>
public static class GrpoData
{
    /// <summary>Reads every record of <paramref name="path"/>; the answer is <see cref="InstructionRecord.Output"/> ("" when absent).</summary>
    /// <param name="path">The file.</param>
    /// <param name="requireAnswer">Make a record without a non-empty <c>answer</c> or <c>output</c> an error (the exact-answer reward needs one).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InstructionDataException">Invalid JSON, a record without its prompt, or (with <paramref name="requireAnswer"/>) without an answer; the message names the file, the record and the field.</exception>
    public static IReadOnlyList<InstructionRecord> Read(string path, bool requireAnswer = false) =>
        InstructionData.ReadObjects(path).Select(o =>
        {
            var record = PreferenceData.PromptOf(path, o.Index, o.Line, o.Value);
            if (requireAnswer && record.Output.Length == 0)
                throw new InstructionDataException(path, o.Index, "answer", "missing the answer that the exact-answer reward compares with: give 'answer' or 'output'.", o.Line);
            return record;
        }).ToList();

    /// <summary>
    /// The prompts of <paramref name="records"/> tokenized through the encoder's template, each with its record's output as the
    /// answer (null when empty) and its index (from <paramref name="indexOffset"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">A prompt leaves no room for a completion within the encoder's maximum length; the message names the record.</exception>
    public static IReadOnlyList<GrpoPrompt> Encode(InstructionEncoder encoder, IReadOnlyList<InstructionRecord> records, int indexOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(records);
        var prompts = new List<GrpoPrompt>(records.Count);
        for (int i = 0; i < records.Count; i++)
        {
            var ids = encoder.EncodePrompt(records[i]);
            if (ids.Length >= encoder.MaxLength - 1)
                throw new InvalidDataException($"record {indexOffset + i}: its prompt has {ids.Length} tokens, leaving no room for a completion within {encoder.MaxLength - 1} tokens of context; shorten the record or use a model with a longer context.");
            prompts.Add(new GrpoPrompt(ids, encoder.Template.FormatPrompt(records[i]), records[i].Output.Length > 0 ? records[i].Output : null, indexOffset + i));
        }
        return prompts;
    }
}
