using SharpTransformer.Backends;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Reference;
using static SharpTransformer.Tests.Backends.KernelHarness;

namespace SharpTransformer.Tests.Backends;

/// <summary>
/// Conformance of the elementwise primitives (Unary, UnaryBackward, Binary, Where) with <see cref="ScalarReference"/>.
/// One abstract class per op family; each backend instantiates it with the backends (thread counts) to run.
/// </summary>
public abstract class PrimitiveElementwiseConformance
{
    /// <summary>The backends under test (for the CPU: 1 and 2 threads).</summary>
    protected abstract IBackend[] Backends { get; }

    /// <summary>Every unary op with the scalar argument it is tested with.</summary>
    public static readonly (UnaryOp Op, float Arg)[] UnaryCases =
    [
        (UnaryOp.Identity, 0f), (UnaryOp.Neg, 0f), (UnaryOp.Exp, 0f), (UnaryOp.Log, 0f), (UnaryOp.Sqrt, 0f), (UnaryOp.Tanh, 0f),
        (UnaryOp.Sigmoid, 0f), (UnaryOp.Relu, 0f), (UnaryOp.Gelu, 0f), (UnaryOp.GeluTanh, 0f), (UnaryOp.Silu, 0f), (UnaryOp.Abs, 0f),
        (UnaryOp.Square, 0f), (UnaryOp.Reciprocal, 0f), (UnaryOp.AddScalar, 0.75f), (UnaryOp.MulScalar, -1.25f),
        (UnaryOp.PowScalar, 2f), (UnaryOp.PowScalar, 0.5f), (UnaryOp.PowScalar, 1f), (UnaryOp.PowScalar, 0f), (UnaryOp.PowScalar, 3f),
        (UnaryOp.PowScalar, -1.5f), (UnaryOp.PowScalar, 2.5f), (UnaryOp.RDivScalar, 1.5f), (UnaryOp.ClampMin, 0.3f), (UnaryOp.ClampMax, -0.2f),
    ];

    [Fact]
    public void UnaryCasesCoverEveryOp() =>
        Assert.Equal(Enum.GetValues<UnaryOp>().Order(), UnaryCases.Select(c => c.Op).Distinct().Order());

    /// <summary>Inputs inside the op's domain, with values exactly on the kinks (0 for relu/abs, the clamp bound) mixed in.</summary>
    public static float[] UnaryInputs(Random rng, UnaryOp op, float arg, int n)
    {
        float[] x = op switch
        {
            UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.PowScalar => Uniform(rng, n, 0.05f, 4f),
            UnaryOp.Reciprocal or UnaryOp.RDivScalar => SignedAway(rng, n, 0.2f, 3f),
            UnaryOp.Exp => Uniform(rng, n, -6f, 6f),
            UnaryOp.Tanh or UnaryOp.Sigmoid or UnaryOp.Gelu or UnaryOp.GeluTanh or UnaryOp.Silu => Uniform(rng, n, -7f, 7f),
            _ => Uniform(rng, n, -3f, 3f),
        };
        float kink = op switch { UnaryOp.Relu or UnaryOp.Abs => 0f, UnaryOp.ClampMin or UnaryOp.ClampMax => arg, _ => float.NaN };
        if (!float.IsNaN(kink)) for (int i = 0; i < n; i += 7) x[i] = kink;
        return x;
    }

    /// <summary>
    /// Forward tolerance |y - ref| &lt;= atol + rtol |ref|. Correctly rounded ops (copy, negation, abs, relu, clamp, +, *, x², 1/x):
    /// rtol 1e-6 (one float rounding is 6e-8). Transcendental ops (TensorPrimitives' exp, log, tanh, sigmoid, pow and our erf):
    /// rtol 1e-5, atol 1e-6.
    /// </summary>
    public static (double Rtol, double Atol) UnaryTolerance(UnaryOp op) => op switch
    {
        UnaryOp.Identity or UnaryOp.Neg or UnaryOp.Abs or UnaryOp.Relu or UnaryOp.ClampMin or UnaryOp.ClampMax or UnaryOp.AddScalar
            or UnaryOp.MulScalar or UnaryOp.Square or UnaryOp.Reciprocal or UnaryOp.RDivScalar => (1e-6, 0),
        _ => (1e-5, 1e-6),
    };

