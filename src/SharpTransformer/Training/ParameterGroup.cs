using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>Parameters that share optimizer settings.</summary>
/// <param name="Parameters">The tensors.</param>
/// <param name="LearningRateScale">Multiplies the optimizer's learning rate (e.g. 0.1 for a pretrained body).</param>
/// <param name="WeightDecay">Overrides the optimizer's weight decay, or null to use it on matrices (rank ≥ 2) only.</param>
public sealed record ParameterGroup(IReadOnlyList<Tensor> Parameters, float LearningRateScale = 1f, float? WeightDecay = null);
