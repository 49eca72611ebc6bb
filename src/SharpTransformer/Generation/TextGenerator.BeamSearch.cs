using SharpTransformer.Autograd;
using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Generation;

public sealed partial class TextGenerator
{
    /// <summary>Beam search after one prompt; returns the best hypotheses, best first (see <see cref="BeamSearchBatch"/>).</summary>
    public BeamHypothesis[] BeamSearch(IReadOnlyList<int> prompt, GenerationOptions options, BeamSearchOptions beams)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return BeamSearchBatch([prompt], options, beams)[0];
    }

    /// <summary>
    /// Beam search as Hugging Face's <c>generate(num_beams=...)</c>: prompts of different lengths are left-padded under a key
    /// mask (positions start at each row's first real token); each prompt runs once, then its KV caches are copied to its
    /// beams, which all decode in one batched forward per step; caches follow the kept beams with
    /// <see cref="IKvCache.ReorderBatch"/>. Uses <see cref="GenerationOptions.MaxNewTokens"/> (cut to the context window),
    /// <see cref="GenerationOptions.StopTokens"/> (none: every hypothesis runs to the maximum length) and
    /// <see cref="GenerationOptions.UseCache"/> (off: every step reruns the whole sequences); the sampling settings are not used.
    /// Returns <see cref="BeamSearchOptions.NumReturnSequences"/> hypotheses per prompt, best first.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A beam setting is out of range (a beam width of 0, ...).</exception>
    /// <exception cref="ArgumentException">A prompt is empty or too long, or a repetition penalty is set.</exception>
    public BeamHypothesis[][] BeamSearchBatch(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options, BeamSearchOptions beams)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(beams);
        Generation.BeamSearch.Check(options, beams);
        if (prompts.Count == 0) return [];
        var rows = prompts.Select(p => PreparePrompt(p, options)).ToList();
        int plen = rows.Max(r => r.Count);
        int maxNew = Math.Min(options.MaxNewTokens, _model.ContextLength - plen);
        using var _ = GradMode.NoGrad();
        var stepper = new CausalBeamStepper(this, rows, options.UseCache);
        return Generation.BeamSearch.Run(stepper, rows.Count, maxNew, beams, options.StopTokens ?? [], 0, rows.ToArray());
    }

    // Left-padded rows; with caches only the newest token is fed after the prompt, without them the whole rows.
    private sealed class CausalBeamStepper : IBeamStepper
    {
        private readonly TextGenerator _gen;
        private readonly IKvCache[]? _caches;
        private List<int>[] _ids;   // padded rows
        private int[] _pad;         // left padding per row
        private bool _started;

        public CausalBeamStepper(TextGenerator gen, List<List<int>> prompts, bool useCache)
        {
            _gen = gen;
            _caches = useCache ? gen._model.CreateCaches() : null;
            int plen = prompts.Max(r => r.Count);
            _pad = prompts.Select(p => plen - p.Count).ToArray();
            _ids = prompts.Select((p, i) => Enumerable.Repeat(0, _pad[i]).Concat(p).ToList()).ToArray();
        }

        public int VocabSize => _gen._model.VocabSize;

        public void Step(ReadOnlySpan<int> newest, float[] logits)
        {
            int rows = _ids.Length;
            if (_started)
                for (int r = 0; r < rows; r++) _ids[r].Add(newest[r]);
            int len = _ids[0].Count;
            int from = _caches is not null && _started ? len - 1 : 0, n = len - from;
            _started = true;
            bool padded = _pad.Any(p => p > 0);
            var ids = new int[rows * n];
            var pos = new int[rows * n];
            var mask = padded ? new float[rows * len] : null;
            for (int r = 0; r < rows; r++)
            {
                for (int t = 0; t < n; t++)
                {
                    ids[r * n + t] = _ids[r][from + t];
                    pos[r * n + t] = Math.Max(0, from + t - _pad[r]);
                }
                if (mask is not null) for (int t = _pad[r]; t < len; t++) mask[r * len + t] = 1f;
            }
            using var scope = TensorScope.Begin();
            var y = _gen._model.Forward(_gen.Ids(ids, rows, n), _caches,
                padded ? _gen.Ids(pos, rows, n) : null, mask is null ? null : _gen.Mask(mask, rows, len));   // (R, n, V)
            var last = y.Narrow(1, n - 1, 1).Contiguous();                                                  // (R, 1, V)
            last.Backend.Download(last.Storage, last.Layout.Offset, logits, 0, rows * VocabSize);
        }

        public void Reorder(int[] rows)
        {
            if (_caches is not null) foreach (var c in _caches) c.ReorderBatch(rows);
            _ids = rows.Select(r => _ids[r].ToList()).ToArray();
            _pad = rows.Select(r => _pad[r]).ToArray();
        }
    }
}
