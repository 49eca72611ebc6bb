using SharpTransformer.IO;
using SharpTransformer.IO.HuggingFace;

namespace SharpTransformer.Models.Bert;

/// <summary>Builds the right BERT-family model class from a Hugging Face folder (<c>model_type</c> and <c>architectures</c>).</summary>
public static class EncoderModels
{
    /// <summary>
    /// The model for <paramref name="config"/> and the first entry of <paramref name="architectures"/>: *ForPreTraining,
    /// *ForMaskedLM, *ForSequenceClassification, *ForTokenClassification, or the bare encoder (*Model, or no architectures).
    /// </summary>
    public static IEncoderTaskModel Create(BertConfig config, IReadOnlyList<string> architectures, ulong seed = 1337)
    {
        string arch = architectures.Count > 0 ? architectures[0] : "";
        if (arch.EndsWith("ForPreTraining", StringComparison.Ordinal))
            return config.Kind == EncoderKind.Bert
                ? new BertForPreTraining(config, seed)
                : throw new NotSupportedException($"EncoderModels: {arch} needs a BERT configuration, got {config.Kind}.");
        if (arch.EndsWith("ForMaskedLM", StringComparison.Ordinal)) return new BertForMaskedLM(config, seed);
        if (arch.EndsWith("ForSequenceClassification", StringComparison.Ordinal))
            return config.Kind switch
            {
                EncoderKind.DistilBert => new DistilBertForSequenceClassification(config, seed),
                EncoderKind.Roberta => new RobertaForSequenceClassification(config, seed),
                _ => new BertForSequenceClassification(config, seed),
            };
        if (arch.EndsWith("ForTokenClassification", StringComparison.Ordinal)) return new BertForTokenClassification(config, seed);
        if (arch.Length == 0 || arch.EndsWith("Model", StringComparison.Ordinal)) return new Bert(config, seed);
        throw new NotSupportedException($"EncoderModels: architecture '{arch}' is not supported (ForPreTraining, ForMaskedLM, ForSequenceClassification, ForTokenClassification, Model).");
    }

    /// <summary>
    /// Builds the model described by <c>config.json</c> in <paramref name="directory"/> (by its <c>architectures</c>: a bare folder
    /// gives a <see cref="Bert"/>, whose <see cref="IEncoderTaskModel.Encoder"/> is itself), loads its <c>model.safetensors</c> (F32,
    /// F16 or BF16) and returns it in evaluation mode, as Hugging Face's <c>from_pretrained</c> does. Missing pooler weights are
    /// reported to <paramref name="warnings"/> (standard error when null) and the pooler keeps its random initialisation.
    /// </summary>
    public static IEncoderTaskModel FromHuggingFace(string directory, ICollection<string>? warnings = null)
    {
        var folder = PretrainedFolder.Open(directory, "EncoderModels.FromHuggingFace");
        if (!folder.IsEncoder)
            throw new NotSupportedException($"EncoderModels.FromHuggingFace: {folder.ConfigPath} has model_type '{folder.ModelType}', not a BERT-family encoder (bert, distilbert, roberta).");
        var model = Create(BertConfig.FromHuggingFaceJson(folder.Config), folder.Architectures);
        using var weights = folder.OpenWeights("EncoderModels.FromHuggingFace");
        Load(model, weights, weights.Path, false, warnings);
        return model;
    }

    /// <summary>Loads <paramref name="source"/> into <paramref name="model"/> (optionally keeping a head the checkpoint lacks) and sets evaluation mode.</summary>
    internal static void Load(IEncoderTaskModel model, ITensorSource source, string fileName, bool keepMissingHead, ICollection<string>? warnings)
    {
        switch (model)
        {
            case Bert bert:
                bert.LoadHuggingFace(source, fileName, warnings);
                bert.Eval();
                break;
            case EncoderTaskModel task:
                task.LoadHuggingFace(source, fileName, keepMissingHead, warnings);
                task.Eval();
                break;
            default:
                model.LoadHuggingFace(source, fileName);
                break;
        }
    }

    /// <summary>The Hugging Face architecture name of a model (<c>BertForPreTraining</c>, <c>DistilBertForMaskedLM</c>, <c>RobertaModel</c>, ...).</summary>
    public static string ArchitectureOf(IEncoderTaskModel model)
    {
        string family = model.Encoder.Config.Kind switch { EncoderKind.DistilBert => "DistilBert", EncoderKind.Roberta => "Roberta", _ => "Bert" };
        return model switch
        {
            BertForPreTraining => "BertForPreTraining",
            BertForMaskedLM => family + "ForMaskedLM",
            EncoderSequenceClassifier => family + "ForSequenceClassification",
            BertForTokenClassification => family + "ForTokenClassification",
            _ => family + "Model",
        };
    }

    /// <summary>
    /// Writes <c>config.json</c> and <c>model.safetensors</c> (F32, Hugging Face names) into <paramref name="directory"/>, a folder
    /// that <see cref="FromHuggingFace"/> and Hugging Face's <c>from_pretrained</c> can read.
    /// </summary>
    public static void SaveHuggingFace(IEncoderTaskModel model, string directory)
    {
        Directory.CreateDirectory(directory);
        var config = model.Encoder.Config;
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToHuggingFaceJson(ArchitectureOf(model)));
        var writer = new SafeTensorsWriter().Metadata("format", "pt");
        foreach (var (name, (shape, data)) in HfWeights.Export(model.HfBindings())) writer.Add(name, shape, data);
        writer.Save(Path.Combine(directory, "model.safetensors"));
    }

    /// <summary>True when <paramref name="modelType"/> (config.json's <c>model_type</c>) is built by this factory.</summary>
    public static bool Supports(string modelType) => modelType is "bert" or "distilbert" or "roberta" or "xlm-roberta" or "camembert";
}
