using SharpTransformer.IO;

namespace SharpTransformer.Cli.Commands.Classify;

/// <summary>Loads a classifier saved by <c>sharpt classify train</c>.</summary>
internal static class ClassifierCheckpoint
{
    public static ClassifierModel Load(string dir)
    {
        string path = Directory.Exists(dir) ? Path.Combine(dir, "model.safetensors") : dir;
        if (!File.Exists(path)) throw new CliException($"checkpoint not found: {path}");
        var ck = CheckpointFile.Read(path);
        if (ck.ModelKind != "classifier") throw new CliException($"{path}: holds a '{ck.ModelKind}' model, not a classifier.");
        var spec = ClassifierSpec.FromJson(ck.ConfigJson);
        var tok = TokenizerSnapshot.Restore(ck.TokenizerJson ?? throw new CliException($"{path}: the checkpoint holds no tokenizer."));
        var model = new ClassifierModel(spec, tok);
        ck.RestoreModel(model.Module);
        model.Module.Eval();
        return model;
    }
}
