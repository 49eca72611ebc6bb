namespace SharpTransformer.Training;

/// <summary>Updates parameters from their gradients.</summary>
public interface IOptimizer
{
    /// <summary>Base learning rate (schedules set it every step).</summary>
    float LearningRate { get; set; }
    /// <summary>Number of steps taken.</summary>
    int StepCount { get; }
    /// <summary>Applies one update from the current gradients.</summary>
    void Step();
    /// <summary>Zeroes every parameter's gradient.</summary>
    void ZeroGrad();
}
