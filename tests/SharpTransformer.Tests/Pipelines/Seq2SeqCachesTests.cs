using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Pipelines;

public sealed class Seq2SeqCachesTests
{
    // k and v (B=3, H=1, T=1, D=2) whose row i holds i + offset.
    private static Tensor Rows(float offset) => Tensor.FromArray(new[] { offset, offset, 1 + offset, 1 + offset, 2 + offset, 2 + offset }, 3, 1, 1, 2);

    [Fact]
    public void ReorderBatchReordersTheSelfAndCrossCachesOfEveryLayer()
    {
        var caches = new Seq2SeqCaches([new KvCache(4), new KvCache(4)], [new KvCache(4), new KvCache(4)]);
        foreach (var c in caches.SelfAttention.Concat(caches.CrossAttention)) c.Append(Rows(0), Rows(10));
        caches.ReorderBatch([2, 2, 0]);
        foreach (var c in caches.SelfAttention.Concat(caches.CrossAttention))
        {
            var (k, v) = c.Append(Rows(100), Rows(200));                         // (3, 1, 2, 2): the old rows 2, 2, 0, then the new position
            Assert.Equal(new[] { 2f, 2, 100, 100, 2, 2, 101, 101, 0, 0, 102, 102 }, k.ToArray());
            Assert.Equal(new[] { 12f, 12, 200, 200, 12, 12, 201, 201, 10, 10, 202, 202 }, v.ToArray());
        }
        caches.Reset();
        Assert.All(caches.SelfAttention.Concat(caches.CrossAttention), c => Assert.Equal(0, c.Length));
    }
}
