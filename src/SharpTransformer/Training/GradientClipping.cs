using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales every gradient so that their global L2 norm is at most <paramref name="maxNorm"/>; returns the norm before clipping.
    /// </summary>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        if (maxNorm <= 0f) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "ClipGradNorm: max norm must be positive.");
        var grads = parameters.Where(p => p.Grad is not null).Select(p => p.Grad!).ToList();
        if (grads.Count == 0) return 0f;
        var backend = grads[0].Backend;
        using var acc = backend.Allocate(DType.Float32, 1, zero: true);
        foreach (var g in grads)
        {
            if (!g.IsContiguous) throw new InvalidOperationException($"ClipGradNorm: gradient {g.ShapeString} is not contiguous.");
            g.Backend.SumSquares(g.Storage, g.Count, acc);
        }
        var host = new float[1];
        backend.Download(acc, 0, host, 0, 1);
        float norm = MathF.Sqrt(host[0]);
        float coef = maxNorm / (norm + 1e-6f);
        if (coef < 1f)
            foreach (var g in grads) g.Backend.Unary(UnaryOp.MulScalar, g.Storage, g.Layout, g.Storage, coef);
        return norm;
    }
}
