using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Models.Classification;

/// <summary>
/// Prompt-based classification with a causal language model: each label has a verbalizer (e.g. " positive"), the text is
/// put into a template (with optional in-context demonstrations before it), and a label's score is the log-probability
/// of its verbalizer's tokens after the prompt. Works zero-shot or few-shot; <see cref="Loss"/> fine-tunes the model on
/// the cross-entropy over the labels' scores (pattern-exploiting training).
/// </summary>
public sealed class PromptClassifier : Module
{
    private readonly ITokenizer _tokenizer;
    private readonly int[][] _verbalizers;
    private readonly int[] _prefix, _suffix;
    private static readonly EncodeOptions Plain = new() { AddSpecialTokens = false, ComputeOffsets = false };

    /// <summary>Creates the classifier.</summary>
    /// <param name="model">The language model.</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="template">The prompt, with <c>{text}</c> where the input goes, e.g. <c>"review: {text} sentiment:"</c>.</param>
    /// <param name="verbalizers">One string per label, scored after the prompt, e.g. <c>[" negative", " positive"]</c>.</param>
    /// <param name="demonstrations">In-context examples (text, label) put before the prompt, each filled with its verbalizer.</param>
    public PromptClassifier(CausalLanguageModel model, ITokenizer tokenizer, string template, IReadOnlyList<string> verbalizers,
        IReadOnlyList<(string Text, int Label)>? demonstrations = null)
    {
        if (!template.Contains("{text}", StringComparison.Ordinal))
            throw new ArgumentException($"PromptClassifier: the template must contain {{text}}, got '{template}'.", nameof(template));
        if (verbalizers.Count < 2) throw new ArgumentException("PromptClassifier: need at least 2 verbalizers.", nameof(verbalizers));
        _tokenizer = tokenizer;
        RegisterModule("model", model);
        Template = template;
        Verbalizers = verbalizers.ToArray();
        _verbalizers = verbalizers.Select(v => tokenizer.Encode(v, Plain).Ids).ToArray();
        for (int k = 0; k < _verbalizers.Length; k++)
            if (_verbalizers[k].Length == 0) throw new ArgumentException($"PromptClassifier: verbalizer {k} ('{verbalizers[k]}') encodes to no tokens.", nameof(verbalizers));
        string demos = "";
        foreach (var (text, label) in demonstrations ?? [])
        {
            if ((uint)label >= (uint)verbalizers.Count) throw new ArgumentException($"PromptClassifier: demonstration label {label} is outside 0..{verbalizers.Count - 1}.", nameof(demonstrations));
            demos += template.Replace("{text}", text, StringComparison.Ordinal) + verbalizers[label] + "\n";
        }
        int at = template.IndexOf("{text}", StringComparison.Ordinal);
        _prefix = tokenizer.Encode(demos + template[..at], Plain).Ids;
        _suffix = tokenizer.Encode(template[(at + "{text}".Length)..], Plain).Ids;
    }

    /// <summary>The language model.</summary>
    public CausalLanguageModel Model => Child<CausalLanguageModel>("model");
    /// <summary>The template.</summary>
    public string Template { get; }
    /// <summary>The verbalizers, one per label.</summary>
    public IReadOnlyList<string> Verbalizers { get; }

    /// <summary>The prompt ids for a text (demonstrations, template prefix, text, template suffix), the text cut to fit the context.</summary>
    public int[] PromptIds(string text)
    {
        var ids = _tokenizer.Encode(text, Plain).Ids;
        int room = Model.ContextLength - _prefix.Length - _suffix.Length - _verbalizers.Max(v => v.Length);
        if (room <= 0) throw new ArgumentException($"PromptClassifier: the template and demonstrations ({_prefix.Length + _suffix.Length} tokens) leave no room in the context of {Model.ContextLength}.");
        if (ids.Length > room) ids = ids[..room];
        return [.. _prefix, .. ids, .. _suffix];
    }

    /// <summary>Log-probabilities of each label's verbalizer after each prompt: (B, labels).</summary>
    public Tensor Scores(IReadOnlyList<int[]> prompts)
    {
        int b = prompts.Count, labels = _verbalizers.Length;
        var columns = new Tensor[labels];
        for (int k = 0; k < labels; k++)
        {
            var v = _verbalizers[k];
            int t = prompts.Max(p => p.Length) + v.Length - 1;
            var ids = new int[b * t];
            var targets = new int[b * t];
            var mask = new float[b * t];
            Array.Fill(targets, -100);
            for (int i = 0; i < b; i++)
            {
                int[] seq = [.. prompts[i], .. v];
                int n = seq.Length - 1;                                     // inputs: all but the last token
                for (int j = 0; j < n; j++) { ids[i * t + j] = seq[j]; mask[i * t + j] = 1f; }
                for (int j = 0; j < v.Length; j++) targets[i * t + prompts[i].Length - 1 + j] = v[j];
            }
            var backend = Model.Parameters().First().Backend;
            var logits = Model.Forward(Tensor.FromArray(ids, b, t).To(backend), null, null, Tensor.FromArray(mask, b, t).To(backend));   // (B, T, V)
            var nll = Functional.CrossEntropy(logits, Tensor.FromArray(targets, b, t).To(backend), reduction: Reduction.None);         // (B, T)
            columns[k] = nll.Sum(1, keepDim: true).Neg();                  // (B, 1)
        }
        return Tensor.Concat(columns, 1);                                   // (B, labels)
    }

    /// <summary>Scores of texts: (B, labels).</summary>
    public Tensor Scores(IReadOnlyList<string> texts) => Scores(texts.Select(PromptIds).ToList());

    /// <summary>Cross-entropy of the gold labels over the labels' scores (for fine-tuning).</summary>
    public Tensor Loss(IReadOnlyList<int[]> prompts, int[] labels)
    {
        var scores = Scores(prompts);
        return Functional.CrossEntropy(scores, Tensor.FromArray(labels).To(scores.Backend));
    }
}
