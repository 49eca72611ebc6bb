using SharpTransformer.Autograd;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Autograd;

/// <summary>How the autograd engine behaves around the gradients themselves: accumulation, graph lifetime, modes, errors, scopes.</summary>
public sealed class AutogradBehaviourTests
{
    private static Tensor Leaf(params float[] v)
    {
        var t = Tensor.FromArray(v);
        t.RequiresGrad = true;
        return t;
    }

    private static void Near(float[] expected, Tensor? actual, float tol = 1e-5f)
    {
        Assert.NotNull(actual);
        var a = actual!.ToArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(expected[i] - a[i]) <= tol * (1 + Math.Abs(expected[i])), $"[{i}] {a[i]} vs {expected[i]}");
    }

    // ---------------------------------------------------------------- accumulation, zeroing, reuse

    [Fact]
    public void GradientsAccumulateAcrossTwoBackwardCalls()
    {
        var x = Leaf(1f, -2f, 3f);
        (x * x).Sum().Backward();             // 2x
        x.Mul(3f).Sum().Backward();           // + 3
        Near([5f, -1f, 9f], x.Grad);
    }

    [Fact]
    public void ZeroGrad_ZeroesTheGradient_KeepingItsMemory()
    {
        var x = Leaf(1f, 2f);
        x.Square().Sum().Backward();
        var buffer = x.Grad!.Storage;
        x.ZeroGrad();
        Assert.All(x.Grad!.ToArray(), v => Assert.Equal(0f, v));   // reads as zeros
        x.Mul(4f).Sum().Backward();
        Near([4f, 4f], x.Grad);
        Assert.Same(buffer, x.Grad!.Storage);                     // the same buffer, step after step
        x.ZeroGrad();
        x.Mul(3f).Sum().Backward();                               // zeroed lazily: the next backward overwrites
        Near([3f, 3f], x.Grad);
        x.Grad = null;
        x.Mul(2f).Sum().Backward();
        Near([2f, 2f], x.Grad);
    }

    [Fact]
    public void DirectGradientWrites_OfLinearAndEmbedding_AccumulateAndZero()
    {
        // Linear weights and embedding tables receive their gradient straight into the leaf's buffer.
        var w = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        w.RequiresGrad = true;
        var x = Tensor.FromArray([1f, 0f, -1f, 2f, 1f, 0f], 2, 3);
        float[] once = [3f, 1f, -1f, 3f, 1f, -1f];                // dW = 1ᵀ x for L = sum(x Wᵀ)
        Tensor.Linear(x, w).Sum().Backward();
        Near(once, w.Grad);
        Tensor.Linear(x, w).Sum().Backward();                     // accumulates
        Near(once.Select(v => 2 * v).ToArray(), w.Grad);
        w.ZeroGrad();
        (Tensor.Linear(x, w).Sum() + Tensor.Linear(x, w).Sum() + w.Sum()).Backward(); // two direct writes plus the ordinary path
        Near(once.Select(v => 2 * v + 1).ToArray(), w.Grad);

        var table = Tensor.FromArray(new float[8], 4, 2);
        table.RequiresGrad = true;
        var ids = Tensor.FromArray([1, 3, 1]);
        Functional.Embedding(ids, table).Sum().Backward();
        Near([0f, 0f, 2f, 2f, 0f, 0f, 1f, 1f], table.Grad);
        table.ZeroGrad();
        Functional.Embedding(Tensor.FromArray([0]), table).Sum().Backward();
        Near([1f, 1f, 0f, 0f, 0f, 0f, 0f, 0f], table.Grad);
    }

    [Fact]
    public void TensorUsedSeveralTimes_GradientsAddUp()
    {
        var x = Leaf(0.5f, -1.5f);
        var y = x.Exp();                      // shared intermediate with two consumers
        (x * x + x + y * y + y).Sum().Backward();
        var xv = x.ToArray();
        Near(xv.Select(v => 2 * v + 1 + 2 * MathF.Exp(2 * v) + MathF.Exp(v)).ToArray(), x.Grad, 1e-5f);
    }

    [Fact]
    public void BackwardWithAnExplicitGradient()
    {
        var x = Leaf(1f, 2f, 3f);
        x.Mul(2f).Backward(Tensor.FromArray([1f, 10f, 100f]));
        Near([2f, 20f, 200f], x.Grad);
        var e = Assert.Throws<ArgumentException>(() => x.Mul(2f).Backward(Tensor.FromArray([1f, 2f])));
        Assert.Contains("(3,)", e.Message);
        Assert.Contains("(2,)", e.Message);
    }

    [Fact]
    public void BackwardOnANonScalarWithoutGradient_Throws()
    {
        var x = Leaf(1f, 2f);
        var e = Assert.Throws<InvalidOperationException>(() => x.Mul(2f).Backward());
        Assert.Contains("(2,)", e.Message);
    }

    [Fact]
    public void BackwardOnALeaf_SetsItsGradient()
    {
        var x = Tensor.Scalar(3f);
        x.RequiresGrad = true;
        x.Backward();
        Near([1f], x.Grad);
    }

    [Fact]
    public void OnlyLeavesThatRequireGradientsReceiveOne()
    {
        var x = Leaf(1f, 2f);
        var c = Tensor.FromArray([3f, 4f]);
        var mid = x * c;
        (mid * c).Sum().Backward();
        Near([9f, 16f], x.Grad);
        Assert.Null(c.Grad);
        Assert.Null(mid.Grad);                // non-leaf: gradient not kept
        Assert.False(mid.IsLeaf);
        Assert.True(mid.RequiresGrad);
    }

    // ---------------------------------------------------------------- graph lifetime

    [Fact]
    public void SecondBackwardThroughAFreedGraph_ThrowsNamingTheOp()
    {
        var x = Leaf(1f, 2f);
        var loss = x.Exp().Sum();
        loss.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("'sum'", e.Message);
        Assert.Contains("retainGraph", e.Message);

        // A new graph over a freed intermediate: the error names the intermediate's op.
        var y = x.Tanh();
        y.Sum().Backward();
        var e2 = Assert.Throws<InvalidOperationException>(() => y.Mean().Backward());
        Assert.Contains("'tanh'", e2.Message);
    }

    [Fact]
    public void RetainGraph_AllowsASecondBackward()
    {
        var x = Leaf(0f, 1f);
        var loss = x.Exp().Sum();
        loss.Backward(retainGraph: true);
        loss.Backward();
        Near([2f, 2f * MathF.E], x.Grad);
        Assert.Throws<InvalidOperationException>(() => loss.Backward()); // the second call freed it
    }

    // ---------------------------------------------------------------- modes and detaching

    [Fact]
    public void NoGrad_RecordsNothing()
    {
        var x = Leaf(1f, 2f, 3f, 4f);
        Tensor y, v;
        using (GradMode.NoGrad())
        {
            Assert.False(GradMode.IsEnabled);
            using (GradMode.NoGrad()) v = x.Reshape(2, 2).T;  // nested; views record nothing either
            Assert.False(GradMode.IsEnabled);
            y = (x * 2f).Exp().Sum();
        }
        Assert.True(GradMode.IsEnabled);
        Assert.False(y.RequiresGrad);
        Assert.Null(y.GradFn);
        Assert.False(v.RequiresGrad);
        Assert.Null(v.GradFn);
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("does not require gradients", e.Message);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void NoGradScope_DisposedTwice_RestoresOnce()
    {
        var scope = GradMode.NoGrad();
        scope.Dispose();
        scope.Dispose();
        Assert.True(GradMode.IsEnabled);
    }

    [Fact]
    public void Detach_SharesMemoryAndCutsTheGraph()
    {
        var x = Leaf(1f, 2f, 3f);
        var y = x.Mul(2f);
        var d = y.Detach();
        Assert.False(d.RequiresGrad);
        Assert.True(d.IsLeaf);
        Assert.Same(y.Storage, d.Storage);
        (x * d).Sum().Backward();             // d is a constant: grad = d
        Near([2f, 4f, 6f], x.Grad);
    }

    [Fact]
    public void RequiresGrad_RulesForLeavesAndTypes()
    {
        var x = Leaf(1f);
        var y = x.Exp();
        Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
        var ids = Tensor.FromArray([1, 2]);
        var e = Assert.Throws<InvalidOperationException>(() => ids.RequiresGrad = true);
        Assert.Contains("Int32", e.Message);
        x.RequiresGrad = false;
        Assert.False(x.Exp().RequiresGrad);
    }

    // ---------------------------------------------------------------- errors

    [Fact]
    public void NaNOrInfiniteLoss_BackwardThrowsNamingTheValue()
    {
        var x = Leaf(-1f, 2f);
        var e = Assert.Throws<ArithmeticException>(() => x.Log().Sum().Backward());
        Assert.Contains("NaN", e.Message);
        Assert.Contains("'sum'", e.Message);
        var z = Leaf(0f);
        var e2 = Assert.Throws<ArithmeticException>(() => z.Log().Sum().Backward());
        Assert.Contains(float.NegativeInfinity.ToString(), e2.Message);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void ShapeMismatch_NamesTheOpAndBothShapes()
    {
        var a = Tensor.Zeros(2, 3);
        var b = Tensor.Zeros(4, 5);
        foreach (var (op, f) in new (string, Action)[]
                 {
                     ("add", () => a.Add(b)), ("sub", () => a.Sub(b)), ("mul", () => a.Mul(b)), ("div", () => a.Div(b)),
                     ("pow", () => a.Pow(b)), ("maximum", () => a.Maximum(b)), ("matmul", () => a.MatMul(b)), ("Where", () => Tensor.Where(a, a, b)),
                 })
        {
            var e = Assert.Throws<ArgumentException>(f);
            Assert.Contains(op, e.Message);
            Assert.Contains("(2, 3)", e.Message);
            Assert.Contains("(4, 5)", e.Message);
        }
        var mm = Assert.Throws<ArgumentException>(() => a.MatMul(Tensor.Zeros(2, 3)));
        Assert.Contains("inner dimensions 3 and 2", mm.Message);
        var bm = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 1, 3).MatMul(Tensor.Zeros(4, 3, 5).Narrow(0, 0, 3)));
        Assert.Contains("matmul", bm.Message);
        var cat = Assert.Throws<ArgumentException>(() => Tensor.Concat([a, b], 0));
        Assert.Contains("concat", cat.Message);
        Assert.Contains("(2, 3)", cat.Message);
        Assert.Contains("(4, 5)", cat.Message);
        var rs = Assert.Throws<ArgumentException>(() => a.Reshape(4, 2));
        Assert.Contains("(2, 3)", rs.Message);
        Assert.Contains("(4, 2)", rs.Message);
        var lin = Assert.Throws<ArgumentException>(() => Tensor.Linear(a, b));
        Assert.Contains("linear", lin.Message);
        var ex = Assert.Throws<ArgumentException>(() => a.Expand(4, 3));
        Assert.Contains("(2, 3)", ex.Message);
    }

    [Fact]
    public void OutOfRangeEmbeddingId_Throws()
    {
        var w = Tensor.Zeros(5, 3);
        foreach (int bad in new[] { 5, -1, 100 })
        {
            var e = Assert.Throws<IndexOutOfRangeException>(() => Functional.Embedding(Tensor.FromArray([0, bad, 1]), w));
            Assert.Contains("embedding", e.Message);
            Assert.Contains(bad.ToString(), e.Message);
        }
        var ix = Assert.Throws<IndexOutOfRangeException>(() => w.IndexSelect(1, Tensor.FromArray([3])));
        Assert.Contains("3", ix.Message);
    }

    [Fact]
    public void WrongDType_Throws()
    {
        var ids = Tensor.FromArray([1, 2, 3]);
        var f = Tensor.FromArray([1f, 2f, 3f]);
        var e = Assert.Throws<ArgumentException>(() => ids.Exp());
        Assert.Contains("Float32", e.Message);
        Assert.Contains("Int32", e.Message);
        Assert.Throws<ArgumentException>(() => ids.Add(f));
        Assert.Throws<ArgumentException>(() => f.MatMul(ids));
        Assert.Throws<ArgumentException>(() => ids.Sum());
        var emb = Assert.Throws<ArgumentException>(() => Functional.Embedding(f, Tensor.Zeros(4, 2)));
        Assert.Contains("Int32", emb.Message);
        var ce = Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(Tensor.Zeros(3, 4), f));
        Assert.Contains("Int32", ce.Message);
        Assert.Throws<ArgumentException>(() => f.IndexSelect(0, f));
        Assert.Throws<ArgumentException>(() => Functional.Rope(Tensor.Zeros(1, 1, 3, 2), f));
    }

    // ---------------------------------------------------------------- scopes

    [Fact]
    public void TensorScope_ReleasesMemory_AndUseAfterTheScopeThrows()
    {
        var be = new CpuBackend(1);
        Tensor t, small;
        float[] array;
        using (TensorScope.Begin())
        {
            t = Tensor.Full([64, 64], 1f, DType.Float32, be);   // 4096 elements: pooled
            small = Tensor.Full([3], 1f, DType.Float32, be);
            array = ((CpuStorage)t.Storage).Floats;
        }
        Assert.True(t.Storage.IsDisposed);
        Assert.True(small.Storage.IsDisposed);
        // The memory went back to the pool: the next tensor of that size gets the same array, zeroed.
        var again = Tensor.Zeros([64, 64], DType.Float32, be);
        Assert.Same(array, ((CpuStorage)again.Storage).Floats);
        Assert.All(again.ToArray(), v => Assert.Equal(0f, v));

        Assert.Throws<ObjectDisposedException>(() => t.ToArray());
        Assert.Throws<ObjectDisposedException>(() => t.Exp());
        Assert.Throws<ObjectDisposedException>(() => again.Add(t));
        Assert.Throws<ObjectDisposedException>(() => t.Sum());
        Assert.Throws<ObjectDisposedException>(() => small[0]);
        Assert.Throws<ObjectDisposedException>(() => small.Narrow(0, 1, 1).Item());
        Assert.Contains("released", t.ToString());
        var msg = Assert.Throws<ObjectDisposedException>(() => t.Reshape(-1).ToArray()).Message;
        Assert.Contains("TensorScope", msg);
    }

    [Fact]
    public void TensorScope_Keep_KeepsATensorAlive_InTheEnclosingScope()
    {
        Tensor kept, dropped, keptTwice;
        using (var outer = TensorScope.Begin())
        {
            using (var inner = TensorScope.Begin())
            {
                kept = inner.Keep(Tensor.Ones(3));
                keptTwice = inner.Keep(Tensor.Ones(2).Mul(5f));
                dropped = Tensor.Ones(3);
            }
            Assert.True(dropped.Storage.IsDisposed);
            Assert.False(kept.Storage.IsDisposed);
            Assert.Equal([1f, 1f, 1f], kept.ToArray());
            outer.Keep(keptTwice);
        }
        Assert.True(kept.Storage.IsDisposed);         // moved to the outer scope, released with it
        Assert.False(keptTwice.Storage.IsDisposed);   // kept again: outlives both
        Assert.Equal([5f, 5f], keptTwice.ToArray());
    }

    [Fact]
    public void TensorScope_SuspendAndGradients_OutliveTheScope()
    {
        var w = Leaf(1f, 2f, 3f);                      // a parameter created outside any scope
        Tensor state;
        using (TensorScope.Begin())
        {
            using (TensorScope.Suspend()) state = Tensor.Zeros(3);   // optimizer state: not owned by the scope
            w.Square().Sum().Backward();
        }
        Assert.False(state.Storage.IsDisposed);
        Assert.False(w.Grad!.Storage.IsDisposed);       // gradients are created outside the scope
        Near([2f, 4f, 6f], w.Grad);
    }

    [Fact]
    public void TensorScope_DisposedOutOfOrder_Throws()
    {
        var outer = TensorScope.Begin();
        var inner = TensorScope.Begin();
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        inner.Dispose();
        outer.Dispose();
        outer.Dispose(); // idempotent
    }
}
