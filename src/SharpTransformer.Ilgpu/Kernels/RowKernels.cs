using ILGPU;

namespace SharpTransformer.Ilgpu.Kernels;

/// <summary>
/// Row-wise fused kernels (softmax, layer and RMS norm, cross-entropy): one group per row of a contiguous (rows, cols)
/// matrix, threads striding over the columns, reductions in dynamic shared memory (group-size floats unless stated).
/// </summary>
internal static class RowKernels
{
    public static void Softmax(ArrayView<float> x, ArrayView<float> y, int cols, int log)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int r = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        int o = r * cols;
        float m = float.NegativeInfinity;
        for (int c = t; c < cols; c += g) m = DeviceMath.Max(m, x[o + c]);
        m = GroupOps.Max(sh, t, m);
        float s = 0f;
        for (int c = t; c < cols; c += g) s += DeviceMath.Exp(x[o + c] - m);
        s = GroupOps.Sum(sh, t, s);
        if (log != 0)
        {
            float ls = DeviceMath.Log(s);
            for (int c = t; c < cols; c += g) y[o + c] = (x[o + c] - m) - ls;
        }
        else
        {
            float inv = 1f / s;
            for (int c = t; c < cols; c += g) y[o + c] = DeviceMath.Exp(x[o + c] - m) * inv;
        }
    }

    public static void SoftmaxBackward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int cols, int log)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int r = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        int o = r * cols;
        float s = 0f;
        if (log != 0) for (int c = t; c < cols; c += g) s += dy[o + c];
        else for (int c = t; c < cols; c += g) s += dy[o + c] * y[o + c];
        s = GroupOps.Sum(sh, t, s);
        if (log != 0) for (int c = t; c < cols; c += g) dx[o + c] = dy[o + c] - DeviceMath.Exp(y[o + c]) * s;
        else for (int c = t; c < cols; c += g) dx[o + c] = (dy[o + c] - s) * y[o + c];
    }

    /// <summary>Layer norm; weight and bias are read only when hasWeight / hasBias.</summary>
    public static void LayerNorm(ArrayView<float> x, ArrayView<float> w, ArrayView<float> b, ArrayView<float> y,
        ArrayView<float> mean, ArrayView<float> rstd, int cols, float eps, int hasWeight, int hasBias)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int r = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        int o = r * cols;
        float s = 0f;
        for (int c = t; c < cols; c += g) s += x[o + c];
        float mu = GroupOps.Sum(sh, t, s) / cols;
        float v = 0f;
        for (int c = t; c < cols; c += g) { float d = x[o + c] - mu; v += d * d; }
        float var = GroupOps.Sum(sh, t, v) / cols;
        float rs = 1f / MathF.Sqrt(var + eps);
        if (t == 0) { mean[r] = mu; rstd[r] = rs; }
        for (int c = t; c < cols; c += g)
        {
            float yv = (x[o + c] - mu) * rs;
            if (hasWeight != 0) yv *= w[c];
            if (hasBias != 0) yv += b[c];
            y[o + c] = yv;
        }
    }

    /// <summary>dx of layer norm: rstd · (g·w − mean(g·w) − x̂ · mean(g·w·x̂)). Shared memory: group-size floats.</summary>
    public static void LayerNormBackward(ArrayView<float> x, ArrayView<float> w, ArrayView<float> mean, ArrayView<float> rstd,
        ArrayView<float> dy, ArrayView<float> dx, int cols, int hasWeight)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int r = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        int o = r * cols;
        float mu = mean[r], rs = rstd[r];
        float sg = 0f, sgx = 0f;
        for (int c = t; c < cols; c += g)
        {
            float gw = hasWeight != 0 ? dy[o + c] * w[c] : dy[o + c];
            sg += gw;
            sgx += gw * (x[o + c] - mu) * rs;
        }
        float meanG = GroupOps.Sum(sh, t, sg) / cols;
        float meanGX = GroupOps.Sum(sh, t, sgx) / cols;
        for (int c = t; c < cols; c += g)
        {
            float gw = hasWeight != 0 ? dy[o + c] * w[c] : dy[o + c];
            float xhat = (x[o + c] - mu) * rs;
            dx[o + c] = (gw - meanG - xhat * meanGX) * rs;
        }
    }

    /// <summary>dweight[c] = Σ_r dy·x̂ and dbias[c] = Σ_r dy, one thread per column (deterministic, no atomics).</summary>
    public static void LayerNormParamGrad(Index1D c, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dy,
        ArrayView<float> dw, ArrayView<float> db, int rows, int cols, int hasDw, int hasDb)
    {
        float sw = 0f, sb = 0f;
        for (int r = 0; r < rows; r++)
        {
            float gv = dy[r * cols + c];
            sw += gv * (x[r * cols + c] - mean[r]) * rstd[r];
            sb += gv;
        }
        if (hasDw != 0) dw[c] = sw;
        if (hasDb != 0) db[c] = sb;
    }

    public static void RmsNorm(ArrayView<float> x, ArrayView<float> w, ArrayView<float> y, ArrayView<float> rstd, int cols, float eps, int hasWeight)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int r = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        int o = r * cols;
        float s = 0f;
        for (int c = t; c < cols; c += g) { float v = x[o + c]; s += v * v; }
        float rs = 1f / MathF.Sqrt(GroupOps.Sum(sh, t, s) / cols + eps);
        if (t == 0) rstd[r] = rs;
        for (int c = t; c < cols; c += g)
        {
            float yv = x[o + c] * rs;
            if (hasWeight != 0) yv *= w[c];
            y[o + c] = yv;
        }
    }

    public static void RmsNormBackward(ArrayView<float> x, ArrayView<float> w, ArrayView<float> rstd, ArrayView<float> dy, ArrayView<float> dx,
        int cols, int hasWeight)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int r = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        int o = r * cols;
        float rs = rstd[r];
        float sgx = 0f;
        for (int c = t; c < cols; c += g)
        {
            float gw = hasWeight != 0 ? dy[o + c] * w[c] : dy[o + c];
            sgx += gw * x[o + c] * rs;
        }
        float m = GroupOps.Sum(sh, t, sgx) / cols;
        for (int c = t; c < cols; c += g)
        {
            float gw = hasWeight != 0 ? dy[o + c] * w[c] : dy[o + c];
            dx[o + c] = (gw - x[o + c] * rs * m) * rs;
        }
    }

    public static void RmsNormParamGrad(Index1D c, ArrayView<float> x, ArrayView<float> rstd, ArrayView<float> dy, ArrayView<float> dw, int rows, int cols)
    {
        float sw = 0f;
        for (int r = 0; r < rows; r++) sw += dy[r * cols + c] * x[r * cols + c] * rstd[r];
        dw[c] = sw;
    }

    /// <summary>
    /// Cross-entropy per row. A target outside [0, classes) other than the ignore index is recorded in errors[slot] (the
    /// smallest bad row wins) and gives a NaN loss; the host reports it at the next read.
    /// </summary>
    public static void CrossEntropy(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> rowLoss, ArrayView<float> lse,
        ArrayView<float> valid, ArrayView<int> errors, int classes, int ignoreIndex, float smoothing, int slot)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int r = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        int o = r * classes;
        float m = float.NegativeInfinity;
        for (int c = t; c < classes; c += g) m = DeviceMath.Max(m, logits[o + c]);
        m = GroupOps.Max(sh, t, m);
        float s = 0f, sum = 0f;
        for (int c = t; c < classes; c += g) { float v = logits[o + c]; s += DeviceMath.Exp(v - m); sum += v; }
        s = GroupOps.Sum(sh, t, s);
        if (smoothing > 0f) sum = GroupOps.Sum(sh, t, sum);
        if (t != 0) return;
        float l = m + DeviceMath.Log(s);
        lse[r] = l;
        int target = targets[r];
        if (target == ignoreIndex) { rowLoss[r] = 0f; valid[r] = 0f; return; }
        if (target < 0 || target >= classes)
        {
            ErrorFlags.Report(errors, slot, r, target);
            rowLoss[r] = float.NaN; valid[r] = 1f;
            return;
        }
        float nll = l - logits[o + target];
        if (smoothing > 0f) nll = (1f - smoothing) * nll + smoothing * (l - sum / classes);
        rowLoss[r] = nll;
        valid[r] = 1f;
    }

    /// <summary>dlogits = (softmax − target distribution) · scale[0] · dRow[row]; one thread per element.</summary>
    public static void CrossEntropyBackward(Index1D i, ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> lse, ArrayView<float> dRow,
        ArrayView<float> scale, ArrayView<float> dlogits, int classes, int ignoreIndex, float smoothing)
    {
        int r = i / classes, c = i - r * classes;
        int target = targets[r];
        if (target == ignoreIndex) { dlogits[i] = 0f; return; }
        float p = DeviceMath.Exp(logits[i] - lse[r]);
        if (smoothing > 0f) p -= smoothing / classes;
        if (c == target) p -= 1f - smoothing;
        dlogits[i] = p * (scale[0] * dRow[r]);
    }
}

/// <summary>
/// Device-side error records, 32-bit atomics only (64-bit atomics are optional in OpenCL): errors[2·slot] keeps
/// int.MaxValue − (first bad position) via an atomic max, errors[2·slot + 1] one of the bad values.
/// </summary>
internal static class ErrorFlags
{
    public const int Gather = 0, ScatterAdd = 1, CrossEntropy = 2, Count = 4;

    public static void Report(ArrayView<int> errors, int slot, int position, int value)
    {
        Atomic.Max(ref errors[2 * slot], int.MaxValue - position);
        Atomic.Exchange(ref errors[2 * slot + 1], value);
    }
}
