using SharpTransformer.Backends;

namespace SharpTransformer.Tensors;

public sealed partial class Tensor
{
    internal void RequireFloat(string op)
    {
        if (DType != DType.Float32) throw new ArgumentException($"{op}: expected a Float32 tensor, got {DType} {ShapeString}.");
        if (Storage.IsDisposed) throw new ObjectDisposedException(nameof(Tensor), $"{op}: tensor {ShapeString} was released when its TensorScope ended.");
    }

    internal static void SameBackend(Tensor a, Tensor b, string op)
    {
        if (!ReferenceEquals(a.Backend, b.Backend) && a.Backend.Name != b.Backend.Name)
            throw new InvalidOperationException($"{op}: tensors live on different backends ('{a.Backend.Name}' {a.ShapeString} and '{b.Backend.Name}' {b.ShapeString}); move one with To(backend).");
    }

    // ----- unary -----

    private Tensor UnaryCore(UnaryOp op, string name, float arg = 0f)
    {
        RequireFloat(name);
        var y = Empty(Backend, DType.Float32, Shape);
        Backend.Unary(op, Storage, Layout, y.Storage, arg);
        var x = this;
        return y.Record(name, [this], g =>
        {
            // The kernel reads dense storage from index 0: a contiguous view at an offset must be copied too.
            var xc = x.Dense();
            var gc = g.Dense();
            var dx = Empty(g.Backend, DType.Float32, g.Shape);
            g.Backend.UnaryBackward(op, xc.Storage, y.Storage, gc.Storage, dx.Storage, dx.Count, arg);
            return [dx];
        });
    }

    /// <summary>-x</summary>
    public Tensor Neg() => UnaryCore(UnaryOp.Neg, "neg");
    /// <summary>e^x</summary>
    public Tensor Exp() => UnaryCore(UnaryOp.Exp, "exp");
    /// <summary>Natural logarithm.</summary>
    public Tensor Log() => UnaryCore(UnaryOp.Log, "log");
    /// <summary>Square root.</summary>
    public Tensor Sqrt() => UnaryCore(UnaryOp.Sqrt, "sqrt");
    /// <summary>Hyperbolic tangent.</summary>
    public Tensor Tanh() => UnaryCore(UnaryOp.Tanh, "tanh");
    /// <summary>Logistic sigmoid.</summary>
    public Tensor Sigmoid() => UnaryCore(UnaryOp.Sigmoid, "sigmoid");
    /// <summary>max(x, 0)</summary>
    public Tensor Relu() => UnaryCore(UnaryOp.Relu, "relu");
    /// <summary>GELU: exact erf form, or the tanh approximation (GPT-2) when <paramref name="tanhApproximation"/>.</summary>
    public Tensor Gelu(bool tanhApproximation = false) => tanhApproximation ? UnaryCore(UnaryOp.GeluTanh, "gelu_tanh") : UnaryCore(UnaryOp.Gelu, "gelu");
    /// <summary>x * sigmoid(x) (swish).</summary>
    public Tensor Silu() => UnaryCore(UnaryOp.Silu, "silu");
    /// <summary>|x|</summary>
    public Tensor Abs() => UnaryCore(UnaryOp.Abs, "abs");
    /// <summary>x²</summary>
    public Tensor Square() => UnaryCore(UnaryOp.Square, "square");
    /// <summary>1/x</summary>
    public Tensor Reciprocal() => UnaryCore(UnaryOp.Reciprocal, "reciprocal");
    /// <summary>x ^ exponent</summary>
    public Tensor Pow(float exponent) => UnaryCore(UnaryOp.PowScalar, "pow", exponent);
    /// <summary>x + s</summary>
    public Tensor Add(float s) => UnaryCore(UnaryOp.AddScalar, "add_scalar", s);
    /// <summary>x * s</summary>
    public Tensor Mul(float s) => UnaryCore(UnaryOp.MulScalar, "mul_scalar", s);
    /// <summary>x / s</summary>
    public Tensor Div(float s) => UnaryCore(UnaryOp.MulScalar, "div_scalar", 1f / s);
    /// <summary>max(x, min) and min(., max), gradient passing where min &lt;= x &lt;= max.</summary>
    public Tensor Clamp(float min = float.NegativeInfinity, float max = float.PositiveInfinity)
    {
        var t = this;
        if (!float.IsNegativeInfinity(min)) t = t.UnaryCore(UnaryOp.ClampMin, "clamp_min", min);
        if (!float.IsPositiveInfinity(max)) t = t.UnaryCore(UnaryOp.ClampMax, "clamp_max", max);
        return t;
    }

    // ----- binary with broadcasting -----

