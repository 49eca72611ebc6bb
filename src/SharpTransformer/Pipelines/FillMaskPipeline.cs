using SharpTransformer.Autograd;
using SharpTransformer.Models.Bert;
using SharpTransformer.Tensors;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Pipelines;

/// <summary>
/// Predicts the tokens behind each mask token of a text (Hugging Face's <c>fill-mask</c> pipeline): write the tokenizer's mask
/// (<c>[MASK]</c> for BERT, <c>&lt;mask&gt;</c> for RoBERTa; <see cref="MaskToken"/>) where a word is missing.
/// </summary>
public sealed class FillMaskPipeline
{
    /// <summary>A pipeline over a masked-LM model and its tokenizer, which must have a mask token.</summary>
    public FillMaskPipeline(BertForMaskedLM model, Tokenizer tokenizer)
    {
        Model = model;
        Tokenizer = tokenizer;
        model.Eval();
        MaskToken = tokenizer.SpecialTokens.Mask ?? throw new ArgumentException("FillMaskPipeline: the tokenizer has no mask token.", nameof(tokenizer));
        MaskId = tokenizer.MaskId ?? throw new ArgumentException($"FillMaskPipeline: the mask token '{MaskToken}' is not in the vocabulary.", nameof(tokenizer));
    }

    /// <summary>The model.</summary>
    public BertForMaskedLM Model { get; }
    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer { get; }
    /// <summary>The mask token's text.</summary>
    public string MaskToken { get; }
    /// <summary>The mask token's id.</summary>
    public int MaskId { get; }

    /// <summary>
    /// For each mask of <paramref name="text"/> (and of <paramref name="textPair"/>, a second text), in order, the
    /// <paramref name="topK"/> most likely tokens, best first. The filled sequences replace one mask at a time, the others left in place.
    /// </summary>
    /// <exception cref="ArgumentException">The text holds no mask token.</exception>
    public IReadOnlyList<IReadOnlyList<MaskPrediction>> Run(string text, int topK = 5, string? textPair = null)
    {
        if (topK <= 0) throw new ArgumentOutOfRangeException(nameof(topK), topK, "FillMaskPipeline: topK must be positive.");
        PipelineInput x;
        float[] logits;
        using (TensorScope.Begin())
        using (GradMode.NoGrad())
        {
            x = PipelineInput.Create(Tokenizer, text, textPair, Model.Encoder.MaxPositions, Model.Encoder.Backend, allowSpecialTokensInText: true);
            logits = Model.Forward(x.Ids, x.Mask, x.TypeIds).ToArray();                      // (1, T, V)
        }
        var ids = x.Encoding.Ids;
        var masks = Enumerable.Range(0, ids.Length).Where(t => ids[t] == MaskId).ToList();
        if (masks.Count == 0) throw new ArgumentException($"FillMaskPipeline: the input holds no mask token '{MaskToken}'.", nameof(text));
        int v = Model.VocabSize;
        var result = new List<IReadOnlyList<MaskPrediction>>();
        foreach (int t in masks)
        {
            var p = PipelineInput.Softmax(logits.AsSpan(t * v, v));
            var best = Enumerable.Range(0, v).OrderByDescending(i => p[i]).Take(Math.Min(topK, v));
            result.Add(best.Select(id =>
            {
                var filled = (int[])ids.Clone();
                filled[t] = id;
                return new MaskPrediction(p[id], id, Tokenizer.Decode([id]), Tokenizer.Decode(filled, skipSpecialTokens: true));
            }).ToList());
        }
        return result;
    }
}