    private void CheckUnary(IBackend be, UnaryOp op, float arg, int[] shape, LayoutKind kind, Random rng)
    {
        var xl = MakeLayout(rng, shape, kind, out int len);
        var x = UnaryInputs(rng, op, arg, len);
        var xs = Up(be, x);
        int n = xl.Count;
        var ys = be.Allocate(DType.Float32, n, zero: false);
        be.Unary(op, xs, xl, ys, arg);
        var (rt, at) = UnaryTolerance(op);
        Close(ScalarReference.Unary(op, x, xl, arg), Down(be, ys, n), rt, at, $"Unary {op}({arg}) {Describe(xl, kind)} on {be.Name}");
        xs.Dispose(); ys.Dispose();
    }

    [Fact]
    public void Unary_EveryLength1To67_ContiguousAndOffsetAndStrided()
    {
        var rng = new Random(1);
        foreach (var be in Backends)
            foreach (var (op, arg) in UnaryCases)
                for (int n = 1; n <= 67; n++)
                    foreach (var kind in new[] { LayoutKind.Contiguous, LayoutKind.Offset, LayoutKind.Strided, LayoutKind.Broadcast })
                        CheckUnary(be, op, arg, [n], kind, rng);
    }

    [Fact]
    public void Unary_RandomShapes_EveryLayoutKind()
    {
        var rng = new Random(2);
        foreach (var be in Backends)
            foreach (var (op, arg) in UnaryCases)
                foreach (var kind in AllKinds)
                    for (int t = 0; t < 4; t++)
                        CheckUnary(be, op, arg, RandomShape(rng, 0, 4, 6), kind, rng);
    }

    [Fact]
    public void Unary_LargeInputs_SplitAcrossThreads()
    {
        // 70 001 elements (and 257 rows of 273 for the strided path): enough work for the 2-thread backend to split.
        var rng = new Random(3);
        foreach (var be in Backends)
            foreach (var (op, arg) in UnaryCases.Where((_, i) => i % 3 == 0).Append((UnaryOp.Gelu, 0f)))
            {
                CheckUnary(be, op, arg, [70_001], LayoutKind.Offset, rng);
                CheckUnary(be, op, arg, [257, 273], LayoutKind.Transposed, rng);
            }
    }

    /// <summary>
    /// Backward tolerance |dx - ref| &lt;= atol + rtol |ref| with rtol 1e-5 and atol 1e-6 (|dy| &lt;= 2); the tanh-GELU derivative
    /// is evaluated in float with a cancellation in 1 - tanh², so it gets atol 1e-5.
    /// </summary>
    private void CheckUnaryBackward(IBackend be, UnaryOp op, float arg, int n, Random rng)
    {
        var x = UnaryInputs(rng, op, arg, n);
        if (op is UnaryOp.Relu or UnaryOp.Abs or UnaryOp.ClampMin or UnaryOp.ClampMax)
            for (int i = 0; i < n; i += 7) x[i] = (float)(op is UnaryOp.ClampMin or UnaryOp.ClampMax ? arg : 0f); // kinks: the documented convention
        var y = ScalarReference.Unary(op, x, Layout.Contiguous(n), arg).Select(v => (float)v).ToArray();
        var dy = Uniform(rng, n, -2f, 2f);
        var xs = Up(be, x); var ys = Up(be, y); var gs = Up(be, dy);
        var dxs = be.Allocate(DType.Float32, n, zero: false);
        be.UnaryBackward(op, xs, ys, gs, dxs, n, arg);
        double atol = op == UnaryOp.GeluTanh ? 1e-5 : 1e-6;
        Close(ScalarReference.UnaryBackward(op, x, dy, n, arg), Down(be, dxs, n), 1e-5, atol, $"UnaryBackward {op}({arg}) n={n} on {be.Name}");
        xs.Dispose(); ys.Dispose(); gs.Dispose(); dxs.Dispose();
    }

    [Fact]
    public void UnaryBackward_EveryLength1To67()
    {
        var rng = new Random(4);
        foreach (var be in Backends)
            foreach (var (op, arg) in UnaryCases)
                for (int n = 1; n <= 67; n++)
                    CheckUnaryBackward(be, op, arg, n, rng);
    }

