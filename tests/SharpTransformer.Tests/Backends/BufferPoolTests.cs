using SharpTransformer.Backends.Cpu;
using Xunit;

namespace SharpTransformer.Tests.Backends;

public class BufferPoolTests
{
    [Fact]
    public void ReusesArraysOfTheSameLength()
    {
        var pool = new BufferPool();
        var a = pool.RentFloat(10_000, zero: false);
        a[5] = 3f;
        pool.Return(a);
        var b = pool.RentFloat(10_000, zero: true);
        Assert.Same(a, b);
        Assert.Equal(0f, b[5]);
        Assert.Equal(0, pool.PooledBytes);
    }

    [Fact]
    public void ManyDistinctShapesStayWithinTheBudget()
    {
        // Dynamic padding gives a new length almost every step; the pool must not hoard them all.
        var pool = new BufferPool();
        int length = 1 << 20;                                       // 4 MiB arrays
        long arrays = BufferPool.MaxPooledBytes / (4L * length) * 3;
        for (int i = 0; i < arrays; i++) pool.Return(new float[length + 16 * (i % 200)]);
        Assert.InRange(pool.PooledBytes, 1, BufferPool.MaxPooledBytes);
        // The newest shapes are the ones kept.
        int newest = length + 16 * (int)((arrays - 1) % 200);
        long before = pool.PooledBytes;
        pool.RentFloat(newest, zero: false);
        Assert.Equal(before - 4L * newest, pool.PooledBytes);
    }

    [Fact]
    public void SmallArraysAreNotPooled()
    {
        var pool = new BufferPool();
        pool.Return(new float[100]);
        Assert.Equal(0, pool.PooledBytes);
    }
}
