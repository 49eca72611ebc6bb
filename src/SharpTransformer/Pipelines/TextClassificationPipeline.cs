using SharpTransformer.Autograd;
using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Classification;
using SharpTransformer.Tensors;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Pipelines;

/// <summary>
/// Classifies a text (or a text pair) into labels with softmaxed scores (Hugging Face's <c>text-classification</c> pipeline),
/// best first.
/// </summary>
public sealed class TextClassificationPipeline
{
    private readonly Func<string, string?, float[]> _logits;

    /// <summary>A pipeline over a Hugging Face-style sequence classifier (labels from its configuration) and its tokenizer.</summary>
    public TextClassificationPipeline(EncoderSequenceClassifier model, Tokenizer tokenizer)
    {
        model.Eval();
        Labels = Enumerable.Range(0, model.NumLabels).Select(model.Config.LabelName).ToArray();
        _logits = (text, pair) =>
        {
            var x = PipelineInput.Create(tokenizer, text, pair, model.Encoder.MaxPositions, model.Encoder.Backend);
            return model.Forward(x.Ids, x.Mask, x.TypeIds).ToArray();                        // (1, labels)
        };
    }

    /// <summary>A pipeline over a classifier that <c>sharpt classify train</c> trained (text pairs are not supported there).</summary>
    public TextClassificationPipeline(TextClassifier classifier)
    {
        classifier.Module.Eval();
        Labels = classifier.Labels.ToArray();
        _logits = (text, pair) =>
        {
            if (pair is not null) throw new NotSupportedException("TextClassificationPipeline: a sharpt classifier takes one text, not a pair.");
            var ids = classifier.Encode(text, out _);
            return classifier.Logits([ids]).ToArray();                                           // (1, labels)
        };
    }

    /// <summary>Label names by class id.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>
    /// The <paramref name="topK"/> most likely labels of <paramref name="text"/> (null: every label), best first, with their
    /// probabilities. <paramref name="textPair"/> is a second text (BERT's sentence pairs).
    /// </summary>
    public IReadOnlyList<LabelScore> Run(string text, int? topK = 1, string? textPair = null)
    {
        if (topK is <= 0) throw new ArgumentOutOfRangeException(nameof(topK), topK, "TextClassificationPipeline: topK must be positive, or null for every label.");
        float[] logits;
        using (TensorScope.Begin())
        using (GradMode.NoGrad())
            logits = _logits(text, textPair);
        var p = logits.Length == 1 ? [1f / (1f + MathF.Exp(-logits[0]))] : PipelineInput.Softmax(logits);
        return p.Select((s, i) => new LabelScore(Labels[i], s)).OrderByDescending(s => s.Score).Take(topK ?? p.Length).ToList();
    }
}