    [Fact]
    public void UnaryBackward_LargeInputs_SplitAcrossThreads()
    {
        var rng = new Random(5);
        foreach (var be in Backends)
            foreach (var (op, arg) in UnaryCases.Where((_, i) => i % 2 == 1))
                CheckUnaryBackward(be, op, arg, 70_003, rng);
    }

    // ---------------------------------------------------------------- binary

    /// <summary>
    /// Binary tolerance: +, -, *, / are correctly rounded (rtol 1e-6); pow goes through exp/log (rtol 1e-5, atol 1e-6);
    /// max, min and the comparisons are exact.
    /// </summary>
    public static (double Rtol, double Atol) BinaryTolerance(BinaryOp op) => op switch
    {
        BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul or BinaryOp.Div => (1e-6, 0),
        BinaryOp.Pow => (1e-5, 1e-6),
        _ => (0, 0),
    };

    private static float[] BinaryInputs(Random rng, BinaryOp op, bool first, int n) => op switch
    {
        BinaryOp.Pow => first ? Uniform(rng, n, 0.1f, 3f) : Uniform(rng, n, -2.5f, 2.5f),
        BinaryOp.Div when !first => SignedAway(rng, n, 0.25f, 3f),
        BinaryOp.Max or BinaryOp.Min or BinaryOp.Equal or BinaryOp.Greater or BinaryOp.Less => Grid(rng, n),
        _ => Uniform(rng, n, -3f, 3f),
    };

    private void CheckBinary(IBackend be, BinaryOp op, int[] shape, LayoutKind ka, LayoutKind kb, Random rng)
    {
        var al = MakeLayout(rng, shape, ka, out int la);
        var bl = MakeLayout(rng, shape, kb, out int lb);
        var a = BinaryInputs(rng, op, true, la);
        var b = BinaryInputs(rng, op, false, lb);
        var sa = Up(be, a); var sb = Up(be, b);
        int n = al.Count;
        var ys = be.Allocate(DType.Float32, n, zero: false);
        be.Binary(op, sa, al, sb, bl, ys);
        var (rt, at) = BinaryTolerance(op);
        Close(ScalarReference.Binary(op, a, al, b, bl), Down(be, ys, n), rt, at,
            $"Binary {op} a: {Describe(al, ka)}, b: {Describe(bl, kb)} on {be.Name}");
        sa.Dispose(); sb.Dispose(); ys.Dispose();
    }

    /// <summary>b broadcast from a single element (stride 0 everywhere): the scalar-operand path.</summary>
    private static Layout ScalarBroadcast(int[] shape, int offset) => new((int[])shape.Clone(), new int[shape.Length], offset);

    [Fact]
    public void Binary_EveryLength1To67_AllLayoutPairs()
    {
        var rng = new Random(6);
        LayoutKind[] kinds = [LayoutKind.Contiguous, LayoutKind.Offset, LayoutKind.Strided];
        foreach (var be in Backends)
            foreach (var op in Enum.GetValues<BinaryOp>())
                for (int n = 1; n <= 67; n++)
                {
                    foreach (var ka in kinds)
                        foreach (var kb in kinds)
                            CheckBinary(be, op, [n], ka, kb, rng);
                    // a scalar on either side (stride 0)
                    var a = BinaryInputs(rng, op, true, n + 2);
                    var b = BinaryInputs(rng, op, false, n + 2);
                    var sa = Up(be, a); var sb = Up(be, b);
                    var ys = be.Allocate(DType.Float32, n, zero: false);
                    var (rt, at) = BinaryTolerance(op);
                    foreach (var (al, bl) in new[] { (Layout.Contiguous(n), ScalarBroadcast([n], 1)), (ScalarBroadcast([n], 2), new Layout([n], [1], 1)) })
                    {
                        be.Binary(op, sa, al, sb, bl, ys);
                        Close(ScalarReference.Binary(op, a, al, b, bl), Down(be, ys, n), rt, at, $"Binary {op} n={n} a {al} b {bl} on {be.Name}");
                    }
                    sa.Dispose(); sb.Dispose(); ys.Dispose();
                }
    }

