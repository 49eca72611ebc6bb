using SharpTransformer.Models;
using SharpTransformer.Training;

namespace SharpTransformer.Alignment;

/// <summary>
/// Instruction tuning (supervised fine-tuning, TRL's <c>SFTTrainer</c> with a completion-only loss) on the library's
/// <see cref="Training.Trainer"/>: shuffled epochs of <see cref="InstructionExample"/>s, the loss on the response tokens only
/// (<see cref="InstructionTuning.Loss"/>), padded batches bucketed by length or packed rows (<see cref="Packing"/>).
/// Evaluation, checkpoints, progress and the metrics log are callbacks in <see cref="TaskTrainer.Callbacks"/>.
/// </summary>
public sealed class SftTrainer : TaskTrainer
{
    private readonly CausalLanguageModel _model;

    /// <summary>Creates the trainer.</summary>
    /// <param name="model">Any causal language model (from scratch, a train-lm checkpoint or <c>AutoModelForCausalLM</c>).</param>
    /// <param name="options">Settings; <see cref="TrainerOptions.BatchSize"/> counts examples (padding) or rows (packing).</param>
    /// <param name="padId">The id written into padding (never a target).</param>
    public SftTrainer(CausalLanguageModel model, TrainerOptions options, int padId) : base(model, options)
    {
        _model = model;
        PadId = padId;
    }

    /// <summary>The id written into padding.</summary>
    public int PadId { get; }

    /// <summary>Pack several examples per row of the model's context length instead of padding each (see <see cref="InstructionBatch.Pack"/>).</summary>
    public bool Packing { get; init; }

    /// <summary>
    /// Sort each pool of 50 batches by length before shuffling the batches, so a padded batch wastes little (true by default).
    /// With data whose length follows its kind (tasks of different lengths), batches then hold one kind each; turn it off there.
    /// </summary>
    public bool GroupByLength { get; init; } = true;

    /// <summary>Trains on <paramref name="train"/> for the options' epochs (or <see cref="TrainerOptions.MaxSteps"/>, or the time budget).</summary>
    /// <param name="train">The tokenized training examples.</param>
    /// <param name="cancellation">Stops the run cleanly before the next step.</param>
    public TrainerResult Train(IReadOnlyList<InstructionExample> train, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException("SftTrainer.Train: no training examples.", nameof(train));
        if (Packing)
        {
            var rows = InstructionBatch.Pack(train, _model.ContextLength, PadId);
            return Trainer.Train(rows, b => InstructionTuning.Loss(_model, InstructionBatch.Stack(b)), GroupByLength ? r => r.ResponseTokens : null, cancellation);
        }
        int longest = train.Max(e => e.Length - 1);
        if (longest > _model.ContextLength)
            throw new ArgumentException($"SftTrainer.Train: an example has {longest + 1} tokens, more than the model's context of {_model.ContextLength} + 1; encode with that maximum length.", nameof(train));
        return Trainer.Train(train, b => InstructionTuning.Loss(_model, InstructionBatch.Pad(b, PadId)), GroupByLength ? e => e.Length : null, cancellation);
    }
}
