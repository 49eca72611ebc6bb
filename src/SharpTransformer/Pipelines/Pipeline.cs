using SharpTransformer.Models;
using SharpTransformer.Models.Classification;
using SharpTransformer.Models.Tagging;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Pipelines;

/// <summary>
/// One-line tasks over a model folder, like Hugging Face's <c>pipeline(task, model=dir)</c>. Each takes a Hugging Face folder
/// (<c>config.json</c>, <c>model.safetensors</c> and the tokenizer's files, see <see cref="AutoTokenizer"/>); text generation,
/// text classification and token classification also take what the <c>sharpt</c> command trained (<c>train-lm --out</c>,
/// <c>classify train --out</c>, <c>ner train --out</c>: the folder or its checkpoint file). Models run in evaluation mode
/// without gradients.
/// </summary>
public static class Pipeline
{
    /// <summary>Text generation with a GPT-2 or Llama folder, or a <c>sharpt train-lm</c> checkpoint.</summary>
    public static TextGenerationPipeline TextGeneration(string path)
    {
        if (IsSharptCheckpoint(path, "Pipeline.TextGeneration", $"a language model ({string.Join(", ", LanguageModelCheckpoint.Kinds)})", LanguageModelCheckpoint.Kinds))
        {
            var ck = LanguageModelCheckpoint.Load(path);
            return new TextGenerationPipeline(ck.Model, ck.Tokenizer);
        }
        return new TextGenerationPipeline(AutoModelForCausalLM.FromPretrained(path), AutoTokenizer.FromPretrained(path));
    }

    /// <summary>
    /// Text classification with a BERT, DistilBERT or RoBERTa sequence-classification folder (labels from config.json's
    /// <c>id2label</c>), or a <c>sharpt classify train</c> output.
    /// </summary>
    public static TextClassificationPipeline TextClassification(string path, ICollection<string>? warnings = null)
    {
        if (IsSharptCheckpoint(path, "Pipeline.TextClassification", "a classifier", TextClassifier.Kind))
            return new TextClassificationPipeline(TextClassifier.Load(path));
        return new TextClassificationPipeline(AutoModelForSequenceClassification.FromPretrained(path, warnings), AutoTokenizer.FromPretrained(path));
    }

    /// <summary>
    /// Token classification (named entities) with a BERT, DistilBERT or RoBERTa token-classification folder, or a
    /// <c>sharpt ner train</c> output; entities are grouped as Hugging Face's <c>aggregation_strategy="simple"</c>.
    /// </summary>
    public static TokenClassificationPipeline TokenClassification(string path, ICollection<string>? warnings = null)
    {
        if (IsSharptCheckpoint(path, "Pipeline.TokenClassification", $"a tagger ({TaggerCheckpoint.Kind})", TaggerCheckpoint.Kind))
            return new TokenClassificationPipeline(TaggerCheckpoint.Load(path));
        return new TokenClassificationPipeline(AutoModelForTokenClassification.FromPretrained(path, warnings), AutoTokenizer.FromPretrained(path));
    }

    // True when path is a sharpt checkpoint (file or output folder) of one of the kinds; one of another kind is an error that
    // names it and what was wanted; false for anything else (a Hugging Face folder).
    private static bool IsSharptCheckpoint(string path, string caller, string wanted, params string[] kinds)
    {
        if (SharptCheckpointFiles.KindAt(path) is not { } kind) return false;
        if (!kinds.Contains(kind)) throw new InvalidDataException($"{caller}: '{path}' holds a sharpt '{kind}' model, not {wanted}.");
        return true;
    }

    /// <summary>Masked-token prediction with a BERT, DistilBERT or RoBERTa masked-LM or pretraining folder.</summary>
    public static FillMaskPipeline FillMask(string path, ICollection<string>? warnings = null) =>
        new(AutoModelForMaskedLM.FromPretrained(path, warnings), AutoTokenizer.FromPretrained(path));

    /// <summary>Hidden states per token (and pooled) with any folder <see cref="AutoModel"/> loads: an encoder or a decoder.</summary>
    public static FeatureExtractionPipeline FeatureExtraction(string path, ICollection<string>? warnings = null) =>
        new(AutoModel.FromPretrained(path, warnings), AutoTokenizer.FromPretrained(path));
}
