using System.Text.Json;
using SharpTransformer.Data;
using SharpTransformer.Evaluation;
using SharpTransformer.IO;
using SharpTransformer.Models.Tagging;
using SharpTransformer.Tensors;

namespace SharpTransformer.Cli.Commands.Ner;

/// <summary>A word/character tagger with its vocabularies and tag names; saved as one checkpoint.</summary>
internal sealed class NerModel(WordCharTagger tagger, WordFeaturizer features, string[] tags)
{
    public WordCharTagger Tagger { get; } = tagger;
    public WordFeaturizer Features { get; } = features;
    public string[] Tags { get; } = tags;

    public void Save(string path, int step) => Checkpoint.Save(path, Tagger, "word-char-tagger", JsonSerializer.Serialize(Tagger.Config), step,
        extra: new Dictionary<string, string> { ["features"] = Features.ToJson(), ["tags"] = JsonSerializer.Serialize(Tags) });

    public static NerModel Load(string dir)
    {
        string path = Directory.Exists(dir) ? Path.Combine(dir, "model.safetensors") : dir;
        if (!File.Exists(path)) throw new CliException($"checkpoint not found: {path}");
        var ck = CheckpointFile.Read(path);
        if (ck.ModelKind != "word-char-tagger") throw new CliException($"{path}: holds a '{ck.ModelKind}' model, not a tagger.");
        var config = JsonSerializer.Deserialize<WordCharTaggerConfig>(ck.ConfigJson)!;
        var tags = JsonSerializer.Deserialize<string[]>(ck.Metadata["extra.tags"])!;
        var model = new NerModel(new WordCharTagger(config, tags), WordFeaturizer.FromJson(ck.Metadata["extra.features"]), tags);
        ck.RestoreModel(model.Tagger);
        model.Tagger.Eval();
        return model;
    }

    /// <summary>Predicted tag names of each sentence.</summary>
    public List<string[]> Predict(IReadOnlyList<ConllSentence> sentences, int batchSize = 128)
    {
        var result = new string[sentences.Count][];
        Tagger.Eval();
        using var _ = Autograd.GradMode.NoGrad();
        var order = Enumerable.Range(0, sentences.Count).OrderBy(i => sentences[i].Length).ToArray();
        for (int s = 0; s < order.Length; s += batchSize)
        {
            using var scope = TensorScope.Begin();
            var idx = order.Skip(s).Take(batchSize).ToArray();
            var paths = Tagger.Decode(WordBatch.Create(Features, idx.Select(i => (IReadOnlyList<string>)Cut(sentences[i].Words)).ToList()));
            for (int j = 0; j < idx.Length; j++)
            {
                var words = sentences[idx[j]].Words;
                // Words past the model's longest sentence are tagged O.
                result[idx[j]] = Enumerable.Range(0, words.Length).Select(w => w < paths[j].Length ? Tags[paths[j][w]] : "O").ToArray();
            }
        }
        return result.ToList();
    }

    public string[] Cut(string[] words) => words.Length <= Tagger.Config.MaxWords ? words : words[..Tagger.Config.MaxWords];

    public EntityMetrics Evaluate(IReadOnlyList<ConllSentence> sentences) =>
        new(Predict(sentences), sentences.Select(s => (IReadOnlyList<string>)s.Tags).ToList());
}
