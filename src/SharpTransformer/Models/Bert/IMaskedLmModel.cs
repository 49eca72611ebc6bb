using SharpTransformer.Data;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>A model that <see cref="Training.MaskedLmTrainer"/> can pretrain: a scalar loss from a masked batch.</summary>
public interface IMaskedLmModel
{
    /// <summary>The vocabulary size V.</summary>
    int VocabSize { get; }

    /// <summary>The training loss of <paramref name="batch"/> (masked-LM cross-entropy, plus next-sentence loss where there is one).</summary>
    Tensor Loss(MaskedLmBatch batch);
}
