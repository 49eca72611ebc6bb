using System.Text.Json;
using SharpTransformer.IO;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Models;

/// <summary>
/// A causal language model and its tokenizer restored from a checkpoint that <c>sharpt train-lm</c> writes (model kind
/// <c>gpt2</c>, <c>llama</c> or <c>mixtral</c>, the config as JSON, the tokenizer inside), in evaluation mode.
/// </summary>
/// <param name="Model">The model.</param>
/// <param name="Tokenizer">Its tokenizer.</param>
/// <param name="Path">The checkpoint file read.</param>
public sealed record LanguageModelCheckpoint(CausalLanguageModel Model, Tokenizer Tokenizer, string Path)
{
    /// <summary>The model kinds read here.</summary>
    public static readonly string[] Kinds = ["gpt2", "llama", "mixtral", "deepseek"];

    /// <summary>
    /// Reads <paramref name="path"/>: a checkpoint file, or a <c>train-lm --out</c> folder (its <c>best.safetensors</c>, else
    /// <c>last.safetensors</c>).
    /// </summary>
    /// <exception cref="FileNotFoundException">No checkpoint at the path; the message names it.</exception>
    /// <exception cref="InvalidDataException">The file is not a language-model checkpoint; the message names it and the kind found.</exception>
    public static LanguageModelCheckpoint Load(string path)
    {
        string file = SharptCheckpointFiles.Resolve(path, "LanguageModelCheckpoint.Load", "best.safetensors", "last.safetensors", "model.safetensors");
        var ck = Checkpoint.Load(file);
        CausalLanguageModel model = ck.ModelKind switch
        {
            "gpt2" => new Gpt2.Gpt2(JsonSerializer.Deserialize<Gpt2.Gpt2Config>(ck.ConfigJson)
                ?? throw new InvalidDataException($"{file}: empty GPT-2 configuration.")),
            "llama" => new Llama.Llama(JsonSerializer.Deserialize<Llama.LlamaConfig>(ck.ConfigJson)
                ?? throw new InvalidDataException($"{file}: empty Llama configuration.")),
            "mixtral" => new Mixtral.Mixtral(JsonSerializer.Deserialize<Mixtral.MixtralConfig>(ck.ConfigJson)
                ?? throw new InvalidDataException($"{file}: empty Mixtral configuration.")),
            "deepseek" => new DeepSeek.DeepSeekV2(JsonSerializer.Deserialize<DeepSeek.DeepSeekV2Config>(ck.ConfigJson)
                ?? throw new InvalidDataException($"{file}: empty DeepSeek-V2 configuration.")),
            var k => throw new InvalidDataException($"{file}: holds a '{k}' model, not a language model ({string.Join(", ", Kinds)})."),
        };
        ck.RestoreModel(model);
        model.Eval();
        var tok = TokenizerSnapshot.Restore(ck.TokenizerJson ?? throw new InvalidDataException($"{file}: the checkpoint holds no tokenizer."));
        return new LanguageModelCheckpoint(model, tok, file);
    }
}
