using SharpTransformer.Autograd;
using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Pipelines;

/// <summary>
/// The hidden states of a text (Hugging Face's <c>feature-extraction</c> pipeline): per token, their mean, and the pooler's output
/// where the model has one. Works on encoders (<see cref="EncoderModel"/>) and decoders (<see cref="CausalLanguageModel"/>,
/// whose final hidden states before the head are used).
/// </summary>
public sealed class FeatureExtractionPipeline
{
    private readonly Func<PipelineInput, (Tensor Hidden, Tensor? Pooled)> _run;
    private readonly int _maxLength;
    private readonly Backends.IBackend? _backend;

    /// <summary>A pipeline over an encoder or a decoder and its tokenizer.</summary>
    /// <exception cref="ArgumentException">The model is neither an <see cref="EncoderModel"/> nor a <see cref="CausalLanguageModel"/>.</exception>
    public FeatureExtractionPipeline(Module model, Tokenizer tokenizer)
    {
        Model = model;
        Tokenizer = tokenizer;
        model.Eval();
        switch (model)
        {
            case EncoderModel encoder:
                _maxLength = encoder.MaxPositions;
                _backend = encoder.Backend;
                _run = x => { var o = encoder.Encode(x.Ids, x.Mask, x.TypeIds); return (o.LastHiddenState, o.PooledOutput); };
                break;
            case CausalLanguageModel decoder:
                _maxLength = decoder.ContextLength;
                _backend = decoder.Backend;
                _run = x => (decoder.Hidden(x.Ids), null);
                break;
            default:
                throw new ArgumentException($"FeatureExtractionPipeline: {model.GetType().Name} is neither an EncoderModel nor a CausalLanguageModel.", nameof(model));
        }
    }

    /// <summary>The model.</summary>
    public Module Model { get; }
    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The features of <paramref name="text"/> (and of <paramref name="textPair"/>, a second text, for encoders that take pairs).</summary>
    public TextFeatures Run(string text, string? textPair = null)
    {
        using var scope = TensorScope.Begin();
        using var _ = GradMode.NoGrad();
        var x = PipelineInput.Create(Tokenizer, text, textPair, _maxLength, _backend);
        var (hidden, pooled) = _run(x);                                                       // (1, T, C), (1, C)
        int t = hidden.Size(1), c = hidden.Size(2);
        var h = hidden.ToArray();
        var tokens = Enumerable.Range(0, t).Select(i => h.AsSpan(i * c, c).ToArray()).ToArray();
        var mean = new float[c];
        for (int j = 0; j < c; j++)
        {
            double s = 0;
            for (int i = 0; i < t; i++) s += tokens[i][j];
            mean[j] = (float)(s / t);
        }
        return new TextFeatures(tokens, mean, pooled?.ToArray(), x.Encoding.Ids);
    }
}
