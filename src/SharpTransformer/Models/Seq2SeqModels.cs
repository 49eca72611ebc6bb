using SharpTransformer.IO;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models.Bart;
using SharpTransformer.Models.T5;

namespace SharpTransformer.Models;

/// <summary>
/// Builds and loads the encoder-decoder families from Hugging Face folders by <c>model_type</c> (t5, bart), and writes them
/// back: what <see cref="AutoModelForSeq2SeqLM"/> and <see cref="AutoModel"/> use.
/// </summary>
public static class Seq2SeqModels
{
    /// <summary>The model types built here.</summary>
    public static readonly string[] ModelTypes = ["t5", "bart"];

    /// <summary>True when <paramref name="modelType"/> (config.json's <c>model_type</c>) is an encoder-decoder built here.</summary>
    public static bool Supports(string modelType) => ModelTypes.Contains(modelType);

    /// <summary>A randomly initialised model described by <paramref name="config"/> (its <c>model_type</c> picks the family).</summary>
    /// <exception cref="NotSupportedException">The model type or a config value is not supported; the message names the file.</exception>
    public static Seq2SeqLanguageModel Create(HfConfigJson config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.String("", "model_type") switch
        {
            "t5" => new T5.T5(T5Config.FromHuggingFace(config)),
            "bart" => new Bart.Bart(BartConfig.FromHuggingFace(config)),
            var t => throw new NotSupportedException($"Seq2SeqModels: {config.FileName} has model_type '{t}'; supported: {string.Join(", ", ModelTypes)}."),
        };
    }

    /// <summary>Loads Hugging Face weights into a model of this family; errors name <paramref name="fileName"/>.</summary>
    public static void Load(Seq2SeqLanguageModel model, ITensorSource source, string fileName)
    {
        switch (model)
        {
            case T5.T5 t: t.LoadHuggingFace(source, fileName); break;
            case Bart.Bart b: b.LoadHuggingFace(source, fileName); break;
            default: throw new NotSupportedException($"Seq2SeqModels.Load: {model.GetType().Name} has no Hugging Face loader.");
        }
    }

    /// <summary>The model's Hugging Face tensor names and where they sit.</summary>
    public static IReadOnlyList<HfBinding> HfBindings(Seq2SeqLanguageModel model) => model switch
    {
        T5.T5 t => t.HfBindings(),
        Bart.Bart b => b.HfBindings(),
        _ => throw new NotSupportedException($"Seq2SeqModels.HfBindings: {model.GetType().Name} has no Hugging Face names."),
    };

    /// <summary>
    /// The model of a Hugging Face folder (<c>config.json</c> + <c>model.safetensors</c>), weights loaded, in evaluation mode.
    /// </summary>
    /// <exception cref="FileNotFoundException">config.json or model.safetensors is missing.</exception>
    public static Seq2SeqLanguageModel FromHuggingFace(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"Seq2SeqModels.FromHuggingFace: '{configPath}' is missing.", configPath);
        var model = Create(HfConfigJson.Load(configPath));
        string weights = Path.Combine(directory, "model.safetensors");
        if (!File.Exists(weights)) throw new FileNotFoundException($"Seq2SeqModels.FromHuggingFace: '{weights}' is missing.", weights);
        using (var w = SafeTensorsFile.Open(weights)) Load(model, w, w.Path);
        model.Eval();
        return model;
    }

    /// <summary>
    /// Writes <c>config.json</c> and <c>model.safetensors</c> (F32, Hugging Face's canonical names) into <paramref name="directory"/>,
    /// a folder that <see cref="FromHuggingFace"/> and Hugging Face's <c>from_pretrained</c> read.
    /// </summary>
    public static void SaveHuggingFace(Seq2SeqLanguageModel model, string directory)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.json"), ConfigJson(model));
        var writer = new SafeTensorsWriter().Metadata("format", "pt");
        foreach (var (name, (shape, data)) in HfWeights.Export(HfBindings(model))) writer.Add(name, shape, data);
        writer.Save(Path.Combine(directory, "model.safetensors"));
    }

    private static string ConfigJson(Seq2SeqLanguageModel model)
    {
        static string Act(Bert.HiddenActivation a) => a switch { Bert.HiddenActivation.Relu => "relu", Bert.HiddenActivation.GeluTanh => "gelu_new", _ => "gelu" };
        var fields = model switch
        {
            T5.T5 { Config: var c } => new Dictionary<string, object>
            {
                ["model_type"] = "t5", ["architectures"] = new[] { "T5ForConditionalGeneration" }, ["vocab_size"] = c.VocabSize,
                ["d_model"] = c.DModel, ["d_kv"] = c.DKv, ["d_ff"] = c.DFf, ["num_layers"] = c.Layers, ["num_decoder_layers"] = c.DecoderLayers,
                ["num_heads"] = c.Heads, ["relative_attention_num_buckets"] = c.RelativeBuckets,
                ["relative_attention_max_distance"] = c.RelativeMaxDistance, ["layer_norm_epsilon"] = c.Eps,
                ["feed_forward_proj"] = c.FeedForwardProj, ["tie_word_embeddings"] = c.TieEmbeddings, ["dropout_rate"] = c.Dropout,
                ["pad_token_id"] = c.PadTokenId, ["eos_token_id"] = c.EosTokenId, ["decoder_start_token_id"] = c.DecoderStartTokenId,
                ["n_positions"] = c.MaxTargetLength, ["is_encoder_decoder"] = true,
            },
            Bart.Bart { Config: var c } => new Dictionary<string, object>
            {
                ["model_type"] = "bart", ["architectures"] = new[] { "BartForConditionalGeneration" }, ["vocab_size"] = c.VocabSize,
                ["d_model"] = c.DModel, ["encoder_layers"] = c.EncoderLayers, ["decoder_layers"] = c.DecoderLayers,
                ["encoder_attention_heads"] = c.EncoderHeads, ["decoder_attention_heads"] = c.DecoderHeads,
                ["encoder_ffn_dim"] = c.EncoderFfn, ["decoder_ffn_dim"] = c.DecoderFfn, ["max_position_embeddings"] = c.MaxPositions,
                ["activation_function"] = Act(c.Activation), ["scale_embedding"] = c.ScaleEmbedding, ["tie_word_embeddings"] = c.TieEmbeddings,
                ["dropout"] = c.Dropout, ["pad_token_id"] = c.PadTokenId, ["eos_token_id"] = c.EosTokenId,
                ["decoder_start_token_id"] = c.DecoderStartTokenId, ["is_encoder_decoder"] = true,
            },
            _ => throw new NotSupportedException($"Seq2SeqModels.SaveHuggingFace: {model.GetType().Name} has no Hugging Face config."),
        };
        return System.Text.Json.JsonSerializer.Serialize(fields, new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }
}
