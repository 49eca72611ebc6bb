using System.CommandLine;
using SharpTransformer.Alignment;
using SharpTransformer.Models;
using SharpTransformer.Tokenizers;
using SharpTransformer.Training;

namespace SharpTransformer.Cli.Commands;

/// <summary>What <c>sharpt dpo</c> and <c>sharpt grpo</c> share: the policy and reference checkpoints, the template, the time budget.</summary>
internal static class AlignmentCommandParts
{
    /// <summary>A policy loaded from a train-lm or sft checkpoint, with what its checkpoints need to be saved again.</summary>
    internal sealed record Loaded(CausalLanguageModel Model, Tokenizer Tokenizer, string Kind, string ConfigJson, string? TokenizerJson, string? TemplateName, string Path);

    public static Option<string> Checkpoint() =>
        CliOptions.ExistingFile("--checkpoint", "the policy: an sft or train-lm checkpoint (file or --out folder)", "checkpoint", orDirectory: true);

    public static Option<string> Reference() =>
        CliOptions.ExistingFile("--reference", "the frozen reference: another checkpoint (default: the policy as loaded)", "reference checkpoint", required: false, orDirectory: true);

    public static Option<string> Template() =>
        CliOptions.Choice("--template", "prompt template (default: the one the sft checkpoint was tuned with, else alpaca)", null, "alpaca", "chat");

    public static Option<double?> MaxMinutes()
    {
        var o = new Option<double?>("--max-minutes") { Description = "time budget of the training (evaluations included)", HelpName = "minutes" };
        o.Validators.Add(r => { if (r.GetValueOrDefault<double?>() is <= 0) r.AddError("--max-minutes must be positive."); });
        return o;
    }

    public static Loaded Load(string path)
    {
        var lm = CheckpointFile.Load(path, LanguageModelCheckpoint.Load);
        var ck = IO.Checkpoint.Load(lm.Path);
        return new Loaded(lm.Model, lm.Tokenizer, ck.ModelKind, ck.ConfigJson, ck.TokenizerJson,
            ck.Metadata.TryGetValue("extra.prompt_template", out var t) ? t : null, lm.Path);
    }

    /// <summary>The reference model: the checkpoint given (same vocabulary required), or null for "the policy as loaded".</summary>
    public static CausalLanguageModel? LoadReference(string? path, Loaded policy)
    {
        if (path is null) return null;
        var reference = Load(path);
        if (reference.Model.VocabSize != policy.Model.VocabSize)
            throw new CliException($"{reference.Path}: the reference's vocabulary has {reference.Model.VocabSize} tokens, the policy's ({policy.Path}) {policy.Model.VocabSize}.");
        return reference.Model;
    }

    public static PromptTemplate TemplateFor(string? option, Loaded policy)
    {
        string name = option ?? policy.TemplateName ?? "alpaca";
        return name switch
        {
            "alpaca" => PromptTemplate.Alpaca,
            "chat" or "chatml" or "llama3" => PromptTemplate.For(PromptTemplateKind.Chat, policy.Tokenizer),
            _ => throw new CliException($"{policy.Path}: unknown prompt template '{name}'; pass --template alpaca or chat."),
        };
    }

    /// <summary>Runs a reader, turning a data error into a one-line error naming the file.</summary>
    public static T Read<T>(string data, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException e)
        {
            throw new CliException($"{data}: {e.Message} (--max-length, --on-empty-response skip)");
        }
    }

    /// <summary>Prints how training ended and the checkpoints left in <paramref name="outDir"/>; true when it was cancelled.</summary>
    public static bool ReportEnd(TrainerResult result, string outDir)
    {
        string best = Path.Combine(outDir, "best.safetensors"), last = Path.Combine(outDir, "last.safetensors");
        string files = $"{(File.Exists(best) ? best + ", " : "")}{last}";
        if (result.Reason == StopReason.Cancelled)
        {
            Console.WriteLine($"Cancelled after {result.Steps} steps; checkpoints: {files}");
            return true;
        }
        Console.WriteLine($"{result.Reason} after {result.Steps} steps in {result.Elapsed.TotalSeconds:F1} s; training loss {result.FinalLoss:F4}");
        Console.WriteLine($"checkpoints: {files}");
        return false;
    }
}
