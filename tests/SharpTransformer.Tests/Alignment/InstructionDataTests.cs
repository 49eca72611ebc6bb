using SharpTransformer.Alignment;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Tests.Alignment;

/// <summary>Instruction records: reading JSON and JSON lines, the book's split, templates, and the errors on bad records.</summary>
public sealed class InstructionDataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-instr-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Write(string name, string text)
    {
        string p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    [Fact]
    public void ReadsAJsonArrayAndJsonLinesAlike()
    {
        var a = InstructionData.Read(Write("a.json", """
            [ {"instruction": "Add.", "input": "1 + 2", "output": "3"},
              {"instruction": "Say hi.", "output": "hi"} ]
            """));
        var b = InstructionData.Read(Write("b.jsonl", "{\"instruction\": \"Add.\", \"input\": \"1 + 2\", \"output\": \"3\"}\n\n{\"instruction\": \"Say hi.\", \"input\": null, \"output\": \"hi\"}\n"));
        Assert.Equal([new InstructionRecord("Add.", "1 + 2", "3"), new InstructionRecord("Say hi.", "", "hi")], a);
        Assert.Equal(a, b);
    }

    [Fact]
    public void AMissingFieldNamesTheFileTheRecordAndTheField()
    {
        string p = Write("bad.json", """[ {"instruction": "a", "output": "b"}, {"instruction": "c", "input": "d"} ]""");
        var e = Assert.Throws<InstructionDataException>(() => InstructionData.Read(p));
        Assert.Equal((p, 1, "output"), (e.FileName, e.RecordIndex, e.Field));
        Assert.StartsWith($"{p}: record 1: missing the required field 'output'", e.Message);

        string q = Write("bad.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": 5, \"output\": \"b\"}\n");
        var f = Assert.Throws<InstructionDataException>(() => InstructionData.Read(q));
        Assert.Equal((1, "instruction"), (f.RecordIndex, f.Field));
        Assert.Contains("record 1 (line 2): field 'instruction' is a JSON Number, not a string", f.Message);

        var g = Assert.Throws<InstructionDataException>(() => InstructionData.Read(Write("broken.json", "[ {\"instruction\": ")));
        Assert.Contains("broken.json: invalid JSON", g.Message);
        Assert.Throws<FileNotFoundException>(() => InstructionData.Read(Path.Combine(_dir, "none.json")));
    }

    [Fact]
    public void TheBooksSplitOfTheSharedDataIs935To110To55InFileOrder()
    {
        string path = Path.Combine(TestPaths.Data, "instruct", "instruction-data.json");
        if (!File.Exists(path)) return;   // the shared data is beside the repository, not in it
        var records = InstructionData.Read(path);
        var split = InstructionData.Split(records);
        Assert.Equal((1100, 935, 110, 55), (records.Count, split.Train.Count, split.Test.Count, split.Validation.Count));
        Assert.Equal(records[935], split.Test[0]);
        Assert.Equal(records[1045], split.Validation[0]);
    }

    [Fact]
    public void AlpacaTemplateIsRasbtsFormatInput()
    {
        var withInput = new InstructionRecord("Convert to passive voice.", "The cat ate the fish.", "The fish was eaten by the cat.");
        Assert.Equal("Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
            + "### Instruction:\nConvert to passive voice.\n\n### Input:\nThe cat ate the fish.\n\n### Response:\n", PromptTemplate.Alpaca.FormatPrompt(withInput));
        var noInput = withInput with { Input = "" };
        Assert.Equal("Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
            + "### Instruction:\nConvert to passive voice.", AlpacaTemplate.FormatInput(noInput));
        Assert.EndsWith("The fish was eaten by the cat.<|endoftext|>", PromptTemplate.Alpaca.Format(noInput));
    }

    [Fact]
    public void ChatTemplateHasRolesAndFollowsTheTokenizersFamily()
    {
        var r = new InstructionRecord("Add.", "1 + 2", "3");
        Assert.Equal("<|im_start|>user\nAdd.\n\n1 + 2<|im_end|>\n<|im_start|>assistant\n", PromptTemplate.Chat.FormatPrompt(r));
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nAdd.<|im_end|>\n<|im_start|>assistant\n",
            ChatPromptTemplate.ChatMl.WithSystem("Be brief.").FormatPrompt(r with { Input = "" }));
        Assert.Equal("<|start_header_id|>user<|end_header_id|>\n\nAdd.\n\n1 + 2<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            ChatPromptTemplate.Llama3.FormatPrompt(r));
        Assert.Same(ChatPromptTemplate.ChatMl, PromptTemplate.For(PromptTemplateKind.Chat, CharTokenizer.FromText("abc")));
    }
}
