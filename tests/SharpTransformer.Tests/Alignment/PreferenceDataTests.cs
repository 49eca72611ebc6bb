using SharpTransformer.Alignment;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Tests.Alignment;

/// <summary>PreferenceData and GrpoData: rasbt's preference file, the prompt field, answers, tokenization and truncation.</summary>
public sealed class PreferenceDataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-prefdata-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void ReadsRasbtsPreferenceFile()
    {
        string path = Path.Combine(TestPaths.Data, "instruct", "instruction-data-with-preference.json");
        var records = PreferenceData.Read(path);
        Assert.Equal(1100, records.Count);
        Assert.Equal("Evaluate the following phrase by transforming it into the spelling given.", records[0].Prompt.Instruction);
        Assert.Equal("freind --> friend", records[0].Prompt.Input);
        Assert.StartsWith("The spelling of the given phrase \"freind\" is incorrect", records[0].Chosen);
        Assert.Contains("flat out wrong", records[0].Rejected);
        Assert.Equal(6, records.Count(r => r.Chosen == r.Rejected));   // the file has six pairs with nothing to prefer
    }

    [Fact]
    public void EncodesPromptAndBothResponsesWithTheEndMarkerAndSkipsPairsTruncationEmpties()
    {
        string path = Path.Combine(_dir, "p.jsonl");
        File.WriteAllLines(path, ["{\"prompt\": \"add 1 2\", \"chosen\": \"3\", \"rejected\": \"4\"}", "{\"instruction\": \"sort\", \"input\": \"cba\", \"chosen\": \"abc\", \"rejected\": \"cab\"}"]);
        var records = PreferenceData.Read(path);
        Assert.Equal(new InstructionRecord("add 1 2", "", ""), records[0].Prompt);
        var tok = CharTokenizer.FromText(string.Concat(PromptTemplate.Alpaca.Format(records[1].Prompt), "add 1234<>|ofxt"), addUnknown: false);
        var encoder = new InstructionEncoder(tok, PromptTemplate.Alpaca, 400);
        var (examples, skipped) = PreferenceData.Encode(encoder, records);
        Assert.Empty(skipped);
        Assert.Equal(encoder.EncodePrompt(records[1].Prompt), examples[1].Prompt);
        Assert.Equal(encoder.EncodeResponse("abc"), examples[1].Chosen);
        Assert.Equal(encoder.EncodeResponse("cab"), examples[1].Rejected);
        Assert.Equal(1, examples[1].RecordIndex);
        int promptLength = examples[1].Prompt.Length;
        var tight = new InstructionEncoder(tok, PromptTemplate.Alpaca, promptLength, EmptyResponsePolicy.Skip);
        Assert.Equal([1], PreferenceData.Encode(tight, records).Skipped);
        var strict = new InstructionEncoder(tok, PromptTemplate.Alpaca, promptLength);
        Assert.Contains("record 1", Assert.Throws<InvalidDataException>(() => PreferenceData.Encode(strict, records)).Message);
    }

    [Fact]
    public void GrpoDataTakesTheAnswerOrTheOutputAndNamesARecordWithoutOne()
    {
        string path = Path.Combine(_dir, "g.json");
        File.WriteAllText(path, "[{\"prompt\": \"p\", \"answer\": \"a\"}, {\"instruction\": \"i\", \"input\": \"x\", \"output\": \"o\"}, {\"prompt\": \"q\"}]");
        var records = GrpoData.Read(path);
        Assert.Equal(["a", "o", ""], records.Select(r => r.Output));
        var e = Assert.Throws<InstructionDataException>(() => GrpoData.Read(path, requireAnswer: true));
        Assert.Equal((2, "answer"), (e.RecordIndex, e.Field));
        Assert.StartsWith($"{path}: record 2: ", e.Message);
        var tok = CharTokenizer.FromText(PromptTemplate.Alpaca.Format(records[1]) + "pqa<>|endoftx", addUnknown: false);
        var prompts = GrpoData.Encode(new InstructionEncoder(tok, PromptTemplate.Alpaca, 300), records, indexOffset: 10);
        Assert.Equal([10, 11, 12], prompts.Select(p => p.RecordIndex));
        Assert.Equal(["a", "o", null], prompts.Select(p => p.Answer));
        Assert.Equal(PromptTemplate.Alpaca.FormatPrompt(records[1]), prompts[1].Text);
    }
}
