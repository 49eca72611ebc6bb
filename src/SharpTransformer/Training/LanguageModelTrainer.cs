using System.Diagnostics;
using SharpTransformer.Autograd;
using SharpTransformer.Data;
using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>Settings of <see cref="LanguageModelTrainer"/> (nanoGPT's names in comments).</summary>
/// <param name="Steps">Optimizer steps (max_iters).</param>
/// <param name="BatchSize">Windows per micro-batch (batch_size).</param>
/// <param name="LearningRate">Peak learning rate (learning_rate).</param>
/// <param name="MinLearningRate">Learning rate at the end of the decay (min_lr).</param>
/// <param name="WarmupSteps">Linear warm-up steps (warmup_iters).</param>
/// <param name="Decay">Decay shape after warm-up.</param>
/// <param name="WeightDecay">AdamW weight decay on matrices.</param>
/// <param name="Beta1">AdamW beta1.</param>
/// <param name="Beta2">AdamW beta2.</param>
/// <param name="GradClip">Global gradient-norm clip (0 = off).</param>
/// <param name="GradAccumulation">Micro-batches per optimizer step.</param>
/// <param name="EvalInterval">Evaluate every this many steps (0 = only at the end).</param>
/// <param name="EvalBatches">Validation batches per evaluation (eval_iters).</param>
/// <param name="Patience">Stop after this many evaluations without improvement (0 = never).</param>
/// <param name="Seed">Seed of batch sampling.</param>
public sealed record TrainerOptions(
    int Steps = 2000, int BatchSize = 12, float LearningRate = 1e-3f, float MinLearningRate = 1e-4f, int WarmupSteps = 100,
    DecayKind Decay = DecayKind.Cosine, float WeightDecay = 0.1f, float Beta1 = 0.9f, float Beta2 = 0.99f, float GradClip = 1f,
    int GradAccumulation = 1, int EvalInterval = 250, int EvalBatches = 50, int Patience = 0, ulong Seed = 1337);

/// <summary>A progress report of the trainer.</summary>
/// <param name="Step">Steps done.</param>
/// <param name="TotalSteps">Steps planned.</param>
/// <param name="TrainLoss">Loss of the last step.</param>
/// <param name="ValidationLoss">Loss of the last evaluation, if this report follows one.</param>
/// <param name="LearningRate">Current learning rate.</param>
/// <param name="Elapsed">Wall time since the start.</param>
/// <param name="TokensPerSecond">Training throughput.</param>
public sealed record TrainingProgress(int Step, int TotalSteps, float TrainLoss, float? ValidationLoss, float LearningRate, TimeSpan Elapsed, double TokensPerSecond);

/// <summary>Why training ended.</summary>
public enum StopReason
{
    /// <summary>All steps done.</summary>
    Completed,
    /// <summary>Validation stopped improving.</summary>
    EarlyStopped,
    /// <summary>The caller cancelled.</summary>
    Cancelled,
}

/// <summary>The outcome of a run.</summary>
/// <param name="Steps">Steps done.</param>
/// <param name="FinalTrainLoss">Loss of the last step.</param>
/// <param name="FinalValidationLoss">Validation loss at the end (NaN without validation data).</param>
/// <param name="BestValidationLoss">Best validation loss seen.</param>
/// <param name="Reason">Why it ended.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record TrainingResult(int Steps, float FinalTrainLoss, float FinalValidationLoss, float BestValidationLoss, StopReason Reason, TimeSpan Elapsed);

/// <summary>
/// Causal language-model pretraining: random windows (nanoGPT's sampling), AdamW with warm-up and decay, gradient clipping and
/// accumulation, periodic validation, early stopping, best-model callbacks. A non-finite loss stops training with an exception
/// before any update is applied, so the last saved checkpoint stays good.
/// </summary>
public sealed class LanguageModelTrainer
{
    private readonly Module _module;
    private readonly ICausalLanguageModel _model;

    /// <summary>Creates a trainer for a model that is both a <see cref="Module"/> and an <see cref="ICausalLanguageModel"/>.</summary>
    public LanguageModelTrainer(ICausalLanguageModel model, TrainerOptions options)
    {
        _model = model;
        _module = model as Module ?? throw new ArgumentException("LanguageModelTrainer: the model must be a Module.", nameof(model));
        Options = options;
        Optimizer = new AdamW(_module.Parameters(), new AdamWOptions(options.LearningRate, options.Beta1, options.Beta2, 1e-8f, options.WeightDecay));
        Schedule = new WarmupDecaySchedule(options.LearningRate, options.WarmupSteps, options.Steps, options.MinLearningRate, options.Decay);
        Sampling = new Generator(options.Seed);
    }

    /// <summary>The settings.</summary>
    public TrainerOptions Options { get; }
    /// <summary>The optimizer (its state goes into checkpoints).</summary>
    public AdamW Optimizer { get; }
    /// <summary>The learning-rate schedule.</summary>
    public ILearningRateSchedule Schedule { get; }
    /// <summary>The batch-sampling generator (its state goes into checkpoints).</summary>
    public Generator Sampling { get; }
    /// <summary>Steps done so far (continues after a resume).</summary>
    public int Step { get; set; }

    /// <summary>Called after an evaluation that improved the best validation loss (e.g. to save a checkpoint).</summary>
    public Action<int, float>? OnBest { get; set; }

    /// <summary>Called after every evaluation with the step and validation loss (e.g. to save the latest checkpoint).</summary>
    public Action<int, float>? OnEvaluation { get; set; }

    /// <summary>
    /// Runs until <see cref="TrainerOptions.Steps"/> steps are done (or <paramref name="untilStep"/>, to stop early and resume later
    /// on the same schedule), early stopping, or cancellation.
    /// </summary>
    public TrainingResult Train(TokenWindowDataset train, TokenWindowDataset? validation = null, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellation = default, int? untilStep = null)
    {
        var o = Options;
        var sw = Stopwatch.StartNew();
        float best = float.PositiveInfinity, lastVal = float.NaN, lastLoss = float.NaN;
        int badEvals = 0;
        long tokens = 0;
        _module.Train();
        var reason = StopReason.Completed;
        int last = Math.Min(o.Steps, untilStep ?? o.Steps);
        while (Step < last)
        {
            if (cancellation.IsCancellationRequested) { reason = StopReason.Cancelled; break; }
            float lr = Schedule.At(Step);
            Optimizer.LearningRate = lr;
            Optimizer.ZeroGrad();
            float lossSum = 0f;
            for (int micro = 0; micro < o.GradAccumulation; micro++)
            {
                using var scope = TensorScope.Begin();
                var (x, y) = OnModelBackend(train.RandomBatch(o.BatchSize, Sampling));
                var logits = _model.Forward(x);                                       // (B, T, V)
                var loss = Functional.CrossEntropy(logits, y);
                float lv = loss.Item();
                if (!float.IsFinite(lv))
                    throw new ArithmeticException($"Training stopped at step {Step}: the loss is {lv}. No update was applied; the last checkpoint is intact. Lower the learning rate or check the data.");
                (o.GradAccumulation == 1 ? loss : loss.Mul(1f / o.GradAccumulation)).Backward();
                lossSum += lv;
                tokens += (long)o.BatchSize * train.BlockSize;
            }
            if (o.GradClip > 0f) GradientClipping.ClipGradNorm(_module.Parameters(), o.GradClip);
            Optimizer.Step();
            Step++;
            lastLoss = lossSum / o.GradAccumulation;
            bool eval = validation is not null && ((o.EvalInterval > 0 && Step % o.EvalInterval == 0) || Step == o.Steps);
            float? val = null;
            if (eval)
            {
                lastVal = Evaluate(validation!, o.EvalBatches, o.BatchSize);
                val = lastVal;
                OnEvaluation?.Invoke(Step, lastVal);
                if (lastVal < best) { best = lastVal; badEvals = 0; OnBest?.Invoke(Step, lastVal); }
                else if (o.Patience > 0 && ++badEvals >= o.Patience) reason = StopReason.EarlyStopped;
                _module.Train();
            }
            progress?.Report(new TrainingProgress(Step, o.Steps, lastLoss, val, lr, sw.Elapsed, tokens / Math.Max(1e-9, sw.Elapsed.TotalSeconds)));
            if (reason == StopReason.EarlyStopped) break;
        }
        return new TrainingResult(Step, lastLoss, lastVal, best, reason, sw.Elapsed);
    }

    // Batches are built on the host; they go to the backend of the model's parameters (after model.To(backend)).
    private (Tensor X, Tensor Y) OnModelBackend((Tensor X, Tensor Y) batch)
    {
        var p = _module.Parameters().FirstOrDefault();
        return p is null ? batch : (batch.X.To(p.Backend), batch.Y.To(p.Backend));
    }

    /// <summary>
    /// Mean loss over <paramref name="batches"/> batches of consecutive windows spread evenly over the dataset (deterministic).
    /// </summary>
    public float Evaluate(TokenWindowDataset data, int batches, int batchSize)
    {
        _module.Eval();
        using var _ = GradMode.NoGrad();
        double sum = 0;
        int n = 0;
        int total = Math.Min(data.Count, batches * batchSize);
        var idx = new int[batchSize];
        for (int s = 0; s < total; s += batchSize)
        {
            using var scope = TensorScope.Begin();
            int m = Math.Min(batchSize, total - s);
            for (int i = 0; i < m; i++) idx[i] = (int)((long)(s + i) * data.Count / total);
            var (x, y) = OnModelBackend(data.Batch(idx.AsSpan(0, m)));
            sum += Functional.CrossEntropy(_model.Forward(x), y).Item() * m;
            n += m;
        }
        return (float)(sum / Math.Max(1, n));
    }
}
