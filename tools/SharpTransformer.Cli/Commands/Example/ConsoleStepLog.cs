using SharpTransformer.Training;

namespace SharpTransformer.Cli.Commands.Example;

/// <summary>Prints the loss every <c>every</c> steps and at the end of a run, one plain line each (no progress bar, so logs stay readable).</summary>
internal sealed class ConsoleStepLog(string stage, int every) : ITrainerCallback
{
    private double _sum;
    private int _count;

    public void OnStepEnd(TrainerState state, StepRecord step)
    {
        _sum += step.Loss;
        _count++;
        if (step.Step % every != 0) return;
        Console.WriteLine($"  [{stage}] step {step.Step}/{state.TotalSteps} loss {_sum / _count:F4} lr {step.LearningRate:G3} {step.Elapsed.TotalSeconds:F0} s");
        _sum = 0;
        _count = 0;
    }
}
