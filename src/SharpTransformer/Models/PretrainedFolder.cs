using SharpTransformer.IO;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;

namespace SharpTransformer.Models;

/// <summary>
/// A Hugging Face model folder: <c>config.json</c> (read here, with its <c>model_type</c> and <c>architectures</c>) and
/// <c>model.safetensors</c>. Every missing file is an error naming its path.
/// </summary>
internal sealed class PretrainedFolder
{
    /// <summary>The model types the Auto classes build.</summary>
    public static readonly string[] SupportedModelTypes = ["gpt2", "llama", "bert", "distilbert", "roberta", "xlm-roberta", "camembert", "t5", "bart", "mistral", "qwen2",
        "mixtral", "deepseek_v2", "deepseek_v3"];

    private PretrainedFolder(string directory, HfConfigJson config)
    {
        Directory = directory;
        Config = config;
        ModelType = config.String("", "model_type");
        Architectures = config.Strings("architectures");
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }
    /// <summary>The parsed config.json.</summary>
    public HfConfigJson Config { get; }
    /// <summary>config.json's model_type ("" when absent).</summary>
    public string ModelType { get; }
    /// <summary>config.json's architectures (empty when absent).</summary>
    public IReadOnlyList<string> Architectures { get; }
    /// <summary>The path of config.json.</summary>
    public string ConfigPath => Path.Combine(Directory, "config.json");
    /// <summary>The path of model.safetensors.</summary>
    public string WeightsPath => Path.Combine(Directory, "model.safetensors");
    /// <summary>True for the BERT-family model types.</summary>
    public bool IsEncoder => ModelType is "bert" or "distilbert" or "roberta" or "xlm-roberta" or "camembert";

