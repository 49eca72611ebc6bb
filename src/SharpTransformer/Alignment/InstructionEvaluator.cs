using SharpTransformer.Autograd;
using SharpTransformer.Generation;
using SharpTransformer.Models;

namespace SharpTransformer.Alignment;

/// <summary>
/// Generates responses to instruction records with a causal model (greedy by default, batched with left padding and a KV
/// cache, stopping at the end marker) and scores them by exact match.
/// </summary>
public sealed class InstructionEvaluator
{
    private readonly CausalLanguageModel _model;

    /// <summary>Creates the evaluator.</summary>
    public InstructionEvaluator(CausalLanguageModel model, InstructionEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(encoder);
        _model = model;
        Encoder = encoder;
    }

    /// <summary>The encoder (template, tokenizer, end marker).</summary>
    public InstructionEncoder Encoder { get; }

    /// <summary>Prompts per generation batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// The response to each record: its prompt (the last tokens kept when longer than the context), then up to
    /// <paramref name="maxNewTokens"/> tokens, cut at the end marker. Runs in evaluation mode without gradients and puts the
    /// model back in the mode it was in.
    /// </summary>
    /// <param name="records">The records.</param>
    /// <param name="maxNewTokens">New tokens at most per response.</param>
    /// <param name="options">Sampling settings; null: greedy.</param>
    /// <param name="cancellation">Stops between batches.</param>
    public IReadOnlyList<string> Generate(IReadOnlyList<InstructionRecord> records, int maxNewTokens, GenerationOptions? options = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (maxNewTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxNewTokens), maxNewTokens, "InstructionEvaluator: max new tokens must be positive.");
        var end = Encoder.EndIds;
        var o = (options ?? new GenerationOptions(Greedy: true)) with
        {
            MaxNewTokens = maxNewTokens, TruncatePrompt = true, StopTokens = end.Length == 1 ? [end[0]] : null,
        };
        bool training = _model.Training;
        _model.Eval();
        try
        {
            using var _ = GradMode.NoGrad();
            var generator = new TextGenerator(_model);
            var prompts = records.Select(r => Keep(Encoder.EncodePrompt(r), maxNewTokens)).ToList();
            var responses = new string[records.Count];
            // Prompts of similar length share a batch, so little of it is padding.
            var order = Enumerable.Range(0, records.Count).OrderBy(i => prompts[i].Length).ToArray();
            for (int s = 0; s < order.Length; s += BatchSize)
            {
                cancellation.ThrowIfCancellationRequested();
                var idx = order.AsSpan(s, Math.Min(BatchSize, order.Length - s)).ToArray();
                var outs = generator.GenerateBatch(idx.Select(i => (IReadOnlyList<int>)prompts[i]).ToList(), o);
                for (int k = 0; k < idx.Length; k++) responses[idx[k]] = Encoder.DecodeResponse(outs[k]);
            }
            return responses;
        }
        finally
        {
            _model.Train(training);
        }
    }

    /// <summary>Generates greedy responses for <paramref name="records"/> and scores them by exact match against their outputs.</summary>
    public InstructionEvaluation Evaluate(IReadOnlyList<InstructionRecord> records, int maxNewTokens, CancellationToken cancellation = default)
    {
        var responses = Generate(records, maxNewTokens, null, cancellation);
        double em = records.Count == 0 ? double.NaN
            : records.Zip(responses).Count(p => InstructionEvaluation.Matches(p.Second, p.First.Output)) / (double)records.Count;
        return new InstructionEvaluation(records, responses, em);
    }

    // Leaves room for the response: at most context - maxNewTokens prompt tokens (the last ones), at least one.
    private int[] Keep(int[] prompt, int maxNewTokens)
    {
        int room = Math.Max(1, _model.ContextLength - Math.Min(maxNewTokens, _model.ContextLength - 1));
        return prompt.Length <= room ? prompt : prompt[^room..];
    }
}
