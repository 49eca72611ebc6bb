using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>Updates parameters from their gradients.</summary>
public interface IOptimizer
{
    /// <summary>Base learning rate (schedules set it every step).</summary>
    float LearningRate { get; set; }
    /// <summary>Number of steps taken.</summary>
    int StepCount { get; }
    /// <summary>The optimised parameters in order: those that required gradients when the optimizer was made (frozen ones are left out).</summary>
    IReadOnlyList<Tensor> Parameters { get; }
    /// <summary>Applies one update from the current gradients.</summary>
    void Step();
    /// <summary>Zeroes every parameter's gradient.</summary>
    void ZeroGrad();
    /// <summary>
    /// A host copy of the state (as PyTorch's <c>optimizer.state_dict()</c>): the step count and, for each parameter that has state
    /// yet, its named buffers. Parameters without state (no step yet, or frozen) are absent.
    /// </summary>
    OptimizerState StateDict();
    /// <summary>
    /// Replaces the state with <paramref name="state"/> (from <see cref="StateDict"/> of an optimizer of the same kind); buffers
    /// go to their parameter's backend. Parameters absent from it start without state.
    /// </summary>
    void LoadStateDict(OptimizerState state);
}
