using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Cpu;

// Fused kernels: owned by the fused-kernel work (softmax, norms, attention, cross-entropy, rope, AdamW).
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Softmax(IStorage x, int rows, int cols, IStorage y, bool log) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void SoftmaxBackward(IStorage y, IStorage dy, int rows, int cols, IStorage dx, bool log) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void LayerNorm(IStorage x, IStorage? weight, IStorage? bias, int rows, int cols, float eps, IStorage y, IStorage mean, IStorage rstd) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void LayerNormBackward(IStorage x, IStorage? weight, IStorage mean, IStorage rstd, IStorage dy, int rows, int cols, IStorage dx, IStorage? dweight, IStorage? dbias) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void RmsNorm(IStorage x, IStorage? weight, int rows, int cols, float eps, IStorage y, IStorage rstd) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void RmsNormBackward(IStorage x, IStorage? weight, IStorage rstd, IStorage dy, int rows, int cols, IStorage dx, IStorage? dweight) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void Attention(in AttentionShape s, IStorage q, IStorage k, IStorage v, IStorage? keyMask, IStorage? bias, in Layout biasLayout, IStorage output, IStorage lse) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void AttentionBackward(in AttentionShape s, IStorage q, IStorage k, IStorage v, IStorage? keyMask, IStorage? bias, in Layout biasLayout, IStorage output, IStorage lse, IStorage dOutput, IStorage dq, IStorage dk, IStorage dv, IStorage? dbias) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void CrossEntropy(IStorage logits, IStorage targets, int rows, int classes, int ignoreIndex, float labelSmoothing, IStorage rowLoss, IStorage lse, IStorage valid) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void CrossEntropyBackward(IStorage logits, IStorage targets, IStorage lse, IStorage dRowLoss, IStorage scale, int rows, int classes, int ignoreIndex, float labelSmoothing, IStorage dlogits) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void Rope(IStorage x, IStorage positions, int batch, int heads, int t, int headDim, float theta, IStorage y, bool inverse) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void AdamW(IStorage param, IStorage grad, IStorage m, IStorage v, int n, in AdamWArgs args) => throw new NotImplementedException();
}