    private Tensor BinaryCore(BinaryOp op, Tensor b, string name)
    {
        RequireFloat(name);
        b.RequireFloat(name);
        SameBackend(this, b, name);
        var shape = BroadcastShape(Shape, b.Shape, name);
        var y = Empty(Backend, DType.Float32, shape);
        Backend.Binary(op, Storage, BroadcastLayout(shape), b.Storage, b.BroadcastLayout(shape), y.Storage);
        if (op is BinaryOp.Equal or BinaryOp.Greater or BinaryOp.Less) return y;
        var a = this;
        var aShape = Shape.ToArray();
        var bShape = b.Shape.ToArray();
        return y.Record(name, [this, b], g =>
        {
            Tensor? ga = null, gb = null;
            switch (op)
            {
                case BinaryOp.Add: ga = g; gb = g; break;
                case BinaryOp.Sub: ga = g; gb = b.RequiresGrad ? g.Neg() : null; break;
                case BinaryOp.Mul:
                    if (a.RequiresGrad) ga = g.Mul(b);
                    if (b.RequiresGrad) gb = g.Mul(a);
                    break;
                case BinaryOp.Div:
                    if (a.RequiresGrad) ga = g.Div(b);
                    if (b.RequiresGrad) gb = g.Mul(y).Div(b).Neg();
                    break;
                case BinaryOp.Pow:
                    if (a.RequiresGrad) ga = g.Mul(b).Mul(a.Pow(b.Sub(1f)));
                    if (b.RequiresGrad) gb = g.Mul(y).Mul(a.Log());
                    break;
                case BinaryOp.Max:
                case BinaryOp.Min:
                    {
                        // The winner takes the gradient; ties split it evenly (as torch.maximum).
                        var win = op == BinaryOp.Max ? a.Greater(b) : a.Less(b);
                        var tie = a.Equal(b).Mul(0.5f);
                        var wa = win.Add(tie);
                        if (a.RequiresGrad) ga = g.Mul(wa);
                        if (b.RequiresGrad) gb = g.Mul(wa.Neg().Add(1f));
                        break;
                    }
            }
            return [ga is null || !a.RequiresGrad ? null : SumToShape(ga, aShape), gb is null || !b.RequiresGrad ? null : SumToShape(gb, bShape)];
        });
    }

    /// <summary>a + b (broadcasting).</summary>
    public Tensor Add(Tensor b) => BinaryCore(BinaryOp.Add, b, "add");
    /// <summary>a - b (broadcasting).</summary>
    public Tensor Sub(Tensor b) => BinaryCore(BinaryOp.Sub, b, "sub");
    /// <summary>a - s</summary>
    public Tensor Sub(float s) => Add(-s);
    /// <summary>a * b (broadcasting).</summary>
    public Tensor Mul(Tensor b) => BinaryCore(BinaryOp.Mul, b, "mul");
    /// <summary>a / b (broadcasting).</summary>
    public Tensor Div(Tensor b) => BinaryCore(BinaryOp.Div, b, "div");
    /// <summary>a ^ b (broadcasting).</summary>
    public Tensor Pow(Tensor b) => BinaryCore(BinaryOp.Pow, b, "pow");
    /// <summary>Elementwise maximum (broadcasting).</summary>
    public Tensor Maximum(Tensor b) => BinaryCore(BinaryOp.Max, b, "maximum");
    /// <summary>Elementwise minimum (broadcasting).</summary>
    public Tensor Minimum(Tensor b) => BinaryCore(BinaryOp.Min, b, "minimum");
    /// <summary>1 where a == b, else 0 (no gradient).</summary>
    public Tensor Equal(Tensor b) => BinaryCore(BinaryOp.Equal, b, "eq");
    /// <summary>1 where a &gt; b, else 0 (no gradient).</summary>
    public Tensor Greater(Tensor b) => BinaryCore(BinaryOp.Greater, b, "gt");
    /// <summary>1 where a &lt; b, else 0 (no gradient).</summary>
    public Tensor Less(Tensor b) => BinaryCore(BinaryOp.Less, b, "lt");

    /// <summary>a + b</summary>
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    /// <summary>a - b</summary>
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    /// <summary>a * b</summary>
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    /// <summary>a / b</summary>
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    /// <summary>-a</summary>
    public static Tensor operator -(Tensor a) => a.Neg();
    /// <summary>a + s</summary>
    public static Tensor operator +(Tensor a, float s) => a.Add(s);
    /// <summary>s + a</summary>
    public static Tensor operator +(float s, Tensor a) => a.Add(s);
    /// <summary>a - s</summary>
    public static Tensor operator -(Tensor a, float s) => a.Add(-s);
    /// <summary>s - a</summary>
    public static Tensor operator -(float s, Tensor a) => a.Neg().Add(s);
    /// <summary>a * s</summary>
    public static Tensor operator *(Tensor a, float s) => a.Mul(s);
    /// <summary>s * a</summary>
    public static Tensor operator *(float s, Tensor a) => a.Mul(s);
    /// <summary>a / s</summary>
    public static Tensor operator /(Tensor a, float s) => a.Div(s);
    /// <summary>s / a</summary>
    public static Tensor operator /(float s, Tensor a) => a.UnaryCore(UnaryOp.RDivScalar, "rdiv", s);

    // ----- selection -----

    /// <summary>cond != 0 ? a : b, all three broadcast together.</summary>
    public static Tensor Where(Tensor cond, Tensor a, Tensor b)
    {
        cond.RequireFloat("Where(cond)"); a.RequireFloat("Where(a)"); b.RequireFloat("Where(b)");
        var shape = BroadcastShape(BroadcastShape(cond.Shape, a.Shape, "Where"), b.Shape, "Where");
        var y = Empty(a.Backend, DType.Float32, shape);
        a.Backend.Where(cond.Storage, cond.BroadcastLayout(shape), a.Storage, a.BroadcastLayout(shape), b.Storage, b.BroadcastLayout(shape), y.Storage);
        var aShape = a.Shape.ToArray(); var bShape = b.Shape.ToArray();
        return y.Record("where", [a, b], g =>
        {
            var zero = Zeros([1], DType.Float32, g.Backend);
            return [a.RequiresGrad ? SumToShape(Where(cond, g, zero), aShape) : null,
                    b.RequiresGrad ? SumToShape(Where(cond, zero, g), bShape) : null];
        });
    }

    /// <summary>Replaces elements where <paramref name="mask"/> != 0 by <paramref name="value"/> (mask broadcasts).</summary>
    public Tensor MaskedFill(Tensor mask, float value) => Where(mask, Full([1], value, DType.Float32, Backend), this);
}
