namespace SharpTransformer.Training;

/// <summary>
/// The weights of knowledge distillation (Hinton et al., 2015; DistilBERT): loss = <see cref="Alpha"/> · T² · KL(softmax(teacher/T)
/// ‖ softmax(student/T)) + (1 − <see cref="Alpha"/>) · CE(student, hard labels) + <see cref="HiddenLossWeight"/> · mean(1 − cos(student
/// hidden, teacher hidden)).
/// </summary>
/// <param name="Temperature">T &gt; 0: the softening of both distributions; the KL term is scaled by T² so its gradients keep their size.</param>
/// <param name="Alpha">Weight of the soft-target term in [0, 1]; the hard-label cross-entropy gets 1 − alpha.</param>
/// <param name="HiddenLossWeight">Weight (≥ 0) of DistilBERT's cosine loss between hidden states; 0 turns it off.</param>
/// <param name="IgnoreIndex">Label of positions that count in no term (padding, prompt tokens), as the cross-entropy's.</param>
public sealed record DistillationOptions(float Temperature = 2f, float Alpha = 0.5f, float HiddenLossWeight = 0f, int IgnoreIndex = -100)
{
    /// <summary>Throws naming the bad field when a setting is out of range.</summary>
    public void Validate()
    {
        if (!(Temperature > 0f) || !float.IsFinite(Temperature)) throw new ArgumentException($"DistillationOptions: Temperature must be positive and finite, got {Temperature}.", nameof(Temperature));
        if (!(Alpha >= 0f && Alpha <= 1f)) throw new ArgumentException($"DistillationOptions: Alpha must be in [0, 1], got {Alpha}.", nameof(Alpha));
        if (!(HiddenLossWeight >= 0f) || !float.IsFinite(HiddenLossWeight)) throw new ArgumentException($"DistillationOptions: HiddenLossWeight must be finite and ≥ 0, got {HiddenLossWeight}.", nameof(HiddenLossWeight));
    }
}
