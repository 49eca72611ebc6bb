using System.CommandLine;

namespace SharpTransformer.Cli.Commands.Distill;

/// <summary><c>sharpt distill classify|lm</c>: knowledge distillation of a classifier or a causal language model into a smaller student.</summary>
internal static class DistillCommand
{
    public static Command Create() => new("distill", "train a small student from a teacher's softened outputs (and the hard labels), as DistilBERT")
    {
        DistillClassify.Create(),
        DistillLm.Create(),
    };

    /// <summary>--temperature, --alpha and --hidden-loss-weight.</summary>
    internal static (Option<float> Temperature, Option<float> Alpha, Option<float> HiddenWeight) LossOptions() => (
        CliOptions.Float("--temperature", "softmax temperature T of the soft targets (the KL term is scaled by T^2)", 2f, 0f, 100f, minExclusive: true),
        CliOptions.Float("--alpha", "weight of the soft-target KL term; the hard-label cross-entropy gets 1 - alpha", 0.5f, 0f, 1f),
        CliOptions.Float("--hidden-loss-weight", "weight of the cosine loss between student and teacher hidden states (0 = off)", 0f, 0f));
}
