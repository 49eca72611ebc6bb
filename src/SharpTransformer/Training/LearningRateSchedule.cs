namespace SharpTransformer.Training;

/// <summary>Learning rate as a function of the 0-based step.</summary>
public interface ILearningRateSchedule
{
    /// <summary>The learning rate at <paramref name="step"/>.</summary>
    float At(int step);
}

/// <summary>Shape of the decay after warm-up.</summary>
public enum DecayKind
{
    /// <summary>Stay at the peak.</summary>
    Constant,
    /// <summary>Cosine from the peak to the minimum.</summary>
    Cosine,
    /// <summary>Straight line from the peak to the minimum.</summary>
    Linear,
}

/// <summary>
/// Linear warm-up from 0 to <paramref name="Peak"/> over <paramref name="WarmupSteps"/>, then a decay to
/// <paramref name="Minimum"/> at <paramref name="TotalSteps"/> (nanoGPT's schedule with <see cref="DecayKind.Cosine"/>).
/// </summary>
public sealed record WarmupDecaySchedule(float Peak, int WarmupSteps, int TotalSteps, float Minimum = 0f, DecayKind Decay = DecayKind.Cosine)
    : ILearningRateSchedule
{
    /// <inheritdoc/>
    public float At(int step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        if (Decay == DecayKind.Constant) return Peak;
        if (step >= TotalSteps) return Minimum;
        float ratio = (float)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        float coeff = Decay == DecayKind.Cosine ? 0.5f * (1f + MathF.Cos(MathF.PI * ratio)) : 1f - ratio;
        return Minimum + coeff * (Peak - Minimum);
    }
}

/// <summary>A constant learning rate.</summary>
public sealed record ConstantSchedule(float Value) : ILearningRateSchedule
{
    /// <inheritdoc/>
    public float At(int step) => Value;
}
