namespace SharpTransformer.Tests.Reference;

/// <summary>The executable specification of the fused kernels: plain double-precision loops, written for clarity.</summary>
internal static class FusedReference
{
    public static double[] Softmax(float[] x, int rows, int cols, bool log)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < cols; c++) max = Math.Max(max, x[r * cols + c]);
            double s = 0;
            for (int c = 0; c < cols; c++) s += Math.Exp(x[r * cols + c] - max);
            for (int c = 0; c < cols; c++) y[r * cols + c] = log ? x[r * cols + c] - max - Math.Log(s) : Math.Exp(x[r * cols + c] - max) / s;
        }
        return y;
    }

    /// <summary>LayerNorm (or RMSNorm when <paramref name="rms"/>: no centring, no bias) over rows.</summary>
    public static double[] LayerNorm(float[] x, float[] w, float[] b, int rows, int cols, double eps, bool rms)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, sq = 0;
            for (int c = 0; c < cols; c++) mean += x[r * cols + c];
            mean = rms ? 0 : mean / cols;
            for (int c = 0; c < cols; c++) sq += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
            double rstd = 1 / Math.Sqrt(sq / cols + eps);
            for (int c = 0; c < cols; c++) y[r * cols + c] = (x[r * cols + c] - mean) * rstd * w[c] + (rms ? 0 : b[c]);
        }
        return y;
    }

    /// <summary>Cross-entropy of one row with label smoothing: (1-e)·NLL + e·mean over classes of −log p.</summary>
    public static double CrossEntropyRow(float[] logits, int row, int classes, int target, double smoothing)
    {
        double max = double.NegativeInfinity;
        for (int c = 0; c < classes; c++) max = Math.Max(max, logits[row * classes + c]);
        double s = 0;
        for (int c = 0; c < classes; c++) s += Math.Exp(logits[row * classes + c] - max);
        double lse = max + Math.Log(s);
        double nll = lse - logits[row * classes + target];
        double mean = 0;
        for (int c = 0; c < classes; c++) mean += lse - logits[row * classes + c];
        return (1 - smoothing) * nll + smoothing * mean / classes;
    }
}
