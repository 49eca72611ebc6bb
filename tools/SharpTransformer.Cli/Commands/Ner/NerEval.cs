using System.CommandLine;
using SharpTransformer.Data;
using SharpTransformer.Models.Tagging;

namespace SharpTransformer.Cli.Commands.Ner;

/// <summary><c>sharpt ner eval</c>: entity-level F1 (type and both boundaries must match) of a checkpoint.</summary>
internal static class NerEval
{
    public static Command Create()
    {
        var checkpoint = NerCommand.CheckpointOption();
        var dataOption = CliOptions.ExistingFile("--data", "CoNLL file (word ... tag per line, blank lines between sentences)", "data file");
        var backendOption = CliBackend.CreateOption();
        var command = new Command("eval", "entity-level precision, recall and F1 of a checkpoint; prints entity-f1 last") { checkpoint, dataOption, backendOption };
        SharptCli.SetAction(command, (r, _) => Run(r.GetValue(checkpoint)!, r.GetValue(dataOption)!, r.GetValue(backendOption)!));
        return command;
    }

    private static int Run(string dir, string data, string backendName)
    {
        using var backend = CliBackend.Create(backendName);
        var model = CheckpointFile.Load(dir, TaggerCheckpoint.Load);
        backend.Place(model.Tagger);
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
