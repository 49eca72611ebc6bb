using SharpTransformer.Autograd;
using SharpTransformer.Data;
using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>
/// Causal language-model pretraining on a <see cref="Trainer"/>: random windows (nanoGPT's sampling) for
/// <see cref="TrainerOptions.MaxSteps"/> steps, with the validation loss ("loss", lower is better) as the evaluation metric
/// when validation data is given. A mixture-of-experts model (<see cref="Nn.MoE.IMixtureOfExpertsModel"/>) has its weighted
/// auxiliary losses (<see cref="Nn.MoE.MoeLosses.Auxiliary"/>) added to the training loss, so the logged loss includes them. Checkpoints, early stopping, progress and the metrics log are callbacks in
/// <see cref="TaskTrainer.Callbacks"/>. A non-finite loss stops training with an exception before any update is applied.
/// </summary>
public sealed class LanguageModelTrainer : TaskTrainer
{
    private readonly CausalLanguageModel _model;

    /// <summary>Creates a trainer for a causal language model.</summary>
    public LanguageModelTrainer(CausalLanguageModel model, TrainerOptions options) : base(model, options) => _model = model;

    /// <summary>
    /// Runs until <see cref="TrainerOptions.MaxSteps"/> steps are done (or <paramref name="untilStep"/>, to stop early and resume
    /// later on the same schedule), early stopping, the time budget, or cancellation.
    /// </summary>
    /// <param name="train">Training windows, sampled <see cref="TrainerOptions.BatchSize"/> at a time.</param>
    /// <param name="validation">Validation windows; evaluated every <see cref="TrainerOptions.EvalEvery"/> steps and at the last step.</param>
    /// <param name="evalBatches">Validation batches per evaluation (nanoGPT's eval_iters).</param>
    /// <param name="untilStep">The step to stop at.</param>
    /// <param name="cancellation">Stops the run before the next step.</param>
    public TrainerResult Train(TokenWindowDataset train, TokenWindowDataset? validation = null, int evalBatches = 50, int? untilStep = null,
        CancellationToken cancellation = default)
    {
        var o = Options;
        if (evalBatches <= 0) throw new ArgumentOutOfRangeException(nameof(evalBatches), evalBatches, "LanguageModelTrainer.Train: validation batches must be positive.");
        var evaluation = validation is null ? null
            : new EvaluationCallback("loss", () => Evaluate(validation, evalBatches, o.BatchSize), greaterIsBetter: false);
        int perEpoch = Math.Max(1, train.Count / (o.BatchSize * o.GradientAccumulation));
        return Trainer.Train(g =>
        {
            var (x, y) = OnModelBackend(train.RandomBatch(o.BatchSize, g));
            var logits = _model.Forward(x);                                           // (B, T, V)
            var loss = Functional.CrossEntropy(logits, y);
            // Mixture-of-experts models: + router_aux_loss_coef · load balancing + z-loss coefficient · router z-loss.
            if (_model is Nn.MoE.IMixtureOfExpertsModel moe && Nn.MoE.MoeLosses.Auxiliary(moe) is { } aux) loss = loss.Add(aux);
            return (loss, (long)o.BatchSize * train.BlockSize);
        }, untilStep, perEpoch, cancellation, evaluation);
    }

    private (Tensor X, Tensor Y) OnModelBackend((Tensor X, Tensor Y) batch)
        => ModelBackend is { } b ? (batch.X.To(b), batch.Y.To(b)) : batch;

    /// <summary>
    /// Mean loss over <paramref name="batches"/> batches of consecutive windows spread evenly over the dataset (deterministic).
    /// </summary>
    public float Evaluate(TokenWindowDataset data, int batches, int batchSize)
    {
        Trainer.Model.Eval();
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
