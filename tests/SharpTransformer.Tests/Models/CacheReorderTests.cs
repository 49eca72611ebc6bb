using SharpTransformer.Autograd;
using SharpTransformer.Models;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Models;

/// <summary>
/// Every cache kind: beam search's in-place row reordering, then more decoding, equals decoding the reordered batch from scratch;
/// the static cache decodes as the uncached model; the cross-attention cache projects the encoder output once.
/// </summary>
public sealed class CacheReorderTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "gpt2", "growing" }, { "gpt2", "static" }, { "llama", "growing" }, { "llama", "static" },
    };

    private static CausalLanguageModel Build(string family) => family == "gpt2"
        ? new Gpt2(Gpt2Config.Tiny, seed: 9)
        : new Llama(LlamaConfig.Tiny, seed: 9);

    private static IReadOnlyList<MultiHeadAttention> Attentions(CausalLanguageModel m) => m switch
    {
        Gpt2 g => g.Blocks.Items.Select(b => b.Attention).ToList(),
        Llama l => l.Layers.Items.Select(b => b.Attention).ToList(),
        _ => throw new ArgumentException(m.GetType().Name),
    };

    private static IKvCache[] Caches(CausalLanguageModel m, string kind, int batch) => kind == "growing"
        ? m.CreateCaches()
        : Attentions(m).Select(IKvCache (a) => new StaticKvCache(batch, a.KvHeads, m.ContextLength, a.HeadDim, a.ValueHeadDim)).ToArray();

    private static Tensor Ids(int[][] rows) => Tensor.FromArray(rows.SelectMany(r => r).ToArray(), rows.Length, rows[0].Length);

    // Logits of the last position, (B, V) as an array.
    private static float[] Last(Tensor logits) => logits.Select(1, logits.Size(1) - 1).Contiguous().ToArray();

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReorderedCachesContinueAsTheReorderedBatchFromScratch(string family, string kind)
    {
        using var _ = GradMode.NoGrad();
        var m = Build(family);
        int[][] prompts = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]];
        int[][] steps = [[13, 14, 15], [16, 17, 18], [19, 20, 21]];   // steps[s][row]
        int[] order = [2, 0, 0];

        var caches = Caches(m, kind, 3);
        m.Forward(Ids(prompts), caches);
        m.Forward(Ids(steps[0].Select(t => new[] { t }).ToArray()), caches);
        foreach (var c in caches) c.ReorderBatch(order);
        var got = new List<float[]>();
        for (int s = 1; s < steps.Length; s++) got.Add(Last(m.Forward(Ids(steps[s].Select(t => new[] { t }).ToArray()), caches)));

        var fresh = Caches(m, kind, 3);
        m.Forward(Ids(order.Select(r => prompts[r]).ToArray()), fresh);
        m.Forward(Ids(order.Select(r => new[] { steps[0][r] }).ToArray()), fresh);
        for (int s = 1; s < steps.Length; s++)
        {
            var want = Last(m.Forward(Ids(steps[s].Select(t => new[] { t }).ToArray()), fresh));
            Assert.True(want.Zip(got[s - 1]).Max(p => Math.Abs(p.First - p.Second)) < 1e-5, $"step {s}: reordered cache differs");
        }
        // And the cache agrees with the uncached model on the whole reordered sequences.
        var whole = order.Select((r, i) => prompts[r].Concat([steps[0][r], steps[1][i], steps[2][i]]).ToArray()).ToArray();
        var uncached = Last(m.Forward(Ids(whole)));
        Assert.True(uncached.Zip(got[^1]).Max(p => Math.Abs(p.First - p.Second)) < 1e-4, "cached decoding differs from the uncached model");
    }

    [Fact]
    public void CrossAttentionCacheProjectsTheEncoderOutputOnceAndReorders()
    {
        using var _ = GradMode.NoGrad();
        var g = new Generator(6);
        var attn = new MultiHeadAttention(new AttentionOptions(16, 4, Causal: false, FusedQkv: false, KvDim: 12), g);
        var enc = Tensor.RandN([3, 5, 12], g);
        var cache = new CrossAttentionCache();
        Assert.False(cache.IsComplete);
        attn.Forward(Tensor.RandN([3, 1, 16], g), cache, kvSource: enc);
        Assert.True(cache.IsComplete);
        Assert.Equal(5, cache.Length);

        // Later calls read the cache: a different source is not projected.
        var x = Tensor.RandN([3, 2, 16], g);
        var other = Tensor.RandN([3, 5, 12], g);
        var viaCache = attn.Forward(x, cache, kvSource: other).ToArray();
        var direct = attn.Forward(x, kvSource: enc).ToArray();
        Assert.True(direct.Zip(viaCache).Max(p => Math.Abs(p.First - p.Second)) < 1e-6);

        cache.ReorderBatch([2, 0, 0]);
        var reordered = enc.IndexSelect(0, Tensor.FromArray([2, 0, 0]));
        var got = attn.Forward(x, cache, kvSource: enc).ToArray();
        var want = attn.Forward(x, kvSource: reordered).ToArray();
        Assert.True(want.Zip(got).Max(p => Math.Abs(p.First - p.Second)) < 1e-6);

        Assert.Throws<InvalidOperationException>(() => cache.Append(Tensor.Zeros(3, 4, 5, 4), Tensor.Zeros(3, 4, 5, 4)));
        cache.Reset();
        Assert.False(cache.IsComplete);
        Assert.Equal(0, cache.Length);
    }

    [Fact]
    public void StaticCacheKeepsItsBatchAndCapacity()
    {
        var c = new StaticKvCache(2, 1, 4, 3, valueDim: 5);
        var (k, v) = c.Append(Tensor.Ones(2, 1, 3, 3), Tensor.Ones(2, 1, 3, 5));
        Assert.Equal([2, 1, 3, 3], k.Shape.ToArray());
        Assert.Equal([2, 1, 3, 5], v.Shape.ToArray());
        Assert.Contains("fixed at 2", Assert.Throws<ArgumentException>(() => c.ReorderBatch([0, 1, 1])).Message);
        Assert.Contains("capacity of 4", Assert.Throws<InvalidOperationException>(() => c.Append(Tensor.Ones(2, 1, 2, 3), Tensor.Ones(2, 1, 2, 5))).Message);
        Assert.Contains("do not fit", Assert.Throws<ArgumentException>(() => c.Append(Tensor.Ones(3, 1, 1, 3), Tensor.Ones(3, 1, 1, 5))).Message);
        c.Reset();
        Assert.Equal(0, c.Length);
    }
}
