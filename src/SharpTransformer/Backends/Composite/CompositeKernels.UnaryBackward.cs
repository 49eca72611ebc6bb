using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Composite;

public static partial class CompositeKernels
{
    /// <summary>
    /// <see cref="IBackend.UnaryBackward"/> from primitives: dx = dy · op'(x), with the derivative written with the forward ops
    /// (e.g. the erf GELU's Φ(x) as y / x, the tanh GELU's inner tanh recomputed), and the kinks (ReLU, |x|, clamps) chosen with
    /// <see cref="IBackend.Where"/> as the fused kernels choose them.
    /// </summary>
    public static void UnaryBackward(IBackend b, UnaryOp op, IStorage x, IStorage y, IStorage dy, IStorage dx, int n, float arg = 0f)
    {
        if (n == 0) return;
        using var t = new Scratch(b);
        var l = C(n);
        var zero = Scalar(n);
        IStorage Tmp() => t.F(n);
        void Mul(IStorage a, IStorage c, IStorage into) => b.Binary(BinaryOp.Mul, a, l, c, l, into);
        void Un(UnaryOp u, IStorage a, IStorage into, float v = 0f) => b.Unary(u, a, l, into, v);
        // dx = cond != 0 ? (a ?? dy) : 0
        void Pass(IStorage cond, IStorage? a = null) => b.Where(cond, l, a ?? dy, l, t.Const(0f), zero, dx);
        IStorage Compare(BinaryOp cmp, float value)
        {
            var r = Tmp();
            b.Binary(cmp, x, l, t.Const(value), zero, r);
            return r;
        }

        switch (op)
        {
            case UnaryOp.Identity:
            case UnaryOp.AddScalar: b.Copy(dy, l, dx, l); break;
            case UnaryOp.Neg: Un(UnaryOp.Neg, dy, dx); break;
            case UnaryOp.Exp: Mul(dy, y, dx); break;
            case UnaryOp.Log: b.Binary(BinaryOp.Div, dy, l, x, l, dx); break;
            case UnaryOp.Sqrt:
            {
                var q = Tmp();
                b.Binary(BinaryOp.Div, dy, l, y, l, q);
                Un(UnaryOp.MulScalar, q, dx, 0.5f);                          // dy · 0.5 / y
                break;
            }
            case UnaryOp.Tanh:
            {
                var s = Tmp(); var d = Tmp();
                Un(UnaryOp.Square, y, s);
                Un(UnaryOp.Neg, s, d);
                Un(UnaryOp.AddScalar, d, s, 1f);                             // 1 - y²
                Mul(dy, s, dx);
                break;
            }
            case UnaryOp.Sigmoid:
            {
                var s = Tmp(); var d = Tmp();
                Un(UnaryOp.Neg, y, s);
                Un(UnaryOp.AddScalar, s, d, 1f);                             // 1 - y
                Mul(y, d, s);
                Mul(dy, s, dx);
                break;
            }
            case UnaryOp.Relu: Pass(Compare(BinaryOp.Greater, 0f)); break;
            case UnaryOp.Abs:
            {
                var neg = Tmp(); var negDy = Tmp();
                Un(UnaryOp.Neg, dy, negDy);
                b.Where(Compare(BinaryOp.Less, 0f), l, negDy, l, t.Const(0f), zero, neg);
                b.Where(Compare(BinaryOp.Greater, 0f), l, dy, l, neg, l, dx);   // sign(x) · dy, 0 at 0
                break;
            }
            case UnaryOp.Square:
            {
                var s = Tmp();
                Un(UnaryOp.MulScalar, x, s, 2f);
                Mul(dy, s, dx);
                break;
            }
            case UnaryOp.Reciprocal:
            {
                var s = Tmp(); var d = Tmp();
                Un(UnaryOp.Square, y, s);
                Un(UnaryOp.Neg, s, d);
                Mul(dy, d, dx);                                              // -dy y²
                break;
            }
            case UnaryOp.MulScalar: Un(UnaryOp.MulScalar, dy, dx, arg); break;
            case UnaryOp.PowScalar:
            {
                if (arg == 0f) { b.Fill(dx, l, 0f); break; }
                var p = Tmp(); var s = Tmp();
                Un(UnaryOp.PowScalar, x, p, arg - 1f);
                Un(UnaryOp.MulScalar, p, s, arg);
                Mul(dy, s, dx);                                              // dy · arg · x^(arg-1)
                break;
            }
            case UnaryOp.RDivScalar:
            {
                var q = Tmp(); var s = Tmp();
                b.Binary(BinaryOp.Div, y, l, x, l, q);
                Un(UnaryOp.Neg, q, s);
                Mul(dy, s, dx);                                              // -dy y / x
                break;
            }
            case UnaryOp.ClampMin: Pass(NotOf(Compare(BinaryOp.Less, arg))); break;       // x >= arg
            case UnaryOp.ClampMax: Pass(NotOf(Compare(BinaryOp.Greater, arg))); break;    // x <= arg
            case UnaryOp.Silu:
            {
                var s = Tmp(); var d = Tmp(); var e = Tmp();
                Un(UnaryOp.Sigmoid, x, s);
                Un(UnaryOp.Neg, s, d);
                Un(UnaryOp.AddScalar, d, e, 1f);                             // 1 - σ
                Mul(x, e, d);
                Un(UnaryOp.AddScalar, d, e, 1f);                             // 1 + x (1 - σ)
                Mul(s, e, d);
                Mul(dy, d, dx);                                              // dy · σ (1 + x (1 - σ))
                break;
            }
            case UnaryOp.Gelu:
            {
                // GELU'(x) = Φ(x) + x φ(x) with Φ(x) = y / x (0.5 at x = 0) and φ(x) = exp(-x²/2) / sqrt(2π).
                var phi = Tmp(); var s = Tmp(); var cdf = Tmp(); var q = Tmp();
                Un(UnaryOp.Square, x, s);
                Un(UnaryOp.MulScalar, s, q, -0.5f);
                Un(UnaryOp.Exp, q, s);
                Un(UnaryOp.MulScalar, s, phi, 0.3989422804014327f);
                Mul(x, phi, s);                                              // x φ(x)
                b.Binary(BinaryOp.Div, y, l, x, l, q);
                b.Where(Compare(BinaryOp.Equal, 0f), l, t.Const(0.5f), zero, q, l, cdf);
                b.Binary(BinaryOp.Add, cdf, l, s, l, q);
                Mul(dy, q, dx);
                break;
            }
            case UnaryOp.GeluTanh:
            {
                // y = 0.5 x (1 + tanh(u)), u = k (x + c x³): y' = 0.5 (1 + tanh u) + 0.5 x (1 - tanh² u) k (1 + 3 c x²).
                const float k = 0.7978845608028654f, c = 0.044715f;
                var x2 = Tmp(); var a = Tmp(); var th = Tmp(); var s = Tmp(); var d = Tmp();
                Un(UnaryOp.Square, x, x2);
                Un(UnaryOp.MulScalar, x2, a, c);
                Un(UnaryOp.AddScalar, a, s, 1f);
                Mul(x, s, a);
                Un(UnaryOp.MulScalar, a, s, k);                              // u
                Un(UnaryOp.Tanh, s, th);
                Un(UnaryOp.AddScalar, th, a, 1f);
                Un(UnaryOp.MulScalar, a, d, 0.5f);                           // 0.5 (1 + tanh u)
                Un(UnaryOp.Square, th, a);
                Un(UnaryOp.Neg, a, s);
                Un(UnaryOp.AddScalar, s, a, 1f);                             // 1 - tanh² u
                Un(UnaryOp.MulScalar, x2, s, 3f * c);
                Un(UnaryOp.AddScalar, s, th, 1f);
                Un(UnaryOp.MulScalar, th, s, 0.5f * k);                      // 0.5 k (1 + 3 c x²)
                Mul(a, s, th);
                Mul(x, th, s);
                b.Binary(BinaryOp.Add, d, l, s, l, a);
                Mul(dy, a, dx);
                break;
            }
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "UnaryBackward: unknown op.");
        }

        IStorage NotOf(IStorage mask)
        {
            var r = Tmp(); var s = Tmp();
            Un(UnaryOp.Neg, mask, s);
            Un(UnaryOp.AddScalar, s, r, 1f);
            return r;
        }
    }
}
