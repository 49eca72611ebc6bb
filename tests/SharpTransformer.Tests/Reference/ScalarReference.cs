using SharpTransformer.Backends;

namespace SharpTransformer.Tests.Reference;

/// <summary>
/// The executable specification of the backend kernels: plain double-precision loops, written for clarity, not speed.
/// Kernels must match these on random shapes.
/// </summary>
internal static class ScalarReference
{
    public static double Erf(double x)
    {
        // Maclaurin series for |x| < 3, continued fraction of erfc beyond: both converge to double precision here.
        double ax = Math.Abs(x);
        if (ax < 3)
        {
            double sum = 0, term = ax;
            for (int n = 0; n < 200; n++)
            {
                sum += term / (2 * n + 1);
                term *= -ax * ax / (n + 1);
                if (Math.Abs(term) < 1e-17) break;
            }
            return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * sum;
        }
        double f = 0;
        for (int k = 60; k >= 1; k--) f = k / 2.0 / (ax + f);
        double erfc = Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f);
        return Math.Sign(x) * (1 - erfc);
    }

    public static double Unary(UnaryOp op, double x, double a) => op switch
    {
        UnaryOp.Identity => x,
        UnaryOp.Neg => -x,
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Sqrt => Math.Sqrt(x),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Sigmoid => 1 / (1 + Math.Exp(-x)),
        UnaryOp.Relu => Math.Max(x, 0),
        UnaryOp.Gelu => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        UnaryOp.GeluTanh => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        UnaryOp.Silu => x / (1 + Math.Exp(-x)),
        UnaryOp.Abs => Math.Abs(x),
        UnaryOp.Square => x * x,
        UnaryOp.Reciprocal => 1 / x,
        UnaryOp.AddScalar => x + a,
        UnaryOp.MulScalar => x * a,
        UnaryOp.PowScalar => Math.Pow(x, a),
        UnaryOp.RDivScalar => a / x,
        UnaryOp.ClampMin => Math.Max(x, a),
        UnaryOp.ClampMax => Math.Min(x, a),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>d op/dx by a central difference in double (h small enough for 1e-6 relative accuracy on smooth ops).</summary>
    public static double UnaryDerivative(UnaryOp op, double x, double a)
    {
        const double h = 1e-5;
        return (Unary(op, x + h, a) - Unary(op, x - h, a)) / (2 * h);
    }

    public static double Binary(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Pow => Math.Pow(a, b),
        BinaryOp.Max => Math.Max(a, b),
        BinaryOp.Min => Math.Min(a, b),
        BinaryOp.Equal => a == b ? 1 : 0,
        BinaryOp.Greater => a > b ? 1 : 0,
        BinaryOp.Less => a < b ? 1 : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>C = op(A) op(B) for row-major float arrays.</summary>
    public static double[] MatMul(float[] a, float[] b, int m, int k, int n, bool ta, bool tb)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = s;
            }
        return c;
    }

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
