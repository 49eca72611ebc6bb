using SharpTransformer.Autograd;
using SharpTransformer.Generation;
using SharpTransformer.Models;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Models;

public class DecodingConsistencyTests
{
    public static TheoryData<string> Families => new() { "gpt2", "llama" };

    private static CausalLanguageModel Build(string family, int context) => family switch
    {
        "gpt2" => new Gpt2(Gpt2Config.Tiny with { ContextLength = context }, seed: 5),
        _ => new Llama(LlamaConfig.Tiny with { ContextLength = context }, seed: 5),
    };

    // 200 greedy steps: the KV-cached decoder must pick the same tokens and produce the same logits (1e-4) as
    // recomputing the whole sequence at every step.
    [Theory]
    [MemberData(nameof(Families))]
    public void CachedAndUncachedDecodingAgreeOver200Steps(string family)
    {
        var model = Build(family, 256);
        int[] prompt = [1, 5, 9, 2];
        var opts = new GenerationOptions(MaxNewTokens: 200, Greedy: true);
        var cached = new TextGenerator(model).Generate(prompt, opts);
        var uncached = new TextGenerator(model).Generate(prompt, opts with { UseCache = false });
        Assert.Equal(200, cached.Length);
        Assert.Equal(uncached, cached);

        using var _ = GradMode.NoGrad();
        var all = prompt.Concat(cached).ToArray();
        var full = model.Forward(Tensor.FromArray(all, 1, all.Length)).ToArray();   // (1, T, V)
        var caches = model.CreateCaches();
        int v = model.VocabSize;
        double maxDiff = 0;
        var first = model.Forward(Tensor.FromArray(prompt, 1, prompt.Length), caches).ToArray();
        for (int t = 0; t < prompt.Length; t++)
            for (int j = 0; j < v; j++) maxDiff = Math.Max(maxDiff, Math.Abs(first[t * v + j] - full[t * v + j]));
        for (int t = prompt.Length; t < all.Length; t++)
        {
            var step = model.Forward(Tensor.FromArray([all[t]], 1, 1), caches).ToArray();
            for (int j = 0; j < v; j++) maxDiff = Math.Max(maxDiff, Math.Abs(step[j] - full[t * v + j]));
        }
        Assert.True(maxDiff < 1e-4, $"cached and uncached logits differ by {maxDiff}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void LeftPaddedBatchMatchesSingleSequences(string family)
    {
        var model = Build(family, 64);
        int[][] prompts = [[3, 4, 5, 6, 7], [8, 9], [10, 11, 12]];
        var opts = new GenerationOptions(MaxNewTokens: 12, Greedy: true);
        var gen = new TextGenerator(model);
        var batched = gen.GenerateBatch(prompts, opts);
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(gen.Generate(prompts[i], opts), batched[i]);
    }

    [Fact]
    public void PromptLongerThanContextThrowsUnlessTruncationIsAsked()
    {
        var model = Build("gpt2", 16);
        var prompt = Enumerable.Range(0, 20).Select(i => i % 60).ToArray();
        var gen = new TextGenerator(model);
        var e = Assert.Throws<ArgumentException>(() => gen.Generate(prompt, new GenerationOptions(MaxNewTokens: 2, Greedy: true)));
        Assert.Contains("20 tokens", e.Message);
        Assert.Contains("16", e.Message);
        var r = gen.Generate(prompt, new GenerationOptions(MaxNewTokens: 2, Greedy: true, TruncatePrompt: true, UseCache: false));
        Assert.Equal(2, r.Length);
    }

    [Fact]
    public void SamplingIsSeededAndStopsAtStopToken()
    {
        var model = Build("gpt2", 64);
        var gen = new TextGenerator(model);
        var o = new GenerationOptions(MaxNewTokens: 30, Temperature: 1.5f, TopK: 10, TopP: 0.9f, Seed: 42);
        var a = gen.Generate([1, 2], o);
        Assert.Equal(a, gen.Generate([1, 2], o));
        Assert.NotEqual(a, gen.Generate([1, 2], o with { Seed = 43 }));
        var stop = a[3];
        var s = gen.Generate([1, 2], o with { StopTokens = [stop] });
        Assert.Equal(stop, s[^1]);
        Assert.True(s.Length <= 4);
    }

    [Fact]
    public async Task StreamingYieldsTheSameTokensAsGenerate()
    {
        var model = Build("llama", 64);
        var gen = new TextGenerator(model);
        var o = new GenerationOptions(MaxNewTokens: 10, Greedy: true);
        var expected = gen.Generate([7, 8], o);
        var pieces = new List<string>();
        await foreach (var p in gen.StreamTextAsync([7, 8], o, ids => string.Concat(ids.Select(i => (char)('A' + i % 26)))))
            pieces.Add(p);
        Assert.Equal(string.Concat(expected.Select(i => (char)('A' + i % 26))), string.Concat(pieces));
    }
}
