using SharpTransformer.Data;

namespace SharpTransformer.Cli.Commands.Ner;

/// <summary><c>sharpt ner eval</c>: entity-level F1 (type and both boundaries must match) of a checkpoint.</summary>
internal static class NerEval
{
    public static int Run(Args a)
    {
        string dir = a.Required("checkpoint"), data = a.Required("data");
        a.RejectUnknown();
        var model = NerModel.Load(dir);
        var sentences = Read(data);
        int cut = sentences.Count(s => s.Length > model.Tagger.Config.MaxWords);
        if (cut > 0) Console.Error.WriteLine($"warning: {cut} sentence(s) of {data} are longer than {model.Tagger.Config.MaxWords} words; the rest is tagged O.");
        var m = model.Evaluate(sentences);
        Console.WriteLine($"{data}: {sentences.Count} sentences, {m.GoldCount} entities");
        Console.WriteLine(m.ToString(4));
        Console.WriteLine($"entity-f1: {m.F1:F4}");
        return 0;
    }

    internal static List<ConllSentence> Read(string path)
    {
        if (!File.Exists(path)) throw new CliException($"data file not found: {path}");
        try { return ConllReader.Read(path); }
        catch (DataFormatException e) { throw new CliException(e.Message); }
    }
}
