using SharpTransformer.Autograd;
using SharpTransformer.Models;
using SharpTransformer.Tensors;

namespace SharpTransformer.Generation;

public sealed partial class Seq2SeqGenerator
{
    /// <summary>Beam search for one source; returns the best hypotheses, best first (see <see cref="BeamSearchBatch"/>).</summary>
    public BeamHypothesis[] BeamSearch(IReadOnlyList<int> source, GenerationOptions options, BeamSearchOptions beams)
    {
        ArgumentNullException.ThrowIfNull(source);
        return BeamSearchBatch([source], options, beams)[0];
    }

    /// <summary>
    /// Beam search as Hugging Face's <c>generate(num_beams=...)</c> for an encoder-decoder: the encoder runs once per source
    /// (right-padded under a mask), the first decoder step runs once per source, and its caches, the cross-attention keys and
    /// values included, are then copied to the beams; afterwards all beams decode in one batched forward per step, and only
    /// the self-attention caches are reordered to follow the kept beams (a source's beams share its cross-attention rows).
    /// Stops on <see cref="GenerationOptions.StopTokens"/>, or the model's end-of-sequence id when none are given; the
    /// sampling settings are not used. Returns <see cref="BeamSearchOptions.NumReturnSequences"/> hypotheses per source, best first.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A beam setting is out of range (a beam width of 0, ...).</exception>
    /// <exception cref="ArgumentException">A source is empty, MaxNewTokens exceeds the model's target length, or a repetition penalty is set.</exception>
    public BeamHypothesis[][] BeamSearchBatch(IReadOnlyList<IReadOnlyList<int>> sources, GenerationOptions options, BeamSearchOptions beams)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(beams);
        Generation.BeamSearch.Check(options, beams);
        int b = sources.Count;
        if (b == 0) return [];
        for (int i = 0; i < b; i++)
            if (sources[i].Count == 0) throw new ArgumentException($"Seq2SeqGenerator: source {i} is empty; an encoder-decoder needs at least one source token.", nameof(sources));
        if (options.MaxNewTokens > _model.MaxTargetLength)
            throw new ArgumentException($"Seq2SeqGenerator: MaxNewTokens {options.MaxNewTokens} exceeds the model's maximum target length {_model.MaxTargetLength}.", nameof(options));
        int s = sources.Max(x => x.Count);
        var ids = new int[b * s];
        var mask = new int[b * s];
        Array.Fill(ids, _model.PadTokenId);
        for (int i = 0; i < b; i++)
            for (int j = 0; j < sources[i].Count; j++) { ids[i * s + j] = sources[i][j]; mask[i * s + j] = 1; }
        using var _ = GradMode.NoGrad();
        using var outer = TensorScope.Begin();
        var sourceMask = OnModel(Tensor.FromArray(mask, b, s));                            // (B, S)
        var encoded = _model.Encode(OnModel(Tensor.FromArray(ids, b, s)), sourceMask);    // (B, S, C), once
        var stepper = new Seq2SeqBeamStepper(this, encoded, sourceMask, mask, b, options.UseCache ? _model.CreateCaches(options.MaxNewTokens) : null);
        var contexts = Enumerable.Range(0, b).Select(_ => (IReadOnlyList<int>)[_model.DecoderStartTokenId]).ToArray();
        return Generation.BeamSearch.Run(stepper, b, options.MaxNewTokens, beams, options.StopTokens ?? [_model.EosTokenId], _model.PadTokenId, contexts);
    }

    private sealed class Seq2SeqBeamStepper(Seq2SeqGenerator gen, Tensor encoded, Tensor sourceMask, int[] hostMask, int batch, Seq2SeqCaches? caches) : IBeamStepper
    {
        private Tensor _encoded = encoded, _mask = sourceMask;                      // (R, S, C), (R, S)
        private List<int>[] _targets = Enumerable.Range(0, batch).Select(_ => new List<int> { gen._model.DecoderStartTokenId }).ToArray();
        private bool _expanded;

        public int VocabSize => gen._model.VocabSize;

        public void Step(ReadOnlySpan<int> newest, float[] logits)
        {
            int rows = _targets.Length;
            if (newest.Length > 0)
                for (int r = 0; r < rows; r++) _targets[r].Add(newest[r]);
            int len = _targets[0].Count, from = caches is null ? 0 : len - 1, n = len - from;
            var step = new int[rows * n];
            for (int r = 0; r < rows; r++) _targets[r].CopyTo(from, step, r * n, n);
            using var scope = TensorScope.Begin();
            var y = gen._model.Decode(gen.OnModel(Tensor.FromArray(step, rows, n)), _encoded, _mask, caches);   // (R, n, V)
            var last = y.Narrow(1, n - 1, 1).Contiguous();                                                       // (R, 1, V)
            last.Backend.Download(last.Storage, last.Layout.Offset, logits, 0, rows * VocabSize);
        }

        public void Reorder(int[] rows)
        {
            if (!_expanded)
            {
                // Inputs to beams, once: the encoder output, its mask and the cross-attention caches are copied per beam.
                _expanded = true;
                var index = gen.OnModel(Tensor.FromArray(rows));
                _encoded = _encoded.IndexSelect(0, index).Contiguous();   // (B*K, S, C)
                int s = hostMask.Length / batch;
                var expanded = new int[rows.Length * s];
                for (int r = 0; r < rows.Length; r++) Array.Copy(hostMask, rows[r] * s, expanded, r * s, s);
                _mask = gen.OnModel(Tensor.FromArray(expanded, rows.Length, s));   // (B*K, S)
                caches?.ReorderBatch(rows);
            }
            else if (caches is not null)
                foreach (var c in caches.SelfAttention) c.ReorderBatch(rows);
            _targets = rows.Select(r => _targets[r].ToList()).ToArray();
        }
    }
}
