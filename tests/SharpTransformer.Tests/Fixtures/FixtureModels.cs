using SharpTransformer.IO;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Models.Mixtral;

namespace SharpTransformer.Tests.Fixtures;

/// <summary>Builds a model from a Hugging Face folder by <c>model_type</c>.</summary>
internal static class FixtureModels
{
    /// <summary>The decoder families the fixture tests build.</summary>
    public static readonly string[] DecoderTypes = ["gpt2", "llama", "qwen2", "mistral", "mixtral", "deepseek_v2", "deepseek_v3"];

    /// <summary>True when the fixture tests can build a model of this <c>model_type</c> (a decoder here, an encoder of <see cref="EncoderModels"/> or an encoder-decoder).</summary>
    public static bool Supports(string modelType) =>
        DecoderTypes.Contains(modelType) || EncoderModels.Supports(modelType) || global::SharpTransformer.Models.Seq2SeqModels.Supports(modelType);

    /// <summary>The <c>model_type</c> of the folder's config.json.</summary>
    public static string ModelType(string dir) => HfConfigJson.Load(Path.Combine(dir, "config.json")).String("", "model_type");

    /// <summary>Builds the decoder described by config.json in <paramref name="dir"/> and loads its model.safetensors.</summary>
    public static FixtureDecoder Load(string dir)
    {
        var cfg = HfConfigJson.Load(Path.Combine(dir, "config.json"));
        using var weights = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        switch (cfg.String(null, "model_type"))
        {
            case "gpt2":
                {
                    var m = new Gpt2(Gpt2Config.FromHuggingFace(cfg));
                    m.LoadHuggingFace(weights, weights.Path);
                    return new(m, m.HfBindings(), TiedHead: true, "wte.weight");
                }
            case "llama" or "qwen2" or "mistral":
                {
                    var m = new Llama(LlamaConfig.FromHuggingFace(cfg));
                    m.LoadHuggingFace(weights, weights.Path);
                    return new(m, m.HfBindings(), TiedHead: m.LmHead is null, "model.embed_tokens.weight");
                }
            case "mixtral":
                {
                    var m = new Mixtral(MixtralConfig.FromHuggingFace(cfg));
                    m.LoadHuggingFace(weights, weights.Path);
                    return new(m, m.HfBindings(), TiedHead: m.LmHead is null, "model.embed_tokens.weight");
                }
            case "deepseek_v2" or "deepseek_v3":
                {
                    var m = new SharpTransformer.Models.DeepSeek.DeepSeekV2(SharpTransformer.Models.DeepSeek.DeepSeekV2Config.FromHuggingFace(cfg));
                    m.LoadHuggingFace(weights, weights.Path);
                    return new(m, m.HfBindings(), TiedHead: m.LmHead is null, "model.embed_tokens.weight");
                }
            case var t:
                throw new NotSupportedException($"{dir}: model_type '{t}' has no builder.");
        }
    }
}
