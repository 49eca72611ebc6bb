using SharpTransformer.Generation;
using SharpTransformer.Models;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Pipelines;

/// <summary>The text a <see cref="TextGenerationPipeline"/> produced.</summary>
/// <param name="Text">The prompt followed by the new text (Hugging Face's <c>generated_text</c> with <c>return_full_text=True</c>).</param>
/// <param name="NewText">The new text only (special tokens left out).</param>
/// <param name="NewIds">The new token ids.</param>
public sealed record GeneratedText(string Text, string NewText, int[] NewIds);

/// <summary>
/// Continues a prompt with a causal language model (Hugging Face's <c>text-generation</c> pipeline). Greedy by default, as
/// Hugging Face's default generation config; generation stops after the tokenizer's end-of-sequence token.
/// </summary>
public sealed class TextGenerationPipeline
{
    private readonly TextGenerator _generator;

    /// <summary>A pipeline over <paramref name="model"/> (put in evaluation mode here) and its tokenizer.</summary>
    public TextGenerationPipeline(CausalLanguageModel model, Tokenizer tokenizer)
    {
        Model = model;
        Tokenizer = tokenizer;
        model.Eval();
        _generator = new TextGenerator(model);
    }

    /// <summary>The model.</summary>
    public CausalLanguageModel Model { get; }
    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The options used when none are given: greedy, 50 new tokens, the prompt cut to the context window if longer.</summary>
    public static GenerationOptions DefaultOptions { get; } = new(MaxNewTokens: 50, Greedy: true, TruncatePrompt: true);

    /// <summary>
    /// Generates after <paramref name="prompt"/> (encoded with the tokenizer's special tokens; an empty prompt starts from the
    /// beginning-of-sequence token). The tokenizer's end-of-sequence token, when it has one, is added to the stop tokens.
    /// </summary>
    public GeneratedText Run(string prompt, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        options ??= DefaultOptions;
        var ids = Tokenizer.Encode(prompt);
        if (ids.Length == 0)
            ids = Tokenizer.BosId is int bos ? [bos] : throw new ArgumentException("TextGenerationPipeline: the prompt is empty and the tokenizer has no beginning-of-sequence token to start from.", nameof(prompt));
        if (Tokenizer.EosId is int eos && !(options.StopTokens?.Contains(eos) ?? false))
            options = options with { StopTokens = [.. options.StopTokens ?? [], eos] };
        var output = _generator.Generate(ids, options);
        string added = Tokenizer.Decode(output, skipSpecialTokens: true);
        return new GeneratedText(prompt + added, added, output);
    }
}
