using SharpTransformer.Autograd;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Autograd.CustomOps;

namespace SharpTransformer.Tests.Autograd;

/// <summary>
/// The contract of <see cref="CustomFunction"/>: graph recording only when needed, saved tensors, non-differentiable inputs,
/// forwards that return an input, and clear errors for a backward that returns the wrong number or shape of gradients.
/// </summary>
public class CustomFunctionTests
{
    private static Tensor Leaf(params float[] v)
    {
        var t = Tensor.FromArray(v, v.Length);
        t.RequiresGrad = true;
        return t;
    }

    // y = a * b with a configurable backward.
    private static Tensor Product(Tensor a, Tensor b, Func<FunctionContext, Tensor, Tensor?[]> backward, Action<FunctionContext>? inForward = null) =>
        CustomFunction.Apply("test_product", [a, b], ctx =>
        {
            inForward?.Invoke(ctx);
            ctx.SaveForBackward(ctx.Inputs[0], ctx.Inputs[1]);
            return ctx.Inputs[0].Mul(ctx.Inputs[1]);
        }, backward);

    private static Tensor?[] ProductBackward(FunctionContext ctx, Tensor g) =>
        [ctx.NeedsInputGrad(0) ? g.Mul(ctx.SavedTensors[1]) : null, ctx.NeedsInputGrad(1) ? g.Mul(ctx.SavedTensors[0]) : null];

    [Fact]
    public void RecordsItsBackwardUnderItsNameAndGivesEachInputItsGradient()
    {
        var a = Leaf(1, 2, 3);
        var b = Leaf(4, 5, 6);
        var y = Product(a, b, ProductBackward);
        Assert.True(y.RequiresGrad);
        Assert.Equal("test_product", y.GradFn!.Op);
        y.Sum().Backward();
        Assert.Equal(new[] { 4f, 5f, 6f }, a.Grad!.ToArray());
        Assert.Equal(new[] { 1f, 2f, 3f }, b.Grad!.ToArray());
    }

    [Fact]
    public void UnderNoGradNothingIsRecordedOrSaved()
    {
        var a = Leaf(1, 2);
        var b = Leaf(3, 4);
        FunctionContext? seen = null;
        Tensor y;
        using (GradMode.NoGrad()) y = Product(a, b, ProductBackward, ctx => seen = ctx);
        Assert.False(y.RequiresGrad);
        Assert.Null(y.GradFn);
        Assert.Empty(seen!.SavedTensors);
        Assert.False(seen.NeedsInputGrad(0));
        Assert.Equal(new[] { 3f, 8f }, y.ToArray());
    }

    [Fact]
    public void InputsWithoutGradientsRecordNothing()
    {
        var y = Product(Tensor.FromArray([1f, 2f], 2), Tensor.FromArray([3f, 4f], 2), (_, _) => throw new InvalidOperationException("must not run"));
        Assert.Null(y.GradFn);
        Assert.False(y.RequiresGrad);
    }

    [Fact]
    public void TheForwardRecordsNoInnerOps()
    {
        var a = Leaf(1, 2);
        var b = Leaf(3, 4);
        Tensor? inner = null;
        var y = CustomFunction.Apply("inner", [a, b], ctx => inner = ctx.Inputs[0].Mul(ctx.Inputs[1]).Exp(), (ctx, g) => [g, null]);
        Assert.Null(inner!.GradFn);
        Assert.NotSame(inner, y);                                           // the output is a fresh tensor over the same memory
        Assert.Equal(inner.ToArray(), y.ToArray());
    }

    [Fact]
    public void MarkedNonDifferentiableInputsGetNoGradient()
    {
        var a = Leaf(1, 2);
        var b = Leaf(3, 4);
        var y = Product(a, b, (ctx, g) => [g.Mul(ctx.SavedTensors[1]), g.Mul(ctx.SavedTensors[0])], ctx => ctx.MarkNonDifferentiable(1));
        y.Sum().Backward();
        Assert.Equal(new[] { 3f, 4f }, a.Grad!.ToArray());
        Assert.Null(b.Grad);

        // When the only input that requires a gradient is marked, nothing is recorded.
        var z = Product(Tensor.FromArray([1f, 2f], 2), b, ProductBackward, ctx => ctx.MarkNonDifferentiable(1));
        Assert.Null(z.GradFn);
    }

    [Fact]
    public void AForwardThatReturnsItsInputLeavesTheInputALeaf()
    {
        var a = Leaf(1, 2, 3);
        var y = CustomFunction.Apply("identity", [a], ctx => ctx.Inputs[0], (ctx, g) => [g.Mul(2f)]);
        Assert.True(a.IsLeaf);
        Assert.Null(a.GradFn);
        y.Sum().Backward();
        Assert.Equal(new[] { 2f, 2f, 2f }, a.Grad!.ToArray());
    }

