using SharpTransformer.Models.Bert;

namespace SharpTransformer.Models;

/// <summary>
/// Loads a Hugging Face BERT, DistilBERT or RoBERTa folder as the family's sequence classifier
/// (<see cref="BertForSequenceClassification"/>, <see cref="DistilBertForSequenceClassification"/>,
/// <see cref="RobertaForSequenceClassification"/>), like <c>AutoModelForSequenceClassification.from_pretrained</c>: from a
/// classifier checkpoint with its trained head, or from a base or masked-LM checkpoint with a new, randomly initialised head
/// (reported as a warning). Labels: <c>num_labels</c> or <c>id2label</c> of config.json. Evaluation mode.
/// </summary>
public static class AutoModelForSequenceClassification
{
    /// <summary>The classifier of the folder; warnings go to <paramref name="warnings"/>, else standard error.</summary>
    /// <exception cref="FileNotFoundException">config.json or model.safetensors is missing; the message names the path.</exception>
    /// <exception cref="NotSupportedException">model_type or architectures is not supported; the message names the file, the value and the supported ones.</exception>
    public static EncoderSequenceClassifier FromPretrained(string directory, ICollection<string>? warnings = null)
    {
        const string caller = "AutoModelForSequenceClassification.FromPretrained";
        return (EncoderSequenceClassifier)PretrainedFolder.Open(directory, caller).LoadEncoder(caller, "ForSequenceClassification", warnings);
    }
}
