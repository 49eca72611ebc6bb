using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Conformance;

/// <summary>
/// The executable specification of every <see cref="IBackend"/> primitive: plain scalar loops over host arrays, with
/// double accumulators. Backends are compared against these on random shapes and layouts.
/// </summary>
public static class Reference
{
    /// <summary>Element i (row-major) of a layout over host data.</summary>
    public static float At(float[] data, in Layout l, int i) => data[l.IndexOfLinear(i)];

    public static float Unary(UnaryOp op, float x, float arg) => op switch
    {
        UnaryOp.Identity => x,
        UnaryOp.Neg => -x,
        UnaryOp.Exp => (float)Math.Exp(x),
        UnaryOp.Log => (float)Math.Log(x),
        UnaryOp.Sqrt => (float)Math.Sqrt(x),
        UnaryOp.Tanh => (float)Math.Tanh(x),
        UnaryOp.Sigmoid => (float)(1.0 / (1.0 + Math.Exp(-x))),
        UnaryOp.Relu => Math.Max(x, 0f),
        UnaryOp.Gelu => ScalarMath.Gelu(x),
        UnaryOp.GeluTanh => (float)(0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))),
        UnaryOp.Silu => (float)(x / (1.0 + Math.Exp(-x))),
        UnaryOp.Abs => Math.Abs(x),
        UnaryOp.Square => x * x,
        UnaryOp.Reciprocal => 1f / x,
        UnaryOp.AddScalar => x + arg,
        UnaryOp.MulScalar => x * arg,
        UnaryOp.PowScalar => (float)Math.Pow(x, arg),
        UnaryOp.RDivScalar => arg / x,
        UnaryOp.ClampMin => Math.Max(x, arg),
        UnaryOp.ClampMax => Math.Min(x, arg),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>d op(x)/dx (from x and y = op(x)).</summary>
    public static float UnaryGrad(UnaryOp op, float x, float y, float arg) => op switch
    {
        UnaryOp.Identity or UnaryOp.AddScalar => 1f,
        UnaryOp.Neg => -1f,
        UnaryOp.Exp => y,
        UnaryOp.Log => 1f / x,
        UnaryOp.Sqrt => 0.5f / y,
        UnaryOp.Tanh => 1f - y * y,
        UnaryOp.Sigmoid => y * (1f - y),
        UnaryOp.Relu => x > 0 ? 1f : 0f,
        UnaryOp.Gelu => ScalarMath.GeluGrad(x),
        UnaryOp.GeluTanh => ScalarMath.GeluTanhGrad(x),
        UnaryOp.Silu => (float)(1 / (1 + Math.Exp(-x)) * (1 + x * (1 - 1 / (1 + Math.Exp(-x))))),
        UnaryOp.Abs => Math.Sign(x),
        UnaryOp.Square => 2 * x,
        UnaryOp.Reciprocal => -y * y,
        UnaryOp.MulScalar => arg,
        UnaryOp.PowScalar => arg == 0 ? 0f : (float)(arg * Math.Pow(x, arg - 1)),
        UnaryOp.RDivScalar => -y / x,
        UnaryOp.ClampMin => x >= arg ? 1f : 0f,
        UnaryOp.ClampMax => x <= arg ? 1f : 0f,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    public static float Binary(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Pow => (float)Math.Pow(a, b),
        BinaryOp.Max => Math.Max(a, b),
        BinaryOp.Min => Math.Min(a, b),
        BinaryOp.Equal => a == b ? 1f : 0f,
        BinaryOp.Greater => a > b ? 1f : 0f,
        BinaryOp.Less => a < b ? 1f : 0f,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>Reduce along an axis; returns values (ArgMax as floats).</summary>
    public static float[] Reduce(ReduceOp op, float[] x, in Layout xl, int axis)
    {
        var shape = xl.Shape;
        int outer = 1, inner = 1, len = shape[axis];
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        var y = new float[outer * inner];
        var idx = new int[shape.Length];
        for (int o = 0; o < outer; o++)
            for (int r = 0; r < inner; r++)
            {
                double sum = 0; float best = float.NaN; int bi = 0;
                for (int a = 0; a < len; a++)
                {
                    int lin = (o * len + a) * inner + r;
                    float v = At(x, xl, lin);
                    sum += v;
                    if (a == 0) { best = v; bi = 0; continue; }
                    switch (op)
                    {
                        case ReduceOp.Max: if (v > best || float.IsNaN(v)) best = float.IsNaN(best) ? best : v; break;
                        case ReduceOp.Min: if (v < best || float.IsNaN(v)) best = float.IsNaN(best) ? best : v; break;
                        case ReduceOp.ArgMax: if (v > best || (float.IsNaN(v) && !float.IsNaN(best))) { best = v; bi = a; } break;
                    }
                }
                y[o * inner + r] = op switch { ReduceOp.Sum => (float)sum, ReduceOp.ArgMax => bi, _ => best };
            }
        return y;
    }

    /// <summary>Batched y = a @ b for layouts (..., M, K) and (..., K, N).</summary>
    public static float[] MatMul(float[] a, in Layout al, float[] b, in Layout bl)
    {
        int r = al.Rank;
        int m = al.Shape[r - 2], k = al.Shape[r - 1], n = bl.Shape[r - 1];
        int batch = 1;
        for (int d = 0; d < r - 2; d++) batch *= al.Shape[d];
        var y = new float[batch * m * n];
        for (int z = 0; z < batch; z++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++)
                        s += (double)At(a, al, (z * m + i) * k + p) * At(b, bl, (z * k + p) * n + j);
                    y[(z * m + i) * n + j] = (float)s;
                }
        return y;
    }

    public static float[] Softmax(float[] x, int rows, int cols, bool log)
    {
        var y = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double m = double.NegativeInfinity, s = 0;
            for (int c = 0; c < cols; c++) m = Math.Max(m, x[r * cols + c]);
            for (int c = 0; c < cols; c++) s += Math.Exp(x[r * cols + c] - m);
            for (int c = 0; c < cols; c++)
                y[r * cols + c] = (float)(log ? x[r * cols + c] - m - Math.Log(s) : Math.Exp(x[r * cols + c] - m) / s);
        }
        return y;
    }

    public static float[] SoftmaxBackward(float[] y, float[] dy, int rows, int cols, bool log)
    {
        var dx = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int c = 0; c < cols; c++) s += log ? dy[r * cols + c] : (double)dy[r * cols + c] * y[r * cols + c];
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                dx[i] = (float)(log ? dy[i] - Math.Exp(y[i]) * s : y[i] * (dy[i] - s));
            }
        }
        return dx;
    }

    public static (float[] Y, float[] Mean, float[] Rstd) LayerNorm(float[] x, float[]? w, float[]? b, int rows, int cols, float eps)
    {
        var y = new float[rows * cols]; var mean = new float[rows]; var rstd = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            double mu = 0, v = 0;
            for (int c = 0; c < cols; c++) mu += x[r * cols + c];
            mu /= cols;
            for (int c = 0; c < cols; c++) v += (x[r * cols + c] - mu) * (x[r * cols + c] - mu);
            double rs = 1 / Math.Sqrt(v / cols + eps);
            mean[r] = (float)mu; rstd[r] = (float)rs;
            for (int c = 0; c < cols; c++)
                y[r * cols + c] = (float)((x[r * cols + c] - mu) * rs * (w?[c] ?? 1f) + (b?[c] ?? 0f));
        }
        return (y, mean, rstd);
    }

    /// <summary>Backward of layer norm (or RMS norm when <paramref name="rms"/>; mean is then ignored).</summary>
    public static (float[] Dx, float[] Dw, float[] Db) NormBackward(float[] x, float[]? w, float[] mean, float[] rstd, float[] dy, int rows, int cols, bool rms)
    {
        var dx = new float[rows * cols]; var dw = new double[cols]; var db = new double[cols];
        for (int r = 0; r < rows; r++)
        {
            double mg = 0, mgx = 0;
            var xhat = new double[cols];
            var gw = new double[cols];
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                xhat[c] = (x[i] - (rms ? 0 : mean[r])) * rstd[r];
                gw[c] = dy[i] * (w?[c] ?? 1f);
                mg += gw[c]; mgx += gw[c] * xhat[c];
                dw[c] += dy[i] * xhat[c]; db[c] += dy[i];
            }
            mg /= cols; mgx /= cols;
            for (int c = 0; c < cols; c++)
                dx[r * cols + c] = (float)(rstd[r] * (gw[c] - (rms ? 0 : mg) - xhat[c] * mgx));
        }
        return (dx, dw.Select(v => (float)v).ToArray(), db.Select(v => (float)v).ToArray());
    }

    public static (float[] Y, float[] Rstd) RmsNorm(float[] x, float[]? w, int rows, int cols, float eps)
    {
        var y = new float[rows * cols]; var rstd = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int c = 0; c < cols; c++) s += (double)x[r * cols + c] * x[r * cols + c];
            double rs = 1 / Math.Sqrt(s / cols + eps);
            rstd[r] = (float)rs;
            for (int c = 0; c < cols; c++) y[r * cols + c] = (float)(x[r * cols + c] * rs * (w?[c] ?? 1f));
        }
        return (y, rstd);
    }

    public static (float[] Loss, float[] Lse, float[] Valid, float[] DLogits) CrossEntropy(float[] logits, int[] targets, int rows, int classes,
        int ignore, float smoothing, float[] dRow, float scale)
    {
        var loss = new float[rows]; var lse = new float[rows]; var valid = new float[rows]; var d = new float[rows * classes];
        for (int r = 0; r < rows; r++)
        {
            double m = double.NegativeInfinity, s = 0, sum = 0;
            for (int c = 0; c < classes; c++) { m = Math.Max(m, logits[r * classes + c]); sum += logits[r * classes + c]; }
            for (int c = 0; c < classes; c++) s += Math.Exp(logits[r * classes + c] - m);
            double l = m + Math.Log(s);
            lse[r] = (float)l;
            int t = targets[r];
            if (t == ignore) continue;
            valid[r] = 1;
            double nll = l - logits[r * classes + t];
            loss[r] = (float)((1 - smoothing) * nll + smoothing * (l - sum / classes));
            for (int c = 0; c < classes; c++)
            {
                double p = Math.Exp(logits[r * classes + c] - l) - smoothing / classes - (c == t ? 1 - smoothing : 0);
                d[r * classes + c] = (float)(p * scale * dRow[r]);
            }
        }
        return (loss, lse, valid, d);
    }

    public static float[] Rope(float[] x, int[] pos, int batch, int heads, int t, int d, float theta, bool inverse)
    {
        var y = new float[x.Length];
        int half = d / 2;
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int ti = 0; ti < t; ti++)
                    for (int i = 0; i < half; i++)
                    {
                        double a = pos[b * t + ti] * Math.Pow(theta, -2.0 * i / d);
                        double c = Math.Cos(a), s = inverse ? -Math.Sin(a) : Math.Sin(a);
                        int o = ((b * heads + h) * t + ti) * d;
                        y[o + i] = (float)(x[o + i] * c - x[o + i + half] * s);
                        y[o + i + half] = (float)(x[o + i + half] * c + x[o + i] * s);
                    }
        return y;
    }

    public static void AdamW(float[] p, float[] g, float[] m, float[] v, in AdamWArgs a)
    {
        double bc1 = 1 - Math.Pow(a.Beta1, a.Step), bc2 = 1 - Math.Pow(a.Beta2, a.Step);
        for (int i = 0; i < p.Length; i++)
        {
            m[i] = a.Beta1 * m[i] + (1 - a.Beta1) * g[i];
            v[i] = a.Beta2 * v[i] + (1 - a.Beta2) * g[i] * g[i];
            double update = a.LearningRate / bc1 * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(bc2) + a.Epsilon);
            p[i] = (float)(p[i] * (1 - (double)a.LearningRate * a.WeightDecay) - update);
        }
    }

    /// <summary>Naive attention with full score matrices: output, lse, and the gradients for dOutput (value head size Dv, sliding window).</summary>
    public static (float[] O, float[] Lse, float[] Dq, float[] Dk, float[] Dv, float[] Dbias) Attention(in AttentionShape s, float[] q, float[] k, float[] v,
        float[]? mask, float[]? bias, Layout biasLayout, float[] dO)
    {
        int B = s.Batch, H = s.Heads, Tq = s.QueryLength, Tk = s.KeyLength, D = s.HeadDim, Dv = s.ValueDim > 0 ? s.ValueDim : s.HeadDim;
        var o = new float[B * H * Tq * Dv]; var lse = new float[B * H * Tq];
        var dq = new double[q.Length]; var dk = new double[B * s.KvHeads * Tk * D]; var dv = new double[B * s.KvHeads * Tk * Dv];
        var dbias = new float[B * H * Tq * Tk];
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++)
            {
                int kvh = h / s.Group;
                for (int i = 0; i < Tq; i++)
                {
                    int row = (b * H + h) * Tq + i;
                    var sc = new double[Tk];
                    double m = double.NegativeInfinity;
                    int last = i + Tk - Tq;                              // i' : the query's position among the keys
                    for (int j = 0; j < Tk; j++)
                    {
                        sc[j] = double.NegativeInfinity;
                        if (s.Causal && j > last) continue;
                        if (s.Causal && s.Window > 0 && j <= last - s.Window) continue;
                        if (mask is not null && mask[b * Tk + j] == 0) continue;
                        double dot = 0;
                        for (int d = 0; d < D; d++) dot += (double)q[row * D + d] * k[((b * s.KvHeads + kvh) * s.KeyRows + j) * D + d];
                        sc[j] = dot * s.Scale;
                        if (bias is not null) sc[j] += bias[biasLayout.IndexOf([b, h, i, j])];
                        m = Math.Max(m, sc[j]);
                    }
                    if (double.IsNegativeInfinity(m)) { lse[row] = float.NegativeInfinity; continue; }
                    double l = 0;
                    for (int j = 0; j < Tk; j++) l += Math.Exp(sc[j] - m);
                    lse[row] = (float)(m + Math.Log(l));
                    var p = sc.Select(x => Math.Exp(x - m) / l).ToArray();
                    for (int d = 0; d < Dv; d++)
                    {
                        double acc = 0;
                        for (int j = 0; j < Tk; j++) acc += p[j] * v[((b * s.KvHeads + kvh) * s.KeyRows + j) * Dv + d];
                        o[row * Dv + d] = (float)acc;
                    }
                    // Backward.
                    double di = 0;
                    for (int d = 0; d < Dv; d++) di += (double)dO[row * Dv + d] * o[row * Dv + d];
                    for (int j = 0; j < Tk; j++)
                    {
                        if (p[j] == 0) continue;
                        int kOff = ((b * s.KvHeads + kvh) * s.KeyRows + j) * D, kg = ((b * s.KvHeads + kvh) * Tk + j) * D;
                        int vOff = ((b * s.KvHeads + kvh) * s.KeyRows + j) * Dv, vg = ((b * s.KvHeads + kvh) * Tk + j) * Dv;
                        double dp = 0;
                        for (int d = 0; d < Dv; d++) dp += (double)dO[row * Dv + d] * v[vOff + d];
                        double ds = p[j] * (dp - di);
                        dbias[row * Tk + j] = (float)ds;
                        for (int d = 0; d < Dv; d++) dv[vg + d] += p[j] * dO[row * Dv + d];
                        for (int d = 0; d < D; d++)
                        {
                            dq[row * D + d] += ds * s.Scale * k[kOff + d];
                            dk[kg + d] += ds * s.Scale * q[row * D + d];
                        }
                    }
                }
            }
        static float[] F(double[] a) => a.Select(x => (float)x).ToArray();
        return (o, lse, F(dq), F(dk), F(dv), dbias);
    }
}
