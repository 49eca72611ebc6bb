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
    private readonly ICausalLanguageModel _model;
    private readonly TrainingLoop _loop;

    /// <summary>Creates a trainer for a model that is both a <see cref="Module"/> and an <see cref="ICausalLanguageModel"/>.</summary>
    public LanguageModelTrainer(ICausalLanguageModel model, TrainerOptions options)
    {
        _model = model;
        _loop = new TrainingLoop(model, options, nameof(LanguageModelTrainer));
    }

    /// <summary>The settings.</summary>
    public TrainerOptions Options => _loop.Options;
    /// <summary>The optimizer (its state goes into checkpoints).</summary>
    public AdamW Optimizer => _loop.Optimizer;
    /// <summary>The learning-rate schedule.</summary>
    public ILearningRateSchedule Schedule => _loop.Schedule;
    /// <summary>The batch-sampling generator (its state goes into checkpoints).</summary>
    public Generator Sampling => _loop.Sampling;
    /// <summary>Steps done so far (continues after a resume).</summary>
    public int Step { get => _loop.Step; set => _loop.Step = value; }

    /// <summary>Called after an evaluation that improved the best validation loss (e.g. to save a checkpoint).</summary>
    public Action<int, float>? OnBest { get => _loop.OnBest; set => _loop.OnBest = value; }

    /// <summary>Called after every evaluation with the step and validation loss (e.g. to save the latest checkpoint).</summary>
    public Action<int, float>? OnEvaluation { get => _loop.OnEvaluation; set => _loop.OnEvaluation = value; }

    /// <summary>
    /// Runs until <see cref="TrainerOptions.Steps"/> steps are done (or <paramref name="untilStep"/>, to stop early and resume later
    /// on the same schedule), early stopping, or cancellation.
    /// </summary>
    public TrainingResult Train(TokenWindowDataset train, TokenWindowDataset? validation = null, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellation = default, int? untilStep = null)
    {
        var o = Options;
        return _loop.Run(Math.Min(o.Steps, untilStep ?? o.Steps), () =>
        {
            var (x, y) = OnModelBackend(train.RandomBatch(o.BatchSize, Sampling));
            var logits = _model.Forward(x);                                           // (B, T, V)
            return (Functional.CrossEntropy(logits, y), (long)o.BatchSize * train.BlockSize);
        }, validation is null ? null : () => Evaluate(validation, o.EvalBatches, o.BatchSize), "; the last checkpoint is intact",
            progress, cancellation);
    }

    // Batches are built on the host; they go to the backend of the model's parameters (after model.To(backend)).
    private (Tensor X, Tensor Y) OnModelBackend((Tensor X, Tensor Y) batch)
        => _loop.Backend is { } b ? (batch.X.To(b), batch.Y.To(b)) : batch;

    /// <summary>
    /// Mean loss over <paramref name="batches"/> batches of consecutive windows spread evenly over the dataset (deterministic).
    /// </summary>
    public float Evaluate(TokenWindowDataset data, int batches, int batchSize)
    {
        _loop.Module.Eval();
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
