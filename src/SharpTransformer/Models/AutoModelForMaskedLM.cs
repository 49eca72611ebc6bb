using SharpTransformer.Models.Bert;

namespace SharpTransformer.Models;

/// <summary>
/// Loads a Hugging Face BERT, DistilBERT or RoBERTa folder as a <see cref="BertForMaskedLM"/>, like
/// <c>AutoModelForMaskedLM.from_pretrained</c>: the masked-LM head of a masked-LM or pretraining checkpoint (the
/// next-sentence head is skipped). Evaluation mode.
/// </summary>
public static class AutoModelForMaskedLM
{
    /// <summary>The masked-LM model of the folder; warnings go to <paramref name="warnings"/>, else standard error.</summary>
    /// <exception cref="FileNotFoundException">config.json or model.safetensors is missing; the message names the path.</exception>
    /// <exception cref="NotSupportedException">model_type or architectures is not supported; the message names the file, the value and the supported ones.</exception>
    public static BertForMaskedLM FromPretrained(string directory, ICollection<string>? warnings = null)
    {
        const string caller = "AutoModelForMaskedLM.FromPretrained";
        return (BertForMaskedLM)PretrainedFolder.Open(directory, caller).LoadEncoder(caller, "ForMaskedLM", warnings);
    }
}