    /// <summary>Reads config.json of <paramref name="directory"/> (<paramref name="caller"/> names the operation in errors).</summary>
    public static PretrainedFolder Open(string directory, string caller)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!System.IO.Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{caller}: the model folder '{directory}' does not exist.");
        string config = Path.Combine(directory, "config.json");
        if (!File.Exists(config))
            throw new FileNotFoundException($"{caller}: '{config}' is missing; a Hugging Face model folder holds config.json and model.safetensors.", config);
        var folder = new PretrainedFolder(directory, HfConfigJson.Load(config));
        if (!SupportedModelTypes.Contains(folder.ModelType))
            throw new NotSupportedException($"{caller}: {config} has model_type '{folder.ModelType}'; supported: {string.Join(", ", SupportedModelTypes)}.");
        return folder;
    }

    /// <summary>Opens model.safetensors (the only weight format read: pytorch_model.bin needs converting first).</summary>
    public SafeTensorsFile OpenWeights(string caller)
    {
        string path = WeightsPath;
        if (File.Exists(path)) return SafeTensorsFile.Open(path);
        string hint = File.Exists(Path.Combine(Directory, "pytorch_model.bin"))
            ? " The folder has pytorch_model.bin, which is not read (only safetensors is): convert it with Hugging Face's save_pretrained(safe_serialization=True)."
            : File.Exists(Path.Combine(Directory, "model.safetensors.index.json")) ? " Sharded checkpoints (model.safetensors.index.json) are not supported." : "";
        throw new FileNotFoundException($"{caller}: '{path}' is missing.{hint}", path);
    }

    /// <summary>
    /// The first architecture, checked against <paramref name="supported"/>: an error names the file, the value and the supported
    /// names. An absent list gives <paramref name="fallback"/>.
    /// </summary>
    public string Architecture(string caller, IReadOnlyList<string> supported, string fallback)
    {
        if (Architectures.Count == 0) return fallback;
        string arch = Architectures[0];
        return supported.Contains(arch) ? arch
            : throw new NotSupportedException($"{caller}: {ConfigPath} has architectures ['{arch}'] (model_type '{ModelType}'); supported here: {string.Join(", ", supported)}.");
    }

    /// <summary>True for the encoder-decoder model types (t5, bart).</summary>
    public bool IsSeq2Seq => Seq2SeqModels.Supports(ModelType);

    /// <summary>The encoder-decoder of a t5 or bart folder with its weights, in evaluation mode.</summary>
    public Seq2SeqLanguageModel LoadSeq2Seq(string caller)
    {
        if (!IsSeq2Seq) throw new NotSupportedException($"{caller}: {ConfigPath} has model_type '{ModelType}', which is not an encoder-decoder; supported: {string.Join(", ", Seq2SeqModels.ModelTypes)}.");
        Architecture(caller, ModelType == "t5" ? ["T5ForConditionalGeneration", "T5Model"] : ["BartForConditionalGeneration", "BartModel"], "");
        var m = Seq2SeqModels.Create(Config);
        using var w = OpenWeights(caller);
        Seq2SeqModels.Load(m, w, w.Path);
        m.Eval();
        return m;
    }

    /// <summary>The decoder of a gpt2, llama, mistral or qwen2 folder with its weights, in evaluation mode.</summary>
    public CausalLanguageModel LoadCausal(string caller)
    {
        switch (ModelType)
        {
            case "gpt2":
                {
                    Architecture(caller, ["GPT2LMHeadModel", "GPT2Model"], "GPT2LMHeadModel");
                    var m = new Gpt2.Gpt2(Gpt2Config.FromHuggingFace(Config));
                    using var w = OpenWeights(caller);
                    m.LoadHuggingFace(w, w.Path);
                    m.Eval();
                    return m;
                }
            case "llama" or "mistral" or "qwen2":
                {
                    Architecture(caller, [Family + "ForCausalLM", Family + "Model"], Family + "ForCausalLM");
                    var m = new Llama.Llama(LlamaConfig.FromHuggingFace(Config, ModelType));
                    using var w = OpenWeights(caller);
                    m.LoadHuggingFace(w, w.Path);
                    m.Eval();
                    return m;
                }
            case "deepseek_v2" or "deepseek_v3":
                {
                    string v = ModelType == "deepseek_v2" ? "V2" : "V3";
                    Architecture(caller, [$"Deepseek{v}ForCausalLM", $"Deepseek{v}Model"], $"Deepseek{v}ForCausalLM");
                    var m = new DeepSeek.DeepSeekV2(DeepSeek.DeepSeekV2Config.FromHuggingFace(Config));
                    using var w = OpenWeights(caller);
                    m.LoadHuggingFace(w, w.Path);
                    m.Eval();
                    return m;
                }
            case "mixtral":
                {
                    Architecture(caller, ["MixtralForCausalLM", "MixtralModel"], "MixtralForCausalLM");
                    var m = new Mixtral.Mixtral(Mixtral.MixtralConfig.FromHuggingFace(Config));
                    using var w = OpenWeights(caller);
                    m.LoadHuggingFace(w, w.Path);
                    m.Eval();
                    return m;
                }
            default:
                throw new NotSupportedException($"{caller}: {ConfigPath} has model_type '{ModelType}', which is not a causal language model; supported: gpt2, llama, mistral, qwen2, mixtral, deepseek_v2, deepseek_v3.");
        }
    }

    /// <summary>
    /// The BERT-family model of <paramref name="architecture"/> (a suffix such as <c>ForSequenceClassification</c>, or <c>Model</c>)
    /// loaded from this folder whatever head its checkpoint holds: heads of other tasks are skipped, and a missing head or pooler
    /// keeps its random initialisation with a warning, as Hugging Face's Auto classes do. Evaluation mode.
    /// </summary>
    public IEncoderTaskModel LoadEncoder(string caller, string architecture, ICollection<string>? warnings)
    {
        if (!IsEncoder)
            throw new NotSupportedException($"{caller}: {ConfigPath} has model_type '{ModelType}'; supported: bert, distilbert, roberta (and xlm-roberta, camembert).");
        string[] known = ["Model", "ForPreTraining", "ForMaskedLM", "ForSequenceClassification", "ForTokenClassification"];
        Architecture(caller, known.Select(k => Family + k).ToList(), Family + "Model");
        var model = EncoderModels.Create(BertConfig.FromHuggingFaceJson(Config), [Family + architecture]);
        using var w = OpenWeights(caller);
        EncoderModels.Load(model, w, w.Path, keepMissingHead: true, warnings);
        return model;
    }

    /// <summary>The family's prefix of Hugging Face class names: GPT2, Llama, Mistral, Qwen2, Bert, DistilBert, Roberta, XLMRoberta, Camembert.</summary>
    public string Family => ModelType switch
    {
        "gpt2" => "GPT2", "llama" => "Llama", "mistral" => "Mistral", "qwen2" => "Qwen2", "mixtral" => "Mixtral", "distilbert" => "DistilBert", "roberta" => "Roberta", "xlm-roberta" => "XLMRoberta",
        "camembert" => "Camembert", _ => "Bert",
    };
}
