using System.Runtime.CompilerServices;
using SharpTransformer.Autograd;
using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Generation;

/// <summary>Autoregressive decoding for a causal language model, with or without a KV cache, single or batched.</summary>
public sealed partial class TextGenerator
{
    private readonly CausalLanguageModel _model;

    /// <summary>Creates a generator over a model (put it in eval mode first when it has dropout).</summary>
    public TextGenerator(CausalLanguageModel model) => _model = model;

    // Ids go to the backend the model's parameters live on (after model.To(backend)), read at each step.
    private Tensor Ids(int[] data, params int[] shape)
    {
        var t = Tensor.FromArray(data, shape);
        return _model.Backend is { } b ? t.To(b) : t;
    }

    private Tensor Mask(float[] data, params int[] shape)
    {
        var t = Tensor.FromArray(data, shape);
        return _model.Backend is { } b ? t.To(b) : t;
    }

    /// <summary>Generates new tokens after <paramref name="prompt"/> and returns only the new ones.</summary>
    public int[] Generate(IReadOnlyList<int> prompt, GenerationOptions options) => Stream(prompt, options).ToArray();

    /// <summary>Yields new tokens one at a time as they are decoded.</summary>
    public IEnumerable<int> Stream(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken cancellation = default)
    {
        options.Validate();
        var tokens = PreparePrompt(prompt, options);
        var rng = new Generator(options.Seed);
        IKvCache[]? caches = options.UseCache ? _model.CreateCaches() : null;
        int fed = 0;
        var logits = new float[_model.VocabSize];
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            if (caches is not null && tokens.Count > _model.ContextLength) yield break;   // the cache is full
            NextLogits(tokens, caches, ref fed, logits);
            int next = TokenSampler.Sample(logits, options, rng, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tokens));
            tokens.Add(next);
            yield return next;
            if (options.StopTokens is { } stop && stop.Contains(next)) yield break;
            if (tokens.Count > _model.ContextLength && caches is null) tokens.RemoveAt(0);
        }
    }

    private List<int> PreparePrompt(IReadOnlyList<int> prompt, GenerationOptions options)
    {
        if (prompt.Count == 0) throw new ArgumentException("Generate: the prompt is empty; give at least one token (e.g. BOS or end-of-text).");
        if (prompt.Count > _model.ContextLength)
        {
            if (!options.TruncatePrompt)
                throw new ArgumentException($"Generate: the prompt has {prompt.Count} tokens, more than the context window of {_model.ContextLength}; set TruncatePrompt to keep the last ones.");
            return prompt.Skip(prompt.Count - _model.ContextLength).ToList();
        }
        return prompt.ToList();
    }

    // Runs the model on what it has not seen yet (everything without a cache) and copies the last row of logits.
    private void NextLogits(List<int> tokens, IKvCache[]? caches, ref int fed, float[] logits)
    {
        using var scope = TensorScope.Begin();
        using var _ = GradMode.NoGrad();
        int start = caches is null ? Math.Max(0, tokens.Count - _model.ContextLength) : fed;
        int n = tokens.Count - start;
        var ids = Ids(tokens.GetRange(start, n).ToArray(), 1, n);
        var y = _model.Forward(ids, caches);                                  // (1, n, V)
        var last = y.Narrow(1, n - 1, 1).Contiguous();
        last.Backend.Download(last.Storage, last.Layout.Offset, logits, 0, logits.Length);
        fed = tokens.Count;
    }

    /// <summary>
    /// Batched generation: prompts of different lengths are left-padded, with an attention mask over the padding and
    /// position ids that start at 0 on each row's first real token. Returns the new tokens of each prompt.
    /// </summary>
    public int[][] GenerateBatch(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options)
    {
        options.Validate();
        int b = prompts.Count;
        if (b == 0) return [];
        var rows = prompts.Select(p => PreparePrompt(p, options)).ToList();
        int plen = rows.Max(r => r.Count);
        int total = Math.Min(_model.ContextLength, plen + options.MaxNewTokens);
        var mask = new float[b * total];
        var ids = new int[b * plen];
        var pos = new int[b * plen];
        for (int i = 0; i < b; i++)
        {
            int pad = plen - rows[i].Count;
            for (int t = 0; t < plen; t++)
            {
                bool real = t >= pad;
                ids[i * plen + t] = real ? rows[i][t - pad] : 0;
                pos[i * plen + t] = real ? t - pad : 0;
                mask[i * total + t] = real ? 1f : 0f;
            }
        }
        var rngs = Enumerable.Range(0, b).Select(i => new Generator(options.Seed + (ulong)i)).ToArray();
        var outputs = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
        var done = new bool[b];
        var history = rows.Select(r => r.ToList()).ToArray();
        var caches = _model.CreateCaches();
        int v = _model.VocabSize;
        var logits = new float[b * v];
        int len = plen;
        Tensor stepIds = Ids(ids, b, plen), stepPos = Ids(pos, b, plen);
        for (int step = 0; step < options.MaxNewTokens && len <= total; step++)
        {
            int n = stepIds.Size(1);
            using (var scope = TensorScope.Begin())
            using (GradMode.NoGrad())
            {
                var km = Mask(SliceMask(mask, b, total, len), b, len);
                var y = _model.Forward(stepIds, caches, stepPos, km);                 // (B, n, V)
                var last = y.Narrow(1, n - 1, 1).Contiguous();
                last.Backend.Download(last.Storage, last.Layout.Offset, logits, 0, b * v);
            }
            var next = new int[b];
            var nextPos = new int[b];
            for (int i = 0; i < b; i++)
            {
                var row = logits.AsSpan(i * v, v);
                next[i] = done[i] ? 0 : TokenSampler.Sample(row, options, rngs[i], System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history[i]));
                if (!done[i])
                {
                    outputs[i].Add(next[i]);
                    history[i].Add(next[i]);
                    if (options.StopTokens is { } stop && stop.Contains(next[i])) done[i] = true;
                }
                nextPos[i] = history[i].Count - 1;
            }
            if (done.All(x => x) || len >= total) break;
            for (int i = 0; i < b; i++) mask[i * total + len] = 1f;
            len++;
            stepIds = Ids(next, b, 1);
            stepPos = Ids(nextPos, b, 1);
        }
        return outputs.Select(o => o.ToArray()).ToArray();
    }

    private static float[] SliceMask(float[] mask, int b, int total, int len)
    {
        var r = new float[b * len];
        for (int i = 0; i < b; i++) Array.Copy(mask, i * total, r, i * len, len);
        return r;
    }

    /// <summary>Streams decoded text as it is generated; <paramref name="decode"/> turns all new ids so far into text.</summary>
    public async IAsyncEnumerable<string> StreamTextAsync(IReadOnlyList<int> prompt, GenerationOptions options,
        Func<IReadOnlyList<int>, string> decode, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var ids = new List<int>();
        string emitted = "";
        foreach (var t in Stream(prompt, options, cancellation))
        {
            ids.Add(t);
            string text = decode(ids);
            // Hold back an incomplete UTF-8 sequence (shown as U+FFFD) until the next token completes it.
            if (text.EndsWith('\uFFFD') || text.Length < emitted.Length || !text.StartsWith(emitted, StringComparison.Ordinal)) continue;
            var piece = text[emitted.Length..];
            emitted = text;
            if (piece.Length > 0) yield return piece;
            await Task.Yield();
        }
        string final = decode(ids);
        if (final.Length > emitted.Length && final.StartsWith(emitted, StringComparison.Ordinal)) yield return final[emitted.Length..];
    }
}
