using System.Text.Json;
using SharpTransformer.IO;

namespace SharpTransformer.Models.Tagging;

/// <summary>
/// A word/character tagger with its vocabularies and tag names, as <c>sharpt ner train</c> saves it (one checkpoint of model
/// kind <c>word-char-tagger</c>, with <c>features</c> and <c>tags</c> among its extra entries).
/// </summary>
/// <param name="Tagger">The tagger, in evaluation mode after <see cref="Load"/>.</param>
/// <param name="Features">The word and character vocabularies.</param>
/// <param name="Tags">Tag names by id (BIO).</param>
public sealed record TaggerCheckpoint(WordCharTagger Tagger, WordFeaturizer Features, IReadOnlyList<string> Tags)
{
    /// <summary>The model kind stored in the checkpoint.</summary>
    public const string Kind = "word-char-tagger";

    /// <summary>Saves the tagger, its vocabularies and tags as a checkpoint at <paramref name="path"/>.</summary>
    public void Save(string path, int step) => Checkpoint.Save(path, Tagger, Kind, JsonSerializer.Serialize(Tagger.Config), step,
        extra: new Dictionary<string, string> { ["features"] = Features.ToJson(), ["tags"] = JsonSerializer.Serialize(Tags) });

    /// <summary>Reads the checkpoint file, or the <c>ner train --out</c> folder holding its <c>model.safetensors</c>.</summary>
    /// <exception cref="FileNotFoundException">No checkpoint at the path; the message names it.</exception>
    /// <exception cref="InvalidDataException">The checkpoint holds another kind of model or lacks an entry; the message names the file.</exception>
    public static TaggerCheckpoint Load(string path)
    {
        string file = SharptCheckpointFiles.Resolve(path, "TaggerCheckpoint.Load", "model.safetensors");
        var ck = Checkpoint.Load(file);
        if (ck.ModelKind != Kind) throw new InvalidDataException($"{file}: holds a '{ck.ModelKind}' model, not a tagger ({Kind}).");
        string Extra(string key) => ck.Metadata.TryGetValue("extra." + key, out var v) ? v : throw new InvalidDataException($"{file}: the entry '{key}' is missing.");
        var config = JsonSerializer.Deserialize<WordCharTaggerConfig>(ck.ConfigJson) ?? throw new InvalidDataException($"{file}: empty tagger configuration.");
        var tags = JsonSerializer.Deserialize<string[]>(Extra("tags")) ?? throw new InvalidDataException($"{file}: empty tag list.");
        var tagger = new WordCharTagger(config, tags);
        ck.RestoreModel(tagger);
        tagger.Eval();
        return new TaggerCheckpoint(tagger, WordFeaturizer.FromJson(Extra("features")), tags);
    }
}
