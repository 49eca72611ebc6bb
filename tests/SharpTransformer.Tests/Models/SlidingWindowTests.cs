using SharpTransformer.Autograd;
using SharpTransformer.Generation;
using SharpTransformer.IO;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models;
using SharpTransformer.Models.Llama;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Models;

/// <summary>
/// Mistral-style sliding-window attention and its cache (<see cref="SlidingWindowKvCache"/>): cached decoding equals uncached
/// decoding with the window, well past the window; the cache's memory stays bounded; beams reorder; a Mistral and a Qwen2
/// config.json with a window load through AutoModel (saved weights round trip); a window larger than the context is an error.
/// </summary>
public class SlidingWindowTests
{
    private static LlamaConfig Windowed(int window, int context = 128) => LlamaConfig.Tiny with { ContextLength = context, SlidingWindow = window };

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(8)]
    public void CachedDecodingEqualsUncachedPastTheWindow(int window)
    {
        var model = new SharpTransformer.Models.Llama.Llama(Windowed(window), seed: 11);
        int[] ids = Enumerable.Range(0, 40).Select(i => (i * 13 + 5) % 64).ToArray();
        using var _ = GradMode.NoGrad();
        var full = model.Forward(Tensor.FromArray(ids, 1, ids.Length)).ToArray();   // (1, 40, V)
        var caches = model.CreateCaches();
        Assert.All(caches, c => Assert.IsType<SlidingWindowKvCache>(c));
        int v = model.VocabSize;
        // prefill of 11 (longer than the window), then one token at a time, then a chunk of 6, then singles
        int t = 0;
        foreach (int chunk in new[] { 11 }.Concat(Enumerable.Repeat(1, 10)).Concat([6]).Concat(Enumerable.Repeat(1, 13)))
        {
            var got = model.Forward(Tensor.FromArray(ids[t..(t + chunk)], 1, chunk), caches).ToArray();
            for (int j = 0; j < chunk * v; j++)
                Assert.True(Math.Abs(got[j] - full[t * v + j]) < 1e-4, $"window {window}: position {t + j / v} differs: {got[j]} vs {full[t * v + j]}");
            t += chunk;
        }
        Assert.Equal(ids.Length, t);
        Assert.Equal(ids.Length, caches[0].Length);
        Assert.Equal(Math.Min(window - 1, ids.Length), ((SlidingWindowKvCache)caches[0]).Retained);

        // and the window really changes the result (a full-attention model with the same weights differs after the window)
        var fullAttention = new SharpTransformer.Models.Llama.Llama(LlamaConfig.Tiny with { ContextLength = 128 }, seed: 11);
        var other = fullAttention.Forward(Tensor.FromArray(ids, 1, ids.Length)).ToArray();
        Assert.NotEqual(other[(ids.Length - 1) * v], full[(ids.Length - 1) * v]);
    }

    [Fact]
    public void GreedyGenerationWithTheWindowCacheEqualsUncached()
    {
        var model = new SharpTransformer.Models.Llama.Llama(Windowed(6, 96), seed: 3);
        int[] prompt = [1, 5, 9, 2, 7];
        var opts = new GenerationOptions(MaxNewTokens: 60, Greedy: true);
        Assert.Equal(new TextGenerator(model).Generate(prompt, opts with { UseCache = false }), new TextGenerator(model).Generate(prompt, opts));
    }

    [Fact]
    public void MemoryIsBoundedByTheWindow()
    {
        var cache = new SlidingWindowKvCache(8);
        var k = Tensor.Ones([2, 3, 1, 4]);
        var v = Tensor.Ones([2, 3, 1, 5]);
        long bytes = 0;
        for (int i = 0; i < 100; i++)
        {
            var (keys, values) = cache.Append(k, v);
            Assert.Equal(Math.Min(i + 1, 8), keys.Size(2));
            Assert.Equal(keys.Size(2), values.Size(2));
            if (i == 0) bytes = cache.Bytes;
            Assert.Equal(bytes, cache.Bytes);
        }
        Assert.Equal(4L * 2 * 3 * 16 * (4 + 5), bytes);   // 2·window positions
        Assert.Equal(100, cache.Length);
        Assert.Equal(7, cache.Stored().Keys.Size(2));
    }

    [Fact]
    public void AppendKeepsPositionsInOrderAndReorderBatchMovesRows()
    {
        var cache = new SlidingWindowKvCache(4);
        Tensor Pos(int start, int t) =>   // (2, 1, t, 1): batch row r holds 100·r + position
            Tensor.FromArray(Enumerable.Range(0, 2).SelectMany(r => Enumerable.Range(start, t).Select(p => 100f * r + p)).ToArray(), 2, 1, t, 1);
        int at = 0;
        foreach (int t in new[] { 3, 1, 1, 1, 9, 1, 2, 1 })
        {
            var (keys, _) = cache.Append(Pos(at, t), Pos(at, t));
            int kept = Math.Min(at, 3);
            Assert.Equal(Enumerable.Range(at - kept, kept + t).Select(p => (float)p).ToArray(), keys.Narrow(0, 0, 1).Reshape(-1).ToArray());
            at += t;
        }
        cache.ReorderBatch([1, 1, 0]);
        var (k2, _) = cache.Stored();
        Assert.Equal([3, 1, 3, 1], k2.Shape.ToArray());
        Assert.Equal(new[] { 100f + at - 3, 100f + at - 2, 100f + at - 1 }, k2.Narrow(0, 1, 1).Reshape(-1).ToArray());
        Assert.Equal(new[] { (float)at - 3, at - 2, at - 1 }, k2.Narrow(0, 2, 1).Reshape(-1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.ReorderBatch([3]));
    }

    [Fact]
    public void MistralConfigJsonWithAWindowRoundTripsThroughAutoModel()
    {
        string dir = Path.Combine(Path.GetTempPath(), "sharpt-mistral-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "config.json"), """
                {"model_type": "mistral", "architectures": ["MistralForCausalLM"], "vocab_size": 64, "hidden_size": 32,
                 "intermediate_size": 88, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
                 "max_position_embeddings": 64, "rope_theta": 10000.0, "rms_norm_eps": 1e-5, "sliding_window": 6,
                 "tie_word_embeddings": false}
                """);
            var source = new SharpTransformer.Models.Llama.Llama(LlamaConfig.FromHuggingFace(HfConfigJson.Load(Path.Combine(dir, "config.json"))), seed: 21);
            Assert.Equal(6, source.Config.SlidingWindow);
            for (int i = 0; i < source.Layers.Count; i++) Assert.Equal(6, source.Layers[i].Attention.Options.Window);
            var w = new SafeTensorsWriter();
            foreach (var b in source.HfBindings()) w.Add(b.HfName, b.Target.Shape.ToArray(), b.Target.ToArray());
            w.Save(Path.Combine(dir, "model.safetensors"));

            var loaded = AutoModelForCausalLM.FromPretrained(dir);
            var m = Assert.IsType<SharpTransformer.Models.Llama.Llama>(loaded);
            Assert.Equal(source.Config, m.Config);
            int[] ids = Enumerable.Range(0, 30).Select(i => (i * 5 + 1) % 64).ToArray();
            using var _ = GradMode.NoGrad();
            source.Eval();
            Assert.Equal(source.Forward(Tensor.FromArray(ids, 1, 30)).ToArray(), m.Forward(Tensor.FromArray(ids, 1, 30)).ToArray());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Qwen2WindowAppliesFromMaxWindowLayersOnlyWhenEnabled()
    {
        const string Base = "\"model_type\": \"qwen2\", \"hidden_size\": 32, \"num_attention_heads\": 4, \"num_hidden_layers\": 4, \"max_position_embeddings\": 64, \"sliding_window\": 16";
        var off = LlamaConfig.FromHuggingFace(new HfConfigJson("{" + Base + ", \"use_sliding_window\": false, \"max_window_layers\": 2}"));
        Assert.Null(off.SlidingWindow);
        Assert.True(off.QkvBias);
        Assert.False(off.OutputBias);
        var on = LlamaConfig.FromHuggingFace(new HfConfigJson("{" + Base + ", \"use_sliding_window\": true, \"max_window_layers\": 2}"));
        Assert.Equal(new int?[] { null, null, 16, 16 }, Enumerable.Range(0, 4).Select(on.WindowOf).ToArray());
        var model = new SharpTransformer.Models.Llama.Llama(on with { VocabSize = 64, Intermediate = 40 });
        Assert.Equal([typeof(KvCache), typeof(KvCache), typeof(SlidingWindowKvCache), typeof(SlidingWindowKvCache)], model.CreateCaches().Select(c => c.GetType()));
        Assert.NotNull(model.Layers[0].Attention.Query!.Bias);
        Assert.Null(model.Layers[0].Attention.Output.Bias);
        // a window larger than the context is refused only where it applies (the fixture's 32768 with the window off loads)
        var e = Assert.Throws<ArgumentException>(() => LlamaConfig.FromHuggingFace(new HfConfigJson("""{"model_type": "mistral", "max_position_embeddings": 64, "sliding_window": 65}""", "x/config.json")));
        Assert.Contains("sliding_window 65", e.Message);
        Assert.Contains("max_position_embeddings = 64", e.Message);
        Assert.Contains("x/config.json", e.Message);
        Assert.Null(LlamaConfig.FromHuggingFace(new HfConfigJson("{" + Base.Replace("16", "32768") + ", \"use_sliding_window\": false}")).SlidingWindow);
        Assert.Throws<ArgumentException>(() => new SharpTransformer.Models.Llama.Llama(LlamaConfig.Tiny with { SlidingWindow = 65 }));
    }
}