    [Fact]
    public void WrongNumberOfGradientsNamesTheOpAndTheCounts()
    {
        var a = Leaf(1, 2);
        var b = Leaf(3, 4);
        var y = Product(a, b, (ctx, g) => [g]);
        var ex = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("'test_product'", ex.Message);
        Assert.Contains("1 gradients for 2 inputs", ex.Message);
    }

    [Fact]
    public void WronglyShapedGradientNamesTheOpTheInputAndTheShapes()
    {
        var a = Leaf(1, 2);
        var b = Leaf(3, 4);
        var y = Product(a, b, (ctx, g) => [g, Tensor.Zeros(3, 1)]);
        var ex = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("'test_product'", ex.Message);
        Assert.Contains("input 1", ex.Message);
        Assert.Contains("(3, 1)", ex.Message);
        Assert.Contains("of shape (2,)", ex.Message);
    }

    [Fact]
    public void ANullBackwardResultOrForwardResultIsAnError()
    {
        var a = Leaf(1, 2);
        var y = CustomFunction.Apply("nothing_back", [a], ctx => ctx.Inputs[0].Mul(2f), (ctx, g) => null!);
        Assert.Contains("'nothing_back'", Assert.Throws<InvalidOperationException>(() => y.Sum().Backward()).Message);
        Assert.Contains("'nothing_forth'", Assert.Throws<InvalidOperationException>(() =>
            CustomFunction.Apply("nothing_forth", [a], ctx => null!, (ctx, g) => [g])).Message);
    }

    [Fact]
    public void TheReadmeExampleHasTheRightGradient()
    {
        static Tensor ScaledTanh(Tensor x) => CustomFunction.Apply("scaled_tanh", [x], ctx =>
        {
            var t = ctx.Inputs[0].Tanh();
            ctx.SaveForBackward(t);
            return t.Mul(2f);
        }, (ctx, dy) => [dy.Mul(ctx.SavedTensors[0].Square().Neg().Add(1f)).Mul(2f)]);
        GradCheck.Check(z => ScaledTanh(z[0]), [GradCheck.Param(new Random(4), [3, 4])], what: "README scaled_tanh");
    }

    [Fact]
    public void ExpertCombineAddsWeightedRowsIntoTheirTokens()
    {
        var rows = Tensor.FromArray([1f, 2f, 10f, 20f, 100f, 200f], 3, 2);
        var weights = Tensor.FromArray([0.5f, 2f, 1f], 3);
        var y = ExpertCombine.Apply(rows, weights, Tensor.FromArray([1, 0, 1], 3), tokens: 3);
        Assert.Equal(new[] { 20f, 40f, 100.5f, 201f, 0f, 0f }, y.ToArray());
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ExpertCombine.Apply(rows, weights, Tensor.FromArray([1, 3, 0], 3), tokens: 3));
        Assert.Contains("token id 3", ex.Message);
    }

    [Fact]
    public void ACustomOpRunsOnAnyBackend()
    {
        // The same op on the CPU backend and on a backend with only primitives: same output and gradients, on that backend.
        (float[] Y, float[] DRows, float[] DWeights) Run(SharpTransformer.Backends.IBackend backend)
        {
            var rows = Tensor.FromArray([1f, -2f, 0.5f, 3f, 2f, 1f, -1f, 4f], 4, 2).To(backend);
            var weights = Tensor.FromArray([0.25f, 1f, -0.5f, 2f], 4).To(backend);
            rows.RequiresGrad = weights.RequiresGrad = true;
            var y = ExpertCombine.Apply(rows, weights, Tensor.FromArray([2, 0, 2, 1], 4).To(backend), tokens: 3);
            Assert.Same(backend, y.Backend);
            y.Square().Sum().Backward();
            return (y.ToArray(), rows.Grad!.ToArray(), weights.Grad!.ToArray());
        }
        var cpu = Run(SharpTransformer.Backends.Cpu.CpuBackend.Default);
        var prim = Run(SharpTransformer.Tests.Backends.PrimitiveOnlyBackend.Shared);
        Assert.Equal(cpu.Y, prim.Y);
        Assert.Equal(cpu.DRows, prim.DRows);
        Assert.Equal(cpu.DWeights, prim.DWeights);
    }

    [Fact]
    public void TopKGateRoutesToTheLargestLogits()
    {
        var logits = Tensor.FromArray([0f, 3f, 1f, 2f, 5f, -1f, 4f, 0f], 2, 4);
        var gate = TopKGate.Apply(logits, 2, out var experts);
        Assert.Equal(new[] { 1, 3, 0, 2 }, experts);
        var w = gate.ToArray();
        Assert.Equal(1f / (1f + MathF.Exp(-1f)), w[0], 1e-6f);
        Assert.Equal(1f, w[2] + w[3], 1e-6f);
    }
}
