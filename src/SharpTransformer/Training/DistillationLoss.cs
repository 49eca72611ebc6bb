using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>The distillation loss of one batch and its terms (<see cref="Distillation.Loss"/>).</summary>
/// <param name="Total">The scalar to back-propagate: alpha · soft + (1 − alpha) · hard + weight · hidden.</param>
/// <param name="Soft">T² · KL(teacher ‖ student) at temperature T, mean over the counted positions.</param>
/// <param name="Hard">Cross-entropy with the hard labels.</param>
/// <param name="Hidden">The mean cosine distance of the hidden states, or null when not computed.</param>
public sealed record DistillationLoss(Tensor Total, Tensor Soft, Tensor Hard, Tensor? Hidden);
