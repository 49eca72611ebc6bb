using SharpTransformer.Autograd;
using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Tagging;
using SharpTransformer.Tensors;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Pipelines;

/// <summary>
/// Finds entities in a text (Hugging Face's <c>token-classification</c> / <c>ner</c> pipeline with
/// <c>aggregation_strategy="simple"</c>): each token gets its most likely tag and that tag's probability; consecutive tokens
/// whose tags share a type are grouped unless a <c>B-</c> tag starts a new entity; groups tagged <c>O</c> are dropped. Each
/// entity carries its character offsets into the input.
/// </summary>
public sealed class TokenClassificationPipeline
{
    private readonly Func<string, List<(string Tag, float Score, int Start, int End)>> _tokens;

    /// <summary>A pipeline over a Hugging Face-style token classifier (labels from its configuration) and its tokenizer.</summary>
    public TokenClassificationPipeline(BertForTokenClassification model, Tokenizer tokenizer)
    {
        model.Eval();
        Labels = Enumerable.Range(0, model.NumLabels).Select(model.Config.LabelName).ToArray();
        _tokens = text =>
        {
            var x = PipelineInput.Create(tokenizer, text, null, model.Encoder.MaxPositions, model.Encoder.Backend);
            var logits = model.Forward(x.Ids, x.Mask, x.TypeIds).ToArray();                    // (1, T, labels)
            int k = Labels.Count;
            var r = new List<(string, float, int, int)>();
            for (int t = 0; t < x.Encoding.Length; t++)
            {
                if (x.Encoding.SpecialTokensMask[t] == 1) continue;
                var (tag, score) = Best(PipelineInput.Softmax(logits.AsSpan(t * k, k)));
                r.Add((tag, score, x.Encoding.Offsets[t].Start, x.Encoding.Offsets[t].End));
            }
            return r;
        };
    }

    /// <summary>
    /// A pipeline over a tagger that <c>sharpt ner train</c> trained: the text is split into words (runs of letters and digits;
    /// each other non-space character is a word of its own), and each word gets the tag the tagger decodes, scored by the
    /// softmax of its emission scores.
    /// </summary>
    public TokenClassificationPipeline(TaggerCheckpoint tagger)
    {
        tagger.Tagger.Eval();
        Labels = tagger.Tags.ToArray();
        _tokens = text =>
        {
            var words = SplitWords(text);
            if (words.Count == 0) return [];
            words = words.Take(tagger.Tagger.Config.MaxWords).ToList();
            var batch = WordBatch.Create(tagger.Features, [words.Select(w => text[w.Start..w.End]).ToList()]);
            var emissions = tagger.Tagger.Forward(batch).ToArray();                            // (1, W, tags)
            var path = tagger.Tagger.Decode(batch)[0];
            int k = Labels.Count;
            return words.Select((w, j) => (Labels[path[j]], PipelineInput.Softmax(emissions.AsSpan(j * k, k))[path[j]], w.Start, w.End)).ToList();
        };
    }

    /// <summary>Tag names by id.</summary>
    public IReadOnlyList<string> Labels { get; }

    private (string Tag, float Score) Best(float[] p)
    {
        int best = 0;
        for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
        return (Labels[best], p[best]);
    }

    /// <summary>The entities of <paramref name="text"/>, in order.</summary>
    public IReadOnlyList<TaggedEntity> Run(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        List<(string Tag, float Score, int Start, int End)> tokens;
        using (TensorScope.Begin())
        using (GradMode.NoGrad())
            tokens = _tokens(text);
        return Group(text, tokens);
    }

    // Hugging Face's group_entities: a token joins the current group when its type matches and its tag is not B-.
    internal static List<TaggedEntity> Group(string text, IReadOnlyList<(string Tag, float Score, int Start, int End)> tokens)
    {
        var result = new List<TaggedEntity>();
        var group = new List<(string Tag, float Score, int Start, int End)>();
        void Flush()
        {
            if (group.Count == 0) return;
            string type = Split(group[0].Tag).Type;
            if (type != "O")
            {
                int start = group[0].Start, end = group[^1].End;
                result.Add(new TaggedEntity(type, group.Average(g => g.Score), text[start..end], start, end));
            }
            group.Clear();
        }
        foreach (var t in tokens)
        {
            var (bi, type) = Split(t.Tag);
            if (group.Count > 0 && (type != Split(group[^1].Tag).Type || bi == "B")) Flush();
            group.Add(t);
        }
        Flush();
        return result;
    }

    // "B-PER" → (B, PER); "I-PER" → (I, PER); anything else (O, PER) → (I, itself), as Hugging Face's get_tag.
    private static (string Bi, string Type) Split(string tag) =>
        tag.Length > 2 && tag[1] == '-' && tag[0] is 'B' or 'I' ? (tag[..1], tag[2..]) : ("I", tag);

    // Runs of letters and digits, and every other non-space character alone, with their offsets.
    internal static List<(int Start, int End)> SplitWords(string text)
    {
        var r = new List<(int, int)>();
        int i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i])) { i++; continue; }
            int start = i;
            if (char.IsLetterOrDigit(text[i])) while (i < text.Length && char.IsLetterOrDigit(text[i])) i++;
            else i += char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            r.Add((start, i));
        }
        return r;
    }
}
