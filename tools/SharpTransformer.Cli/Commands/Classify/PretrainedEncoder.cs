using SharpTransformer.IO;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Classification;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Cli.Commands.Classify;

/// <summary>A Hugging Face encoder folder (config.json, model.safetensors, vocab.txt or tokenizer.json) to fine-tune.</summary>
internal static class PretrainedEncoder
{
    public static bool IsFolder(string model) => Directory.Exists(model) && File.Exists(Path.Combine(model, "config.json"));

    /// <summary>The tokenizer of the folder (or <paramref name="vocab"/>) and its snapshot.</summary>
    public static (Tokenizer Tokenizer, string Snapshot) Tokenizer(string dir, string? vocab)
    {
        string? path = vocab ?? new[] { "tokenizer.json", "vocab.txt" }.Select(f => Path.Combine(dir, f)).FirstOrDefault(File.Exists);
        if (path is null || !File.Exists(path)) throw new CliException($"{dir}: no tokenizer.json or vocab.txt; give one with --vocab.");
        bool lower = true;
        string tc = Path.Combine(dir, "tokenizer_config.json");
        if (File.Exists(tc) && HfConfigJson.Load(tc) is var c) lower = c.Bool(true, "do_lower_case");
        return (Tokenizers.Tokenizer.FromFiles(path, null, lower), TokenizerSnapshot.FromFiles(path, null, lower));
    }

    /// <summary>The folder's config.json text and its encoder weights, copied into the classifier's body.</summary>
    public static string ConfigJson(string dir) => File.ReadAllText(Path.Combine(dir, "config.json"));

    public static void LoadInto(TextClassifier model, string dir)
    {
        var pretrained = EncoderModels.FromHuggingFace(dir) as EncoderTaskModel
            ?? throw new CliException($"{dir}: not a BERT-family checkpoint.");
        var body = model.Sequence?.Body ?? throw new CliException("only sequence classifiers load pretrained encoders.");
        body.LoadStateDict(pretrained.Encoder.StateDict());
    }
}
