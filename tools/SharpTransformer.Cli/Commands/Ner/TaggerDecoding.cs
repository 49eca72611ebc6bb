using SharpTransformer.Data;
using SharpTransformer.Evaluation;
using SharpTransformer.Models.Tagging;

namespace SharpTransformer.Cli.Commands.Ner;

/// <summary>Tags of whole CoNLL sentences with a <see cref="TaggerCheckpoint"/>, in batches, for <c>ner train</c>'s dev F1, <c>eval</c> and <c>predict</c>.</summary>
internal static class TaggerDecoding
{
    /// <summary>Predicted tag names of each sentence.</summary>
    public static List<string[]> Predict(this TaggerCheckpoint model, IReadOnlyList<ConllSentence> sentences, int batchSize = 128)
    {
        var result = new string[sentences.Count][];
        model.Tagger.Eval();
        LengthSortedBatches.ForEach(sentences.Count, i => sentences[i].Length, batchSize, idx =>
        {
            var paths = model.Tagger.Decode(WordBatch.Create(model.Features, idx.Select(i => (IReadOnlyList<string>)model.Cut(sentences[i].Words)).ToList()));
            for (int j = 0; j < idx.Length; j++)
            {
                var words = sentences[idx[j]].Words;
                // Words past the model's longest sentence are tagged O.
                result[idx[j]] = Enumerable.Range(0, words.Length).Select(w => w < paths[j].Length ? model.Tags[paths[j][w]] : "O").ToArray();
            }
        });
        return result.ToList();
    }

    /// <summary>The words of a sentence that fit the tagger (the first <c>MaxWords</c>).</summary>
    public static string[] Cut(this TaggerCheckpoint model, string[] words) =>
        words.Length <= model.Tagger.Config.MaxWords ? words : words[..model.Tagger.Config.MaxWords];

    /// <summary>Entity-level precision, recall and F1 of the predicted tags against the sentences' own.</summary>
    public static EntityMetrics Evaluate(this TaggerCheckpoint model, IReadOnlyList<ConllSentence> sentences) =>
        new(model.Predict(sentences), sentences.Select(s => (IReadOnlyList<string>)s.Tags).ToList());
}
