using ILGPU;

namespace SharpTransformer.Ilgpu.Kernels;

/// <summary>Gather, scatter-add, rotary embedding and the fused AdamW update.</summary>
internal static class MiscKernels
{
    /// <summary>y[o, i, r] = src[o, index[i], r]; one thread per element of y. A bad index writes 0 and is recorded.</summary>
    public static void Gather(Index1D e, ArrayView<float> src, ArrayView<int> index, ArrayView<float> y, ArrayView<int> errors,
        int dim, int inner, int count)
    {
        int t = e / inner, r = e - t * inner;
        int o = t / count, i = t - o * count;
        int ix = index[i];
        if (ix < 0 || ix >= dim)
        {
            ErrorFlags.Report(errors, ErrorFlags.Gather, i, ix);
            y[e] = 0f;
            return;
        }
        y[e] = src[(o * dim + ix) * inner + r];
    }

    /// <summary>
    /// y[o, index[i], r] += src[o, i, r]; one thread per (o, r) walks i in order, so repeated indices never race and the
    /// sums are deterministic (the same order as the CPU backend). Bad indices are skipped and recorded.
    /// </summary>
    public static void ScatterAdd(Index1D e, ArrayView<float> src, ArrayView<int> index, ArrayView<float> y, ArrayView<int> errors,
        int dim, int inner, int count)
    {
        int o = e / inner, r = e - o * inner;
        for (int i = 0; i < count; i++)
        {
            int ix = index[i];
            if (ix < 0 || ix >= dim)
            {
                if (o == 0 && r == 0) ErrorFlags.Report(errors, ErrorFlags.ScatterAdd, i, ix);
                continue;
            }
            int d = (o * dim + ix) * inner + r;
            y[d] = y[d] + src[(o * count + i) * inner + r];
        }
    }

    /// <summary>Rotate-half RoPE; one thread per (b, h, t, i &lt; half). invFreq holds theta^(-2i/headDim) in double.</summary>
    public static void Rope(Index1D e, ArrayView<float> x, ArrayView<int> positions, ArrayView<double> invFreq, ArrayView<float> y,
        int heads, int t, int headDim, int inverse)
    {
        int half = headDim / 2;
        int i = e % half, rest = e / half;
        int ti = rest % t, bh = rest / t;
        int b = bh / heads;
        double a = positions[b * t + ti] * invFreq[i];
        DeviceMath.SinCos(a, out double sd, out double cd);
        float cos = (float)cd;
        float sin = inverse != 0 ? -(float)sd : (float)sd;
        int o = rest * headDim;
        float x1 = x[o + i], x2 = x[o + i + half];
        y[o + i] = x1 * cos - x2 * sin;
        y[o + i + half] = x2 * cos + x1 * sin;
    }

    /// <summary>One AdamW step per element, as torch.optim.AdamW: p·decay − stepSize·m / (sqrt(v)/sqrt(bc2) + eps).</summary>
    public static void AdamW(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v,
        float b1, float b2, float eps, float decay, float stepSize, float invBc2Sqrt)
    {
        float gi = g[i];
        float mi = b1 * m[i] + (1f - b1) * gi;
        float vi = b2 * v[i] + (1f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - stepSize * mi / (MathF.Sqrt(vi) * invBc2Sqrt + eps);
    }
}
