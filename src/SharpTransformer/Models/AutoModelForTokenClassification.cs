using SharpTransformer.Models.Bert;

namespace SharpTransformer.Models;

/// <summary>
/// Loads a Hugging Face BERT, DistilBERT or RoBERTa folder as a <see cref="BertForTokenClassification"/> (per-token
/// <c>classifier.weight</c>/<c>classifier.bias</c>), like <c>AutoModelForTokenClassification.from_pretrained</c>: a base or
/// masked-LM checkpoint gets a new, randomly initialised head (reported as a warning). Evaluation mode.
/// </summary>
public static class AutoModelForTokenClassification
{
    /// <summary>The token classifier of the folder; warnings go to <paramref name="warnings"/>, else standard error.</summary>
    /// <exception cref="FileNotFoundException">config.json or model.safetensors is missing; the message names the path.</exception>
    /// <exception cref="NotSupportedException">model_type or architectures is not supported; the message names the file, the value and the supported ones.</exception>
    public static BertForTokenClassification FromPretrained(string directory, ICollection<string>? warnings = null)
    {
        const string caller = "AutoModelForTokenClassification.FromPretrained";
        return (BertForTokenClassification)PretrainedFolder.Open(directory, caller).LoadEncoder(caller, "ForTokenClassification", warnings);
    }
}