    [Fact]
    public void Binary_RandomShapes_EveryLayoutKind()
    {
        var rng = new Random(7);
        foreach (var be in Backends)
            foreach (var op in Enum.GetValues<BinaryOp>())
                foreach (var ka in AllKinds)
                    foreach (var kb in AllKinds)
                        CheckBinary(be, op, RandomShape(rng, 0, 4, 5), ka, kb, rng);
    }

    [Fact]
    public void Binary_InPlaceIntoA_AsGradientAccumulationDoes()
    {
        // y may alias a contiguous a (the contract allows it; AccumulateGrad relies on it), b broadcast or strided.
        var rng = new Random(8);
        foreach (var be in Backends)
            foreach (var kb in AllKinds)
                foreach (int[] shape in new[] { new[] { 67 }, new[] { 5, 13 }, new[] { 3, 4, 9 }, new[] { 300, 301 } })
                {
                    int n = ScalarReference.Numel(shape);
                    var a = Uniform(rng, n, -1, 1);
                    var bl = MakeLayout(rng, shape, kb, out int lb);
                    var b = Uniform(rng, lb, -1, 1);
                    var sa = Up(be, a); var sb = Up(be, b);
                    var al = Layout.Contiguous(shape);
                    var expected = ScalarReference.Binary(BinaryOp.Add, a, al, b, bl);
                    be.Binary(BinaryOp.Add, sa, al, sb, bl, sa);
                    Close(expected, Down(be, sa, n), 1e-6, 0, $"in-place add {Describe(bl, kb)} on {be.Name}");
                    sa.Dispose(); sb.Dispose();
                }
    }

    [Fact]
    public void Binary_LargeBroadcast_SplitAcrossThreads()
    {
        var rng = new Random(9);
        foreach (var be in Backends)
            foreach (var op in new[] { BinaryOp.Add, BinaryOp.Mul, BinaryOp.Div, BinaryOp.Max, BinaryOp.Pow })
            {
                CheckBinary(be, op, [70_001], LayoutKind.Offset, LayoutKind.Contiguous, rng);
                CheckBinary(be, op, [263, 259], LayoutKind.Contiguous, LayoutKind.Broadcast, rng);
                CheckBinary(be, op, [263, 259], LayoutKind.Transposed, LayoutKind.Strided, rng);
            }
    }

    // ---------------------------------------------------------------- where

    private void CheckWhere(IBackend be, int[] shape, LayoutKind kc, LayoutKind ka, LayoutKind kb, Random rng)
    {
        var cl = MakeLayout(rng, shape, kc, out int lc);
        var al = MakeLayout(rng, shape, ka, out int la);
        var bl = MakeLayout(rng, shape, kb, out int lb);
        var c = new float[lc];
        for (int i = 0; i < lc; i++) c[i] = rng.Next(3) switch { 0 => 0f, 1 => 1f, _ => -2.5f };
        var a = Uniform(rng, la, -3, 3); var b = Uniform(rng, lb, -3, 3);
        var sc = Up(be, c); var sa = Up(be, a); var sb = Up(be, b);
        int n = cl.Count;
        var ys = be.Allocate(DType.Float32, n, zero: false);
        be.Where(sc, cl, sa, al, sb, bl, ys);
        Close(ScalarReference.Where(c, cl, a, al, b, bl), Down(be, ys, n), 0, 0,
            $"Where cond {Describe(cl, kc)} a {Describe(al, ka)} b {Describe(bl, kb)} on {be.Name}");
        sc.Dispose(); sa.Dispose(); sb.Dispose(); ys.Dispose();
    }

    [Fact]
    public void Where_EveryLength1To67_AndRandomLayouts()
    {
        // Exact: a select copies one of its inputs.
        var rng = new Random(10);
        foreach (var be in Backends)
        {
            for (int n = 1; n <= 67; n++)
                CheckWhere(be, [n], LayoutKind.Contiguous, LayoutKind.Strided, LayoutKind.Broadcast, rng);
            foreach (var kc in AllKinds)
                foreach (var ka in AllKinds)
                    CheckWhere(be, RandomShape(rng, 0, 4, 5), kc, ka, AllKinds[rng.Next(AllKinds.Length)], rng);
        }
    }
}
