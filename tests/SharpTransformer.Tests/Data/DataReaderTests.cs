using SharpTransformer.Data;

namespace SharpTransformer.Tests.Data;

/// <summary>Delimited, JSON-lines and CoNLL readers and the text-classification loader, on the shared data and on small malformed files.</summary>
public sealed class DataReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    private static string Sst2(string split) => Path.Combine(TestPaths.Data, "sst2", split + ".tsv");
    private static string Conll(string split) => Path.Combine(TestPaths.Data, "conll2003", split + ".txt");

    [Fact]
    public void Sst2TrainReadsEveryRowWithNamedColumns()
    {
        var reader = new DelimitedReader(Sst2("train"));
        Assert.Equal(DelimitedFormat.Tsv, reader.Format);
        Assert.Equal(["sentence", "label"], reader.Columns);
        var rows = reader.ToList();
        Assert.Equal(60614, rows.Count);
        Assert.Equal(2, rows[0].LineNumber);
        Assert.Equal("when are bears bears and ", rows[0].Column("sentence"));
        Assert.Equal("1", rows[0].Column("label"));
        Assert.Equal(60615, rows[^1].LineNumber);
        Assert.All(rows, r => Assert.True(r.Column("label") is "0" or "1"));
        Assert.Equal(0, reader.SkippedEmptyLines);
    }

    [Fact]
    public void Sst2LoadsAsClassificationDatasetWithTrainLabelsReusedOnDev()
    {
        var train = TextClassificationDataset.Load(Sst2("train"), "sentence", "label");
        Assert.Equal(60614, train.Count);
        Assert.Equal(["0", "1"], train.Labels.Names);
        Assert.Equal(1, train[0].Label);
        Assert.Equal(60614, train.LabelCounts().Sum());
        Assert.True(train.LabelCounts().All(c => c > 20000));
        var dev = TextClassificationDataset.Load(Sst2("dev"), "sentence", "label", labels: train.Labels);
        Assert.Equal(6735, dev.Count);
        Assert.Same(train.Labels, dev.Labels);
    }

    [Fact]
    public void MissingColumnNamesFileLineAndColumnsPresent()
    {
        var ex = Assert.Throws<DataFormatException>(() => TextClassificationDataset.Load(Sst2("dev"), "text", "label"));
        Assert.Contains("dev.tsv:2:", ex.Message);
        Assert.Contains("'text'", ex.Message);
        Assert.Contains("sentence, label", ex.Message);
        Assert.Equal(2, ex.LineNumber);
    }

    [Fact]
    public void CsvQuotesFollowRfc4180()
    {
        var p = Write("q.csv", "id,text,label\n1,\"a, b\",pos\n2,\"say \"\"hi\"\"\",neg\n3,\"two\nlines\",pos\n4,plain \"quote\",neg\n5,,pos\n");
        var rows = new DelimitedReader(p).ToList();
        Assert.Equal(5, rows.Count);
        Assert.Equal("a, b", rows[0].Column("text"));
        Assert.Equal("say \"hi\"", rows[1].Column("text"));
        Assert.Equal("two\nlines", rows[2].Column("text"));
        Assert.Equal(4, rows[2].LineNumber);
        Assert.Equal("pos", rows[2].Column("label"));
        Assert.Equal(6, rows[3].LineNumber);
        Assert.Equal("plain \"quote\"", rows[3].Column("text"));
        Assert.Equal("", rows[4].Column("text"));
        Assert.Equal("5", rows[4][0]);
    }

    [Fact]
    public void TsvKeepsQuotesAsText()
    {
        var p = Write("q.tsv", "sentence\tlabel\n\"quoted\" text\t1\n");
        var row = Assert.Single(new DelimitedReader(p));
        Assert.Equal("\"quoted\" text", row.Column("sentence"));
    }

    [Fact]
    public void WrongFieldCountNamesFileLineAndExpectedColumns()
    {
        var p = Write("bad.tsv", "sentence\tlabel\ngood\t1\nno label here\n");
        var ex = Assert.Throws<DataFormatException>(() => new DelimitedReader(p).ToList());
        Assert.Equal(3, ex.LineNumber);
        Assert.Contains("bad.tsv:3:", ex.Message);
        Assert.Contains("expected 2", ex.Message);
        Assert.Contains("found 1", ex.Message);
        var c = Write("bad.csv", "a,b\n1,2,3\n");
        Assert.Contains("bad.csv:2:", Assert.Throws<DataFormatException>(() => new DelimitedReader(c).ToList()).Message);
    }

    [Fact]
    public void CsvUnterminatedQuoteAndTextAfterQuoteAreErrors()
    {
        var p = Write("open.csv", "a,b\n1,\"never closed\n2,3\n");
        var ex = Assert.Throws<DataFormatException>(() => new DelimitedReader(p).ToList());
        Assert.Equal(2, ex.LineNumber);
        Assert.Contains("never closed", ex.Message);
        var q = Write("after.csv", "a,b\n\"x\"y,2\n");
        Assert.Contains("after.csv:2:", Assert.Throws<DataFormatException>(() => new DelimitedReader(q).ToList()).Message);
    }

    [Fact]
    public void EmptyLinesAreSkippedAndCountedOrRejected()
    {
        var p = Write("gaps.tsv", "sentence\tlabel\na\t1\n\nb\t0\n   \n");
        var warnings = new List<DataWarning>();
        var reader = new DelimitedReader(p, options: new DataReaderOptions { OnWarning = warnings.Add });
        var rows = reader.ToList();
        Assert.Equal(["a", "b"], rows.Select(r => r.Column("sentence")));
        Assert.Equal(4, rows[1].LineNumber);
        Assert.Equal(2, reader.SkippedEmptyLines);
        Assert.Equal([3, 5], warnings.Select(w => w.LineNumber));
        var strict = new DelimitedReader(p, options: new DataReaderOptions { EmptyLines = EmptyLinePolicy.Throw });
        var ex = Assert.Throws<DataFormatException>(() => strict.ToList());
        Assert.Equal(3, ex.LineNumber);
    }

    [Fact]
    public void HeaderProblemsAreReported()
    {
        Assert.Contains("empty", Assert.Throws<DataFormatException>(() => new DelimitedReader(Write("e.csv", ""))).Message);
        Assert.Contains("'a' more than once", Assert.Throws<DataFormatException>(() => new DelimitedReader(Write("d.csv", "a,b,a\n1,2,3\n"))).Message);
        Assert.Throws<ArgumentException>(() => new DelimitedReader(Write("x.txt", "a\n")));
        Assert.Single(new DelimitedReader(Write("x2.txt", "a\n1\n"), DelimitedFormat.Csv));
    }

    [Fact]
    public void JsonLinesReadsNamedFieldsAndReportsBadLines()
    {
        var p = Write("d.jsonl", "{\"text\": \"good film\", \"label\": 1}\n\n{\"text\": \"bad \\\"film\\\"\", \"label\": 0, \"extra\": true}\n");
        var reader = new JsonLinesReader(p);
        var rows = reader.ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal("good film", rows[0].Column("text"));
        Assert.Equal("1", rows[0].Column("label"));
        Assert.Equal(3, rows[1].LineNumber);
        Assert.Equal("bad \"film\"", rows[1].Column("text"));
        Assert.Equal("true", rows[1].Column("extra"));
        Assert.Equal(1, reader.SkippedEmptyLines);
        var miss = Assert.Throws<DataFormatException>(() => rows[0].Column("sentence"));
        Assert.Contains("d.jsonl:1:", miss.Message);
        Assert.Contains("text, label", miss.Message);

        var bad = Write("bad.jsonl", "{\"text\": \"ok\", \"label\": 1}\n{\"text\": \"oops\", label: 1}\n");
        var ex = Assert.Throws<DataFormatException>(() => new JsonLinesReader(bad).ToList());
        Assert.Equal(2, ex.LineNumber);
        Assert.Contains("bad.jsonl:2: invalid JSON", ex.Message);
        var arr = Write("arr.jsonl", "[1, 2]\n");
        Assert.Contains("arr.jsonl:1:", Assert.Throws<DataFormatException>(() => new JsonLinesReader(arr).ToList()).Message);
        var nul = Write("nul.jsonl", "{\"text\": null}\n");
        Assert.Contains("null", Assert.Throws<DataFormatException>(() => new JsonLinesReader(nul).Single().Column("text")).Message);
    }

    [Fact]
    public void LabelOutsideGivenSetNamesFileLineLabelAndAllowed()
    {
        var p = Write("pairs.jsonl",
            "{\"premise\": \"a\", \"hypothesis\": \"b\", \"label\": \"entailment\"}\n" +
            "{\"premise\": \"c\", \"hypothesis\": \"d\", \"label\": \"contradiction\"}\n" +
            "{\"premise\": \"e\", \"hypothesis\": \"f\", \"label\": \"maybe\"}\n");
        var labels = new LabelSet(["entailment", "neutral", "contradiction"]);
        var ex = Assert.Throws<DataFormatException>(() => TextClassificationDataset.Load(p, "premise", "label", "hypothesis", labels));
        Assert.Equal(3, ex.LineNumber);
        Assert.Contains("pairs.jsonl:3:", ex.Message);
        Assert.Contains("'maybe'", ex.Message);
        Assert.Contains("entailment, neutral, contradiction", ex.Message);

        var inferred = TextClassificationDataset.Load(p, "premise", "label", "hypothesis");
        Assert.Equal(["contradiction", "entailment", "maybe"], inferred.Labels.Names);
        Assert.Equal(("c", "d", 0), (inferred[1].Text, inferred[1].TextPair, inferred[1].Label));
        Assert.Equal(2, inferred.Labels.Id("maybe"));
        Assert.Equal("maybe", inferred.Labels[2]);
        Assert.Throws<ArgumentException>(() => new LabelSet(["a", "a"]));
    }

    [Fact]
    public void Conll2003TrainAndDevSentenceCounts()
    {
        var train = ConllReader.Read(Conll("train"));
        Assert.Equal(14041, train.Count);
        Assert.Equal(["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."], train[0].Words);
        Assert.Equal(["B-ORG", "O", "B-MISC", "O", "O", "O", "B-MISC", "O", "O"], train[0].Tags);
        Assert.Equal(1, train[0].LineNumber);
        Assert.Equal(["Peter", "Blackburn"], train[1].Words);
        Assert.Equal(11, train[1].LineNumber);
        Assert.Equal(203621, train.Sum(s => s.Length));
        Assert.All(train, s => Assert.Equal(s.Words.Length, s.Tags.Length));
        var tagSet = train.SelectMany(s => s.Tags).ToHashSet();
        Assert.Equal(9, tagSet.Count);
        Assert.Equal(3250, ConllReader.Read(Conll("dev")).Count);
    }

    [Fact]
    public void ConllSkipsDocstartAndBlankRunsAndRejectsOneColumnLines()
    {
        var p = Write("t.conll", "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n\n\nPeter NNP B-NP B-PER\nBlackburn\tNNP\tI-NP\tI-PER");
        var s = ConllReader.Read(p);
        Assert.Equal(2, s.Count);
        Assert.Equal(["B-ORG", "O"], s[0].Tags);
        Assert.Equal(3, s[0].LineNumber);
        Assert.Equal(["Peter", "Blackburn"], s[1].Words);
        Assert.Equal(["B-PER", "I-PER"], s[1].Tags);

        var bad = Write("bad.conll", "EU NNP B-ORG\nrejects\n");
        var ex = Assert.Throws<DataFormatException>(() => ConllReader.Read(bad));
        Assert.Equal(2, ex.LineNumber);
        Assert.Contains("bad.conll:2:", ex.Message);
        Assert.Contains("one column", ex.Message);
        var ragged = Write("ragged.conll", "EU NNP B-ORG\nrejects O\n");
        Assert.Contains("ragged.conll:2:", Assert.Throws<DataFormatException>(() => ConllReader.Read(ragged)).Message);
    }
}
