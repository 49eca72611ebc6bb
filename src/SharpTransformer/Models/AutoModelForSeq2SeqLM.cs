namespace SharpTransformer.Models;

/// <summary>
/// Loads a Hugging Face T5 or BART folder (<c>config.json</c> + <c>model.safetensors</c>) as a <see cref="Seq2SeqLanguageModel"/>
/// with its language-model head, in evaluation mode, like <c>AutoModelForSeq2SeqLM.from_pretrained</c>.
/// </summary>
public static class AutoModelForSeq2SeqLM
{
    /// <summary>The encoder-decoder of the folder.</summary>
    /// <exception cref="FileNotFoundException">config.json or model.safetensors is missing; the message names the path.</exception>
    /// <exception cref="NotSupportedException">model_type, architectures or a config value is not supported; the message names the file and the value.</exception>
    public static Seq2SeqLanguageModel FromPretrained(string directory)
    {
        const string caller = "AutoModelForSeq2SeqLM.FromPretrained";
        return PretrainedFolder.Open(directory, caller).LoadSeq2Seq(caller);
    }
}
