namespace SharpTransformer.Alignment;

/// <summary>
/// Reads and tokenizes preference data for DPO (TRL's preference format, rasbt's <c>instruction-data-with-preference.json</c>):
/// a JSON array or JSON lines of objects with <c>chosen</c> and <c>rejected</c> strings and the prompt either as
/// <c>instruction</c> (+ optional <c>input</c>) or as <c>prompt</c> (read as an instruction without input); the prompt template
/// formats it as for instruction tuning.
/// </summary>
public static class PreferenceData
{
    /// <summary>Reads every record of <paramref name="path"/>, in file order.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InstructionDataException">Invalid JSON, or a record without its prompt, chosen or rejected field; the message names the file, the record and the field.</exception>
    public static IReadOnlyList<PreferenceRecord> Read(string path) =>
        InstructionData.ReadObjects(path).Select(o => new PreferenceRecord(
            PromptOf(path, o.Index, o.Line, o.Value),
            InstructionData.RequiredString(path, o.Index, o.Line, o.Value, "chosen"),
            InstructionData.RequiredString(path, o.Index, o.Line, o.Value, "rejected"))).ToList();

    /// <summary>
    /// The prompt of a record as an instruction record: <c>instruction</c> and <c>input</c>, or <c>prompt</c> as the instruction;
    /// the output is the record's <c>output</c>, else its <c>answer</c>, else "". Shared by the GRPO reader.
    /// </summary>
    /// <exception cref="InstructionDataException">Neither field, or a field that is not a string.</exception>
    public static InstructionRecord PromptOf(string path, int index, int? line, System.Text.Json.JsonElement record)
    {
        string output = InstructionData.OptionalString(path, index, line, record, "output");
        if (output.Length == 0) output = InstructionData.OptionalString(path, index, line, record, "answer");
        if (record.TryGetProperty("instruction", out var i) && i.ValueKind != System.Text.Json.JsonValueKind.Null)
            return new InstructionRecord(InstructionData.RequiredString(path, index, line, record, "instruction"),
                InstructionData.OptionalString(path, index, line, record, "input"), output);
        if (record.TryGetProperty("prompt", out var p) && p.ValueKind != System.Text.Json.JsonValueKind.Null)
            return new InstructionRecord(InstructionData.RequiredString(path, index, line, record, "prompt"), "", output);
        var names = record.EnumerateObject().Select(x => x.Name).ToList();
        throw new InstructionDataException(path, index, "instruction",
            $"missing the prompt: neither 'instruction' nor 'prompt' is there (has: {(names.Count == 0 ? "no fields" : string.Join(", ", names))}).", line);
    }

    /// <summary>
    /// Tokenizes each pair with <paramref name="encoder"/> (prompt through the template, each response with the end marker,
    /// truncated to the encoder's maximum length); a pair either of whose responses truncation leaves empty is skipped under
    /// <see cref="EmptyResponsePolicy.Skip"/> (and listed) or is an error naming its record.
    /// </summary>
    /// <exception cref="InvalidDataException">A response truncated away, under <see cref="EmptyResponsePolicy.Throw"/>.</exception>
    public static (IReadOnlyList<PreferenceExample> Examples, IReadOnlyList<int> Skipped) Encode(InstructionEncoder encoder,
        IReadOnlyList<PreferenceRecord> records, int indexOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(records);
        var examples = new List<PreferenceExample>(records.Count);
        var skipped = new List<int>();
        for (int i = 0; i < records.Count; i++)
        {
            int index = indexOffset + i;
            var r = records[i];
            var chosen = encoder.Encode(r.Prompt, r.Chosen, index);
            var rejected = encoder.Encode(r.Prompt, r.Rejected, index);
            if (chosen is null || rejected is null) { skipped.Add(index); continue; }
            int p = chosen.PromptLength;
            examples.Add(new PreferenceExample(chosen.Ids[..p], chosen.Ids[p..], rejected.Ids[rejected.PromptLength..], index));
        }
        return (examples, skipped);
    }
}
