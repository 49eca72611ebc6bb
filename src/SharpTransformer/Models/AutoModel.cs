using SharpTransformer.Nn;

namespace SharpTransformer.Models;

/// <summary>
/// Loads any supported Hugging Face folder (<c>config.json</c> + <c>model.safetensors</c>) as its base model, by
/// <c>model_type</c>, like Hugging Face's <c>AutoModel.from_pretrained</c>: GPT-2, Llama and Mixtral give their
/// <see cref="CausalLanguageModel"/>; BERT, DistilBERT and RoBERTa give the bare encoder (<see cref="Bert.Bert"/>, an
/// <see cref="EncoderModel"/>) from any of their checkpoints, task heads skipped; T5 and BART give their
/// <see cref="Seq2SeqLanguageModel"/> with its head. The model comes back in evaluation mode.
/// </summary>
public static class AutoModel
{
    /// <summary>The base model of the folder (see the class summary); warnings (missing pooler) go to <paramref name="warnings"/>, else standard error.</summary>
    /// <exception cref="FileNotFoundException">config.json or model.safetensors is missing; the message names the path.</exception>
    /// <exception cref="NotSupportedException">model_type or architectures is not supported; the message names the file, the value and the supported ones.</exception>
    public static Module FromPretrained(string directory, ICollection<string>? warnings = null)
    {
        const string caller = "AutoModel.FromPretrained";
        var folder = PretrainedFolder.Open(directory, caller);
        if (folder.IsSeq2Seq) return folder.LoadSeq2Seq(caller);
        return folder.IsEncoder ? (Module)folder.LoadEncoder(caller, "Model", warnings) : folder.LoadCausal(caller);
    }

    /// <summary>
    /// The base model as <typeparamref name="T"/> (for example <see cref="EncoderModel"/>, <see cref="Bert.Bert"/>,
    /// <see cref="CausalLanguageModel"/>); an error names the folder and both types when the folder holds another kind.
    /// </summary>
    public static T FromPretrained<T>(string directory, ICollection<string>? warnings = null) where T : Module
    {
        var m = FromPretrained(directory, warnings);
        return m as T ?? throw new InvalidCastException($"AutoModel.FromPretrained: '{directory}' holds a {m.GetType().Name}, not a {typeof(T).Name}.");
    }
}
