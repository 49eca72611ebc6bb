using SharpTransformer.Autograd;
using SharpTransformer.Models;
using SharpTransformer.Tensors;

namespace SharpTransformer.Generation;

/// <summary>
/// Greedy and sampled decoding for an encoder-decoder (<see cref="Seq2SeqLanguageModel"/>), as Hugging Face's <c>generate</c>:
/// the encoder runs once over the source; the decoder starts from <see cref="Seq2SeqLanguageModel.DecoderStartTokenId"/> and
/// adds one token per step, reading its self-attention cache and the cross-attention cache (the encoder's keys and values,
/// projected at the first step) when <see cref="GenerationOptions.UseCache"/> is on, else rerunning the decoder over the whole
/// target. Tokens are picked by <see cref="TokenSampler"/> (repetition penalty over the target so far). Generation stops after
/// a stop token: <see cref="GenerationOptions.StopTokens"/>, or the model's end-of-sequence id when none are given.
/// </summary>
public sealed partial class Seq2SeqGenerator
{
    private readonly Seq2SeqLanguageModel _model;

    /// <summary>Creates a generator over a model (put it in eval mode first when it has dropout).</summary>
    public Seq2SeqGenerator(Seq2SeqLanguageModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    private Tensor OnModel(Tensor t) => _model.Backend is { } b ? t.To(b) : t;

    /// <summary>Generates the target of one source; returns the new tokens (without the decoder start token, with the stop token).</summary>
    /// <exception cref="ArgumentException">The source is empty.</exception>
    public int[] Generate(IReadOnlyList<int> source, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        return GenerateBatch([source], options)[0];
    }

    /// <summary>
    /// Generates the targets of several sources at once: the sources are right-padded under an attention mask, and the rows
    /// decode in lockstep until every row has stopped (row i samples with seed <see cref="GenerationOptions.Seed"/> + i).
    /// Returns the new tokens of each source.
    /// </summary>
    /// <exception cref="ArgumentException">A source is empty, or MaxNewTokens needs more decoder positions than the model has.</exception>
    public int[][] GenerateBatch(IReadOnlyList<IReadOnlyList<int>> sources, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int b = sources.Count;
        if (b == 0) return [];
        for (int i = 0; i < b; i++)
            if (sources[i].Count == 0) throw new ArgumentException($"Seq2SeqGenerator: source {i} is empty; an encoder-decoder needs at least one source token.", nameof(sources));
        // The last new token is never fed back, so MaxNewTokens new tokens need MaxNewTokens decoder positions (the start token first).
        if (options.MaxNewTokens > _model.MaxTargetLength)
            throw new ArgumentException($"Seq2SeqGenerator: MaxNewTokens {options.MaxNewTokens} exceeds the model's maximum target length {_model.MaxTargetLength}.", nameof(options));
        var outputs = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
        if (options.MaxNewTokens == 0) return outputs.Select(o => o.ToArray()).ToArray();

        int s = sources.Max(x => x.Count), v = _model.VocabSize;
        var ids = new int[b * s];
        var mask = new int[b * s];
        Array.Fill(ids, _model.PadTokenId);
        for (int i = 0; i < b; i++)
            for (int j = 0; j < sources[i].Count; j++) { ids[i * s + j] = sources[i][j]; mask[i * s + j] = 1; }
        var stop = options.StopTokens ?? [_model.EosTokenId];
        var rngs = Enumerable.Range(0, b).Select(i => new Generator(options.Seed + (ulong)i)).ToArray();
        var targets = Enumerable.Range(0, b).Select(_ => new List<int> { _model.DecoderStartTokenId }).ToArray();
        var done = new bool[b];
        var logits = new float[b * v];
        var caches = options.UseCache ? _model.CreateCaches(options.MaxNewTokens) : null;

        using var _ = GradMode.NoGrad();
        using var outer = TensorScope.Begin();
        var sourceMask = OnModel(Tensor.FromArray(mask, b, s));                                       // (B, S)
        var encoded = _model.Encode(OnModel(Tensor.FromArray(ids, b, s)), sourceMask);               // (B, S, C), once
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            using (TensorScope.Begin())
            {
                // With caches only the newest token is fed; without, the whole target so far.
                int from = caches is null ? 0 : targets[0].Count - 1, n = targets[0].Count - from;
                var step_ = new int[b * n];
                for (int i = 0; i < b; i++) targets[i].CopyTo(from, step_, i * n, n);
                var y = _model.Decode(OnModel(Tensor.FromArray(step_, b, n)), encoded, sourceMask, caches);   // (B, n, V)
                var last = y.Narrow(1, n - 1, 1).Contiguous();                                                  // (B, 1, V)
                last.Backend.Download(last.Storage, last.Layout.Offset, logits, 0, b * v);
            }
            for (int i = 0; i < b; i++)
            {
                int next = _model.PadTokenId;
                if (!done[i])
                {
                    var history = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(targets[i]);
                    next = TokenSampler.Sample(logits.AsSpan(i * v, v), options, rngs[i], history);
                    outputs[i].Add(next);
                    if (stop.Contains(next)) done[i] = true;
                }
                targets[i].Add(next);
            }
            if (done.All(x => x)) break;
        }
        return outputs.Select(o => o.ToArray()).ToArray();
    }
}
