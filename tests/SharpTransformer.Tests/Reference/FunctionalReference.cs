namespace SharpTransformer.Tests.Reference;

/// <summary>
/// Double-precision, loop-by-loop definitions of the fused neural-network functions, as PyTorch defines them. Gradient checks
/// only prove that a backward matches its forward; these pin the forward values themselves. Inputs are row-major arrays.
/// </summary>
public static class FunctionalReference
{
    /// <summary>Softmax (or log-softmax) over the last dimension of (rows, cols).</summary>
    public static double[] Softmax(float[] x, int rows, int cols, bool log)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < cols; c++) max = Math.Max(max, x[r * cols + c]);
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += Math.Exp(x[r * cols + c] - max);
            for (int c = 0; c < cols; c++)
                y[r * cols + c] = log ? x[r * cols + c] - max - Math.Log(sum) : Math.Exp(x[r * cols + c] - max) / sum;
        }
        return y;
    }

    /// <summary>Layer norm over the last dimension: (x - mean) / sqrt(biased var + eps) * w + b.</summary>
    public static double[] LayerNorm(float[] x, float[]? w, float[]? b, int rows, int cols, double eps)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, var = 0;
            for (int c = 0; c < cols; c++) mean += x[r * cols + c];
            mean /= cols;
            for (int c = 0; c < cols; c++) var += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
            var /= cols;
            double rstd = 1 / Math.Sqrt(var + eps);
            for (int c = 0; c < cols; c++)
                y[r * cols + c] = (x[r * cols + c] - mean) * rstd * (w?[c] ?? 1.0) + (b?[c] ?? 0.0);
        }
        return y;
    }

    /// <summary>RMS norm over the last dimension: x / sqrt(mean(x²) + eps) * w.</summary>
    public static double[] RmsNorm(float[] x, float[]? w, int rows, int cols, double eps)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double ms = 0;
            for (int c = 0; c < cols; c++) ms += (double)x[r * cols + c] * x[r * cols + c];
            double rstd = 1 / Math.Sqrt(ms / cols + eps);
            for (int c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c] * rstd * (w?[c] ?? 1.0);
        }
        return y;
    }

    /// <summary>
    /// Per-row cross-entropy with label smoothing e: (1-e)·(-log p[target]) + e·mean_c(-log p[c]); 0 for ignored rows.
    /// Returns the row losses and the number of rows that count.
    /// </summary>
    public static (double[] RowLoss, int Valid) CrossEntropy(float[] logits, int[] targets, int rows, int classes, int ignoreIndex, double smoothing)
    {
        var lp = Softmax(logits, rows, classes, log: true);
        var loss = new double[rows];
        int valid = 0;
        for (int r = 0; r < rows; r++)
        {
            if (targets[r] == ignoreIndex) continue;
            valid++;
            double uniform = 0;
            for (int c = 0; c < classes; c++) uniform -= lp[r * classes + c];
            loss[r] = (1 - smoothing) * -lp[r * classes + targets[r]] + smoothing * uniform / classes;
        }
        return (loss, valid);
    }

    /// <summary>Rotate-half rotary embedding of (B, H, T, D) with positions (B, T).</summary>
    public static double[] Rope(float[] x, int[] positions, int b, int h, int t, int d, double theta)
    {
        var y = new double[x.Length];
        int half = d / 2;
        for (int bi = 0; bi < b; bi++)
            for (int hi = 0; hi < h; hi++)
                for (int ti = 0; ti < t; ti++)
                {
                    int o = ((bi * h + hi) * t + ti) * d;
                    double pos = positions[bi * t + ti];
                    for (int i = 0; i < half; i++)
                    {
                        double ang = pos * Math.Pow(theta, -2.0 * i / d);
                        double c = Math.Cos(ang), s = Math.Sin(ang);
                        y[o + i] = x[o + i] * c - x[o + i + half] * s;
                        y[o + i + half] = x[o + i + half] * c + x[o + i] * s;
                    }
                }
        return y;
    }

    /// <summary>
    /// Naive attention: q (B, H, Tq, D), k and v (B, Hkv, Tk, D); query head h reads kv head h / (H / Hkv); causal keeps
    /// keys j &lt;= i + Tk - Tq; keyMask (B, Tk) with 0 hiding a key; bias (B, H, Tq, Tk) added to the scaled scores.
    /// A row with no visible key is zero.
    /// </summary>
    public static double[] Attention(float[] q, float[] k, float[] v, int bsz, int h, int hkv, int tq, int tk, int d,
        bool causal, float[]? keyMask, double[]? bias, double scale)
    {
        var y = new double[bsz * h * tq * d];
        int group = h / hkv;
        var s = new double[tk];
        for (int b = 0; b < bsz; b++)
            for (int hi = 0; hi < h; hi++)
            {
                int kh = hi / group;
                for (int i = 0; i < tq; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < tk; j++)
                    {
                        bool visible = (!causal || j <= i + tk - tq) && (keyMask is null || keyMask[b * tk + j] != 0f);
                        if (!visible) { s[j] = double.NegativeInfinity; continue; }
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += (double)q[((b * h + hi) * tq + i) * d + c] * k[((b * hkv + kh) * tk + j) * d + c];
                        s[j] = dot * scale + (bias?[((b * h + hi) * tq + i) * tk + j] ?? 0);
                        max = Math.Max(max, s[j]);
                    }
                    if (double.IsNegativeInfinity(max)) continue;
                    double sum = 0;
                    for (int j = 0; j < tk; j++) { s[j] = Math.Exp(s[j] - max); sum += s[j]; }
                    for (int c = 0; c < d; c++)
                    {
                        double acc = 0;
                        for (int j = 0; j < tk; j++) acc += s[j] / sum * v[((b * hkv + kh) * tk + j) * d + c];
                        y[((b * h + hi) * tq + i) * d + c] = acc;
                    }
                }
            }
        return y;
    }
}
