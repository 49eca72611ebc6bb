using System.Diagnostics;
using SharpTransformer.Autograd;
using SharpTransformer.Backends;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>
/// The optimisation loop shared by <see cref="LanguageModelTrainer"/> and <see cref="MaskedLmTrainer"/>: AdamW with the warm-up
/// and decay schedule, gradient accumulation and clipping, a stop before any update on a non-finite loss, periodic validation
/// with best-model callbacks and patience, cancellation and progress reports. The trainers supply the batches and the losses.
/// </summary>
internal sealed class TrainingLoop
{
    /// <summary>
    /// Creates the optimizer, the schedule and the sampling generator of <paramref name="model"/> from <paramref name="options"/>;
    /// the model must be a <see cref="Nn.Module"/> (<paramref name="trainer"/> names the trainer in the error otherwise).
    /// </summary>
    public TrainingLoop(object model, TrainerOptions options, string trainer)
    {
        var module = model as Module ?? throw new ArgumentException($"{trainer}: the model must be a Module.", nameof(model));
        Module = module;
        Options = options;
        Optimizer = new AdamW(module.Parameters(), new AdamWOptions(options.LearningRate, options.Beta1, options.Beta2, 1e-8f, options.WeightDecay));
        Schedule = new WarmupDecaySchedule(options.LearningRate, options.WarmupSteps, options.Steps, options.MinLearningRate, options.Decay);
        Sampling = new Generator(options.Seed);
    }

    /// <summary>The model being trained.</summary>
    public Module Module { get; }
    /// <summary>The backend of the model's parameters (batches built on the host go there); null for a model without parameters.</summary>
    public IBackend? Backend => Module.Parameters().FirstOrDefault()?.Backend;
    /// <summary>The settings.</summary>
    public TrainerOptions Options { get; }
    /// <summary>The optimizer.</summary>
    public AdamW Optimizer { get; }
    /// <summary>The learning-rate schedule.</summary>
    public ILearningRateSchedule Schedule { get; }
    /// <summary>The batch-sampling generator.</summary>
    public Generator Sampling { get; }
    /// <summary>Steps done so far.</summary>
    public int Step { get; set; }
    /// <summary>Called after an evaluation that improved the best validation loss.</summary>
    public Action<int, float>? OnBest { get; set; }
    /// <summary>Called after every evaluation with the step and validation loss.</summary>
    public Action<int, float>? OnEvaluation { get; set; }

    /// <summary>
    /// Runs steps until <see cref="Step"/> reaches <paramref name="lastStep"/>, validation stops improving, or cancellation.
    /// </summary>
    /// <param name="lastStep">The step to stop at (at most <see cref="TrainerOptions.Steps"/>).</param>
    /// <param name="microBatch">Draws one micro-batch (inside a tensor scope) and returns its loss and its number of tokens.</param>
    /// <param name="evaluate">The validation loss (the model is in evaluation mode after it); null without validation data.</param>
    /// <param name="nonFiniteNote">Text after "No update was applied" in the error on a non-finite loss (empty or "; ...").</param>
    /// <param name="progress">Receives a report after every step.</param>
    /// <param name="cancellation">Stops the run before the next step.</param>
    public TrainingResult Run(int lastStep, Func<(Tensor Loss, long Tokens)> microBatch, Func<float>? evaluate, string nonFiniteNote,
        IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        var o = Options;
        var sw = Stopwatch.StartNew();
        float best = float.PositiveInfinity, lastVal = float.NaN, lastLoss = float.NaN;
        int badEvals = 0;
        long tokens = 0;
        Module.Train();
        var reason = StopReason.Completed;
        while (Step < lastStep)
        {
            if (cancellation.IsCancellationRequested) { reason = StopReason.Cancelled; break; }
            float lr = Schedule.At(Step);
            Optimizer.LearningRate = lr;
            Optimizer.ZeroGrad();
            float lossSum = 0f;
            for (int micro = 0; micro < o.GradAccumulation; micro++)
            {
                using var scope = TensorScope.Begin();
                var (loss, count) = microBatch();
                float lv = loss.Item();
                if (!float.IsFinite(lv))
                    throw new ArithmeticException($"Training stopped at step {Step}: the loss is {lv}. No update was applied{nonFiniteNote}. Lower the learning rate or check the data.");
                (o.GradAccumulation == 1 ? loss : loss.Mul(1f / o.GradAccumulation)).Backward();
                lossSum += lv;
                tokens += count;
            }
            if (o.GradClip > 0f) GradientClipping.ClipGradNorm(Module.Parameters(), o.GradClip);
            Optimizer.Step();
            Step++;
            lastLoss = lossSum / o.GradAccumulation;
            float? val = null;
            if (evaluate is not null && ((o.EvalInterval > 0 && Step % o.EvalInterval == 0) || Step == o.Steps))
            {
                lastVal = evaluate();
                val = lastVal;
                OnEvaluation?.Invoke(Step, lastVal);
                if (lastVal < best) { best = lastVal; badEvals = 0; OnBest?.Invoke(Step, lastVal); }
                else if (o.Patience > 0 && ++badEvals >= o.Patience) reason = StopReason.EarlyStopped;
                Module.Train();
            }
            progress?.Report(new TrainingProgress(Step, o.Steps, lastLoss, val, lr, sw.Elapsed, tokens / Math.Max(1e-9, sw.Elapsed.TotalSeconds)));
            if (reason == StopReason.EarlyStopped) break;
        }
        return new TrainingResult(Step, lastLoss, lastVal, best, reason, sw.Elapsed);
    }
}
