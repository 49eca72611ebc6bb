using SharpTransformer.Backends;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>
/// The base of the pretraining trainers (<see cref="LanguageModelTrainer"/>, <see cref="MaskedLmTrainer"/>): one
/// <see cref="Training.Trainer"/> underneath, whose settings, optimizer, sampling generator, callbacks and step they show as
/// their own; the subclass adds the batches and the loss of its task.
/// </summary>
public abstract class TaskTrainer
{
    private protected TaskTrainer(Module model, TrainerOptions options) => Trainer = new Trainer(model, options);

    /// <summary>The trainer underneath.</summary>
    public Trainer Trainer { get; }
    /// <summary>The settings.</summary>
    public TrainerOptions Options => Trainer.Options;
    /// <summary>The optimizer (its state goes into checkpoints).</summary>
    public IOptimizer Optimizer => Trainer.Optimizer;
    /// <summary>The batch-sampling generator (its state goes into checkpoints).</summary>
    public Generator Sampling => Trainer.Sampling;
    /// <summary>The callbacks of the runs.</summary>
    public List<ITrainerCallback> Callbacks => Trainer.Callbacks;
    /// <summary>Steps done so far (continues after a resume).</summary>
    public int Step { get => Trainer.Step; set => Trainer.Step = value; }

    /// <summary>
    /// The backend of the model's parameters (after <c>model.To(backend)</c>), where the batches built on the host go; null for
    /// a model without parameters.
    /// </summary>
    private protected IBackend? ModelBackend => Trainer.Model.Parameters().FirstOrDefault()?.Backend;
}
