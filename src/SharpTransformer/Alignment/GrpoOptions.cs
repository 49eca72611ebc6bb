namespace SharpTransformer.Alignment;

/// <summary>Settings of <see cref="GrpoTrainer"/> beyond the training loop's (TRL's <c>GRPOConfig</c> names in comments).</summary>
public sealed record GrpoOptions
{
    /// <summary>Completions sampled per prompt (num_generations), G ≥ 2: the advantages compare them within their group.</summary>
    public int GroupSize { get; init; } = 8;
    /// <summary>Prompts per generation batch; each optimizer step trains on PromptsPerBatch × GroupSize completions.</summary>
    public int PromptsPerBatch { get; init; } = 4;
    /// <summary>Optimizer steps on each generation batch (num_iterations, μ); the old log-probabilities stay those of the sampling policy.</summary>
    public int UpdatesPerBatch { get; init; } = 1;
    /// <summary>Weight of the KL penalty to the reference (beta); 0 needs no reference model.</summary>
    public float Beta { get; init; } = 0.04f;
    /// <summary>The ratio clip ε (epsilon): the ratio is kept in [1 − ε, 1 + ε].</summary>
    public float Epsilon { get; init; } = 0.2f;
    /// <summary>The upper clip (epsilon_high, DAPO's clip-higher); null: <see cref="Epsilon"/>.</summary>
    public float? EpsilonHigh { get; init; }
    /// <summary>How the per-token terms are averaged (loss_type).</summary>
    public GrpoLossKind Loss { get; init; } = GrpoLossKind.Grpo;
    /// <summary>Divide the advantages by the group's standard deviation (scale_rewards); false: only centre them (Dr. GRPO).</summary>
    public bool ScaleRewards { get; init; } = true;
    /// <summary>Tokens sampled per completion at most (max_completion_length).</summary>
    public int MaxCompletionLength { get; init; } = 64;
    /// <summary>Sampling temperature (temperature).</summary>
    public float Temperature { get; init; } = 1f;
    /// <summary>Keep only the k most likely tokens when sampling (top_k; 0 = all).</summary>
    public int TopK { get; init; }
    /// <summary>Nucleus sampling (top_p; 1 = all).</summary>
    public float TopP { get; init; } = 1f;
    /// <summary>
    /// The tokens that end a completion (the template's end marker, e.g. <c>InstructionEncoder.EndIds</c>); a completion is cut
    /// after them, and the tokens after carry no loss. Null: completions run to <see cref="MaxCompletionLength"/>.
    /// </summary>
    public IReadOnlyList<int>? EndIds { get; init; }
    /// <summary>Run the policy without dropout (disable_dropout), so the sampled and the trained log-probabilities agree.</summary>
    public bool DisableDropout { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, object? value, string rule)
        {
            if (!ok) throw new ArgumentOutOfRangeException(name, value, $"GrpoOptions.{name} {rule}; got {value}.");
        }
        Check(GroupSize >= 2, nameof(GroupSize), GroupSize, "must be at least 2 (advantages compare completions of one prompt)");
        Check(PromptsPerBatch >= 1, nameof(PromptsPerBatch), PromptsPerBatch, "must be positive");
        Check(UpdatesPerBatch >= 1, nameof(UpdatesPerBatch), UpdatesPerBatch, "must be positive");
        Check(Beta >= 0f && float.IsFinite(Beta), nameof(Beta), Beta, "must not be negative");
        Check(Epsilon > 0f && Epsilon < 1f, nameof(Epsilon), Epsilon, "must be in (0, 1)");
        Check(EpsilonHigh is null || EpsilonHigh > 0f && float.IsFinite(EpsilonHigh.Value), nameof(EpsilonHigh), EpsilonHigh, "must be positive");
        Check(MaxCompletionLength >= 1, nameof(MaxCompletionLength), MaxCompletionLength, "must be positive");
        Check(Temperature > 0f && float.IsFinite(Temperature), nameof(Temperature), Temperature, "must be positive");
        Check(TopK >= 0, nameof(TopK), TopK, "must not be negative");
        Check(TopP > 0f && TopP <= 1f, nameof(TopP), TopP, "must be in (0, 1]");
        Check(EndIds is null || EndIds.Count > 0, nameof(EndIds), EndIds?.Count, "must not be empty (null: none)");
    }
}
