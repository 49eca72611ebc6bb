using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Alignment;

/// <summary>The instruction-tuning (SFT) loss: next-token cross-entropy averaged over the response tokens of a batch.</summary>
public static class InstructionTuning
{
    /// <summary>
    /// Mean cross-entropy of <paramref name="model"/>'s next-token predictions over the targets of <paramref name="batch"/> that
    /// are not <see cref="InstructionBatch.IgnoreIndex"/> (the responses and their end markers; prompts and padding carry none).
    /// </summary>
    public static Tensor Loss(CausalLanguageModel model, InstructionBatch batch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Length > model.ContextLength)
            throw new ArgumentException($"InstructionTuning.Loss: rows of {batch.Length} tokens exceed the model's context of {model.ContextLength}.", nameof(batch));
        var backend = model.Backend;
        var logits = model.Forward(batch.InputTensor(backend), positions: batch.PositionTensor(backend));   // (B, T, V)
        return Functional.CrossEntropy(logits, batch.TargetTensor(backend), InstructionBatch.IgnoreIndex);
    }
}
