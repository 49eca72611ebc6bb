using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>
/// An encoder with (or without) a task head, as built from a Hugging Face folder by <see cref="EncoderModels"/>: its outputs
/// under Hugging Face's names, and its checkpoint bindings.
/// </summary>
public interface IEncoderTaskModel
{
    /// <summary>The encoder.</summary>
    Bert Encoder { get; }

    /// <summary>
    /// Runs the model. Keys: <c>last_hidden_state</c> (B, T, C) always; <c>pooler_output</c> (B, C) with a pooler;
    /// <c>mlm_logits</c> (B, T, V), <c>nsp_logits</c> (B, 2) or <c>logits</c> (B, labels) from the head.
    /// </summary>
    IReadOnlyDictionary<string, Tensor> Outputs(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null);

    /// <summary>Every tensor of the model under its Hugging Face name (the names <c>save_pretrained</c> writes).</summary>
    IReadOnlyList<HfBinding> HfBindings();

    /// <summary>Loads a Hugging Face checkpoint, reporting every missing, unexpected or mis-shaped tensor together.</summary>
    void LoadHuggingFace(ITensorSource source, string fileName = "model.safetensors");
}
