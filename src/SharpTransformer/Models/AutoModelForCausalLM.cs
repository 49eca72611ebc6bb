namespace SharpTransformer.Models;

/// <summary>
/// Loads a Hugging Face GPT-2, Llama or Mixtral folder (<c>config.json</c> + <c>model.safetensors</c>, F32, F16 or BF16) as a
/// <see cref="CausalLanguageModel"/> with its language-model head, in evaluation mode, like <c>AutoModelForCausalLM.from_pretrained</c>.
/// </summary>
public static class AutoModelForCausalLM
{
    /// <summary>The language model of the folder.</summary>
    /// <exception cref="FileNotFoundException">config.json or model.safetensors is missing; the message names the path.</exception>
    /// <exception cref="NotSupportedException">model_type or architectures is not a supported causal LM; the message names the file, the value and the supported ones.</exception>
    public static CausalLanguageModel FromPretrained(string directory)
    {
        const string caller = "AutoModelForCausalLM.FromPretrained";
        return PretrainedFolder.Open(directory, caller).LoadCausal(caller);
    }
}
