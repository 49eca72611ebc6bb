using System.Runtime.Intrinsics;
using System.Numerics.Tensors;

namespace SharpTransformer.Backends.Cpu;

// Softmax, norms, cross-entropy, rope, AdamW. Attention lives in CpuBackend.Attention.cs.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Softmax(IStorage x, int rows, int cols, IStorage y, bool log)
    {
        var xa = F(x); var ya = F(y);
        ParallelFor(rows, cols * 4L, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var xr = xa.AsSpan(r * cols, cols);
                var yr = ya.AsSpan(r * cols, cols);
                float max = TensorPrimitives.Max(xr);
                TensorPrimitives.Subtract(xr, max, yr);
                if (log)
                {
                    // log-softmax = (x - max) - log(sum(exp(x - max))).
                    TensorPrimitives.Subtract(yr, (float)Math.Log(SumExp(xr, max)), yr);
                }
                else
                {
                    TensorPrimitives.Exp(yr, yr);
                    float sum = TensorPrimitives.Sum(yr);
                    TensorPrimitives.Multiply(yr, 1f / sum, yr);
                }
            }
        });
    }

    // sum(exp(x - max)) with SIMD exponentials over chunks and a double accumulator: a float running sum over 50k
    // vocabulary entries drifts by ~1e-4 relative, which shows in the loss and every gradient.
    private static double SumExp(ReadOnlySpan<float> x, float max)
    {
        Span<float> buf = stackalloc float[1024];
        double sum = 0;
        for (int s = 0; s < x.Length; s += buf.Length)
        {
            int n = Math.Min(buf.Length, x.Length - s);
            var b = buf[..n];
            TensorPrimitives.Subtract(x.Slice(s, n), max, b);
            TensorPrimitives.Exp(b, b);
            sum += TensorPrimitives.Sum(b);
        }
        return sum;
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(IStorage y, IStorage dy, int rows, int cols, IStorage dx, bool log)
    {
        var ya = F(y); var ga = F(dy); var da = F(dx);
        ParallelFor(rows, cols * 3L, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var yr = ya.AsSpan(r * cols, cols);
                var gr = ga.AsSpan(r * cols, cols);
                var dr = da.AsSpan(r * cols, cols);
                if (log)
                {
                    // dx = dy - softmax * sum(dy)
                    float s = TensorPrimitives.Sum(gr);
                    for (int i = 0; i < cols; i++) dr[i] = gr[i] - MathF.Exp(yr[i]) * s;
                }
                else
                {
                    // dx = y * (dy - sum(dy * y))
                    float s = TensorPrimitives.Dot(gr, yr);
                    TensorPrimitives.Subtract(gr, s, dr);
                    TensorPrimitives.Multiply(dr, yr, dr);
                }
            }
        });
    }

    /// <inheritdoc/>
    public void LayerNorm(IStorage x, IStorage? weight, IStorage? bias, int rows, int cols, float eps, IStorage y, IStorage mean, IStorage rstd)
    {
        var xa = F(x); var ya = F(y); var ma = F(mean); var ra = F(rstd);
        var wa = weight is null ? null : F(weight);
        var ba = bias is null ? null : F(bias);
        ParallelFor(rows, cols * 4L, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var xr = xa.AsSpan(r * cols, cols);
                var yr = ya.AsSpan(r * cols, cols);
                float mu = TensorPrimitives.Sum(xr) / cols;
                TensorPrimitives.Subtract(xr, mu, yr);
                float var = TensorPrimitives.SumOfSquares(yr) / cols;
                float rs = 1f / MathF.Sqrt(var + eps);
                ma[r] = mu; ra[r] = rs;
                TensorPrimitives.Multiply(yr, rs, yr);
                if (wa is not null) TensorPrimitives.Multiply(yr, wa.AsSpan(0, cols), yr);
                if (ba is not null) TensorPrimitives.Add(yr, ba.AsSpan(0, cols), yr);
            }
        });
    }

    /// <inheritdoc/>
    public void LayerNormBackward(IStorage x, IStorage? weight, IStorage mean, IStorage rstd, IStorage dy, int rows, int cols,
        IStorage dx, IStorage? dweight, IStorage? dbias)
    {
        var xa = F(x); var ga = F(dy); var da = F(dx); var ma = F(mean); var ra = F(rstd);
        var wa = weight is null ? null : F(weight);
        var dwa = dweight is null ? null : F(dweight);
        var dba = dbias is null ? null : F(dbias);
        int chunks = Math.Max(1, Math.Min(Threads, rows));
        var partW = dwa is null ? null : new float[chunks * cols];
        var partB = dba is null ? null : new float[chunks * cols];
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Threads }, c =>
        {
            int r0 = (int)((long)rows * c / chunks), r1 = (int)((long)rows * (c + 1) / chunks);
            Span<float> xhat = cols <= 4096 ? stackalloc float[cols] : new float[cols];
            Span<float> gw = cols <= 4096 ? stackalloc float[cols] : new float[cols];
            for (int r = r0; r < r1; r++)
            {
                var xr = xa.AsSpan(r * cols, cols);
                var gr = ga.AsSpan(r * cols, cols);
                var dr = da.AsSpan(r * cols, cols);
                float mu = ma[r], rs = ra[r];
                TensorPrimitives.Subtract(xr, mu, xhat);
                TensorPrimitives.Multiply(xhat, rs, xhat);                  // x̂
                if (partW is not null) TensorPrimitives.MultiplyAdd(gr, xhat, partW.AsSpan(c * cols, cols), partW.AsSpan(c * cols, cols));
                if (partB is not null) TensorPrimitives.Add(gr, partB.AsSpan(c * cols, cols), partB.AsSpan(c * cols, cols));
                if (wa is not null) TensorPrimitives.Multiply(gr, wa.AsSpan(0, cols), gw); else gr.CopyTo(gw);   // g·w
                float meanG = TensorPrimitives.Sum(gw) / cols;
                float meanGX = TensorPrimitives.Dot(gw, xhat) / cols;
                // dx = rstd * (g·w - mean(g·w) - x̂ * mean(g·w·x̂))
                TensorPrimitives.Multiply(xhat, -meanGX, dr);
                TensorPrimitives.Add(dr, gw, dr);
                TensorPrimitives.Subtract(dr, meanG, dr);
                TensorPrimitives.Multiply(dr, rs, dr);
            }
        });
        if (dwa is not null) SumParts(partW!, chunks, cols, dwa);
        if (dba is not null) SumParts(partB!, chunks, cols, dba);
    }

    private static void SumParts(float[] parts, int chunks, int cols, float[] dst)
    {
        var d = dst.AsSpan(0, cols);
        parts.AsSpan(0, cols).CopyTo(d);
        for (int c = 1; c < chunks; c++) TensorPrimitives.Add(d, parts.AsSpan(c * cols, cols), d);
    }

    /// <inheritdoc/>
    public void RmsNorm(IStorage x, IStorage? weight, int rows, int cols, float eps, IStorage y, IStorage rstd)
    {
        var xa = F(x); var ya = F(y); var ra = F(rstd);
        var wa = weight is null ? null : F(weight);
        ParallelFor(rows, cols * 3L, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var xr = xa.AsSpan(r * cols, cols);
                var yr = ya.AsSpan(r * cols, cols);
                float rs = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xr) / cols + eps);
                ra[r] = rs;
                TensorPrimitives.Multiply(xr, rs, yr);
                if (wa is not null) TensorPrimitives.Multiply(yr, wa.AsSpan(0, cols), yr);
            }
        });
    }

    /// <inheritdoc/>
    public void RmsNormBackward(IStorage x, IStorage? weight, IStorage rstd, IStorage dy, int rows, int cols, IStorage dx, IStorage? dweight)
    {
        var xa = F(x); var ga = F(dy); var da = F(dx); var ra = F(rstd);
        var wa = weight is null ? null : F(weight);
        var dwa = dweight is null ? null : F(dweight);
        int chunks = Math.Max(1, Math.Min(Threads, rows));
        var partW = dwa is null ? null : new float[chunks * cols];
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Threads }, c =>
        {
            int r0 = (int)((long)rows * c / chunks), r1 = (int)((long)rows * (c + 1) / chunks);
            Span<float> xhat = cols <= 4096 ? stackalloc float[cols] : new float[cols];
            Span<float> gw = cols <= 4096 ? stackalloc float[cols] : new float[cols];
            for (int r = r0; r < r1; r++)
            {
                var xr = xa.AsSpan(r * cols, cols);
                var gr = ga.AsSpan(r * cols, cols);
                var dr = da.AsSpan(r * cols, cols);
                float rs = ra[r];
                TensorPrimitives.Multiply(xr, rs, xhat);                     // x̂ = x·rstd
                if (partW is not null) TensorPrimitives.MultiplyAdd(gr, xhat, partW.AsSpan(c * cols, cols), partW.AsSpan(c * cols, cols));
                if (wa is not null) TensorPrimitives.Multiply(gr, wa.AsSpan(0, cols), gw); else gr.CopyTo(gw);
                float m = TensorPrimitives.Dot(gw, xhat) / cols;
                // dx = rstd * (g·w - x̂ * mean(g·w·x̂))
                TensorPrimitives.Multiply(xhat, -m, dr);
                TensorPrimitives.Add(dr, gw, dr);
                TensorPrimitives.Multiply(dr, rs, dr);
            }
        });
        if (dwa is not null) SumParts(partW!, chunks, cols, dwa);
    }

    /// <inheritdoc/>
    public void CrossEntropy(IStorage logits, IStorage targets, int rows, int classes, int ignoreIndex, float labelSmoothing,
        IStorage rowLoss, IStorage lse, IStorage valid)
    {
        var la = F(logits); var ta = I(targets); var ra = F(rowLoss); var sa = F(lse); var va = F(valid);
        for (int r = 0; r < rows; r++)
        {
            int t = ta[r];
            if (t != ignoreIndex && (uint)t >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(targets), t, $"cross_entropy: target {t} in row {r} is outside [0, {classes}) and is not the ignore index {ignoreIndex}.");
        }
        ParallelFor(rows, classes * 2L, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var lr = la.AsSpan(r * classes, classes);
                float max = TensorPrimitives.Max(lr);
                float l = (float)(max + Math.Log(SumExp(lr, max)));
                sa[r] = l;
                int t = ta[r];
                if (t == ignoreIndex) { ra[r] = 0f; va[r] = 0f; continue; }
                float nll = l - lr[t];
                if (labelSmoothing > 0f)
                {
                    float smooth = l - TensorPrimitives.Sum(lr) / classes;        // mean over classes of -log p
                    nll = (1f - labelSmoothing) * nll + labelSmoothing * smooth;
                }
                ra[r] = nll; va[r] = 1f;
            }
        });
    }

    /// <inheritdoc/>
    public void CrossEntropyBackward(IStorage logits, IStorage targets, IStorage lse, IStorage dRowLoss, IStorage scale, int rows, int classes,
        int ignoreIndex, float labelSmoothing, IStorage dlogits)
    {
        var la = F(logits); var ta = I(targets); var sa = F(lse); var ga = F(dRowLoss); var da = F(dlogits);
        float sc = F(scale)[0];
        ParallelFor(rows, classes * 2L, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var dr = da.AsSpan(r * classes, classes);
                int t = ta[r];
                if (t == ignoreIndex) { dr.Clear(); continue; }
                float g = sc * ga[r];
                TensorPrimitives.Subtract(la.AsSpan(r * classes, classes), sa[r], dr);
                TensorPrimitives.Exp(dr, dr);                                  // softmax
                if (labelSmoothing > 0f) TensorPrimitives.Subtract(dr, labelSmoothing / classes, dr);
                dr[t] -= 1f - labelSmoothing;
                TensorPrimitives.Multiply(dr, g, dr);
            }
        });
    }

    /// <inheritdoc/>
    public void Rope(IStorage x, IStorage positions, int batch, int heads, int t, int headDim, float theta, IStorage y, bool inverse)
    {
        var xa = F(x); var pa = I(positions); var ya = F(y);
        int half = headDim / 2;
        var inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = Math.Pow(theta, -2.0 * i / headDim);
        ParallelFor(batch * t, heads * headDim * 2L, (s0, s1) =>
        {
            Span<float> cos = stackalloc float[half];
            Span<float> sin = stackalloc float[half];
            for (int bt = s0; bt < s1; bt++)
            {
                int b = bt / t, ti = bt % t;
                double p = pa[bt];
                for (int i = 0; i < half; i++)
                {
                    double a = p * inv[i];
                    cos[i] = (float)Math.Cos(a);
                    sin[i] = inverse ? -(float)Math.Sin(a) : (float)Math.Sin(a);
                }
                for (int h = 0; h < heads; h++)
                {
                    int o = ((b * heads + h) * t + ti) * headDim;
                    for (int i = 0; i < half; i++)
                    {
                        float x1 = xa[o + i], x2 = xa[o + i + half];
                        ya[o + i] = x1 * cos[i] - x2 * sin[i];
                        ya[o + i + half] = x2 * cos[i] + x1 * sin[i];
                    }
                }
            }
        });
    }

    /// <inheritdoc/>
    public void AdamW(IStorage param, IStorage grad, IStorage m, IStorage v, int n, in AdamWArgs args)
    {
        var pa = F(param); var ga = F(grad); var ma = F(m); var va = F(v);
        var a = args;
        float bc1 = 1f - MathF.Pow(a.Beta1, a.Step);
        float bc2 = 1f - MathF.Pow(a.Beta2, a.Step);
        float stepSize = a.LearningRate / bc1;
        float bc2Sqrt = MathF.Sqrt(bc2);
        float decay = 1f - a.LearningRate * a.WeightDecay;
        ParallelFor(n, 8, (s, e) => AdamWSpan(pa.AsSpan(s, e - s), ga.AsSpan(s, e - s), ma.AsSpan(s, e - s), va.AsSpan(s, e - s),
            a.Beta1, a.Beta2, a.Epsilon, decay, stepSize, bc2Sqrt));
    }

    // One pass: p·decay, then m, v update and p -= stepSize · m / (sqrt(v)/sqrt(bc2) + eps), as torch.optim.AdamW.
    private static void AdamWSpan(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float b1, float b2, float eps, float decay, float stepSize, float bc2Sqrt)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vb1 = Vector512.Create(b1);
            var vb1c = Vector512.Create(1f - b1);
            var vb2 = Vector512.Create(b2);
            var vb2c = Vector512.Create(1f - b2);
            var vdecay = Vector512.Create(decay);
            var vstep = Vector512.Create(stepSize);
            var vinvbc = Vector512.Create(1f / bc2Sqrt);
            var veps = Vector512.Create(eps);
            for (; i <= p.Length - 16; i += 16)
            {
                var gv = Vector512.Create(g.Slice(i, 16));
                var mv = vb1 * Vector512.Create(m.Slice(i, 16)) + vb1c * gv;
                var vv = vb2 * Vector512.Create(v.Slice(i, 16)) + vb2c * gv * gv;
                var pv = Vector512.Create(p.Slice(i, 16)) * vdecay;
                pv -= vstep * mv / (Vector512.Sqrt(vv) * vinvbc + veps);
                mv.CopyTo(m.Slice(i, 16));
                vv.CopyTo(v.Slice(i, 16));
                pv.CopyTo(p.Slice(i, 16));
            }
        }
        for (; i < p.Length; i++)
        {
            float gi = g[i];
            float mi = b1 * m[i] + (1f - b1) * gi;
            float vi = b2 * v[i] + (1f - b2) * gi * gi;
            m[i] = mi; v[i] = vi;
            p[i] = p[i] * decay - stepSize * mi / (MathF.Sqrt(vi) / bc2Sqrt + eps);
        }
    }
}
