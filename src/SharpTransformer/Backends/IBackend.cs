using SharpTransformer.Backends.Composite;
using SharpTransformer.Tensors;

namespace SharpTransformer.Backends;

/// <summary>
/// The kernels of a device. Storage is opaque and device-resident: kernels never take host spans,
/// so a GPU backend runs a whole model without a host round trip per op. Autograd lives above this interface.
/// Unless stated, outputs are written contiguous from offset 0 and inputs are read through their <see cref="Layout"/>.
/// <para>
/// Two kinds of members. The primitives (memory: Allocate, Upload, Download, Fill, Copy, Arange, RandomFill; elementwise:
/// Unary, Binary, Where; Reduce; MatMul; Gather, ScatterAdd) have no default and every backend implements them.
/// The fused kernels (UnaryBackward, with the GELU derivatives; Softmax, LayerNorm, RmsNorm, Attention, CrossEntropy, each with
/// its backward; Rope, AdamW, SumSquares) have
/// default bodies in <see cref="CompositeKernels"/> built only from the primitives, so a new backend that implements the primitives
/// runs every model, and overrides a fused kernel when it has a faster one.
/// </para>
/// </summary>
public interface IBackend
{
    /// <summary>Short name, e.g. "cpu".</summary>
    string Name { get; }

    /// <summary>Allocates storage, zero-filled when <paramref name="zero"/> is set (else contents are unspecified).</summary>
    IStorage Allocate(DType type, int length, bool zero = true);

    /// <summary>Copies host floats into storage.</summary>
    void Upload(float[] src, int srcOffset, IStorage dst, int dstOffset, int count);
    /// <summary>Copies host ints into storage.</summary>
    void Upload(int[] src, int srcOffset, IStorage dst, int dstOffset, int count);
    /// <summary>Copies storage to host floats (Int32 storage is converted).</summary>
    void Download(IStorage src, int srcOffset, float[] dst, int dstOffset, int count);
    /// <summary>Copies storage to host ints (Float32 storage is truncated).</summary>
    void Download(IStorage src, int srcOffset, int[] dst, int dstOffset, int count);

    /// <summary>Sets every element addressed by <paramref name="yl"/> to <paramref name="value"/>.</summary>
    void Fill(IStorage y, in Layout yl, float value);
    /// <summary>Strided copy between two layouts of the same shape, converting the element type when they differ.</summary>
    void Copy(IStorage x, in Layout xl, IStorage y, in Layout yl);
    /// <summary>y = 0..n-1 as the storage's type.</summary>
    void Arange(IStorage y, int n);
    /// <summary>Fills <paramref name="n"/> elements from a counter-based generator: the same (seed, offset) gives the same values on every backend.</summary>
    void RandomFill(IStorage y, int n, RandomKind kind, float a, float b, ulong seed, ulong offset);

    /// <summary>y = op(x, arg) elementwise; y is contiguous with x's shape.</summary>
    void Unary(UnaryOp op, IStorage x, in Layout xl, IStorage y, float arg = 0f);
    /// <summary>dx = dy * d op(x)/dx for contiguous x, y = op(x), dy and dx of length n. The default composes Unary, Binary and Where.</summary>
    void UnaryBackward(UnaryOp op, IStorage x, IStorage y, IStorage dy, IStorage dx, int n, float arg = 0f) =>
        CompositeKernels.UnaryBackward(this, op, x, y, dy, dx, n, arg);
    /// <summary>y = op(a, b); both layouts already broadcast to y's shape (stride 0 on broadcast dimensions). y may alias a contiguous a.</summary>
    void Binary(BinaryOp op, IStorage a, in Layout al, IStorage b, in Layout bl, IStorage y);
    /// <summary>y = cond != 0 ? a : b; all three layouts broadcast to y's shape.</summary>
    void Where(IStorage cond, in Layout cl, IStorage a, in Layout al, IStorage b, in Layout bl, IStorage y);
    /// <summary>Reduces <paramref name="axis"/> of x; y is contiguous with that axis of size 1 (Int32 for ArgMax).</summary>
    void Reduce(ReduceOp op, IStorage x, in Layout xl, int axis, IStorage y);

    /// <summary>
    /// Batched matrix product y = a @ b (+ y when <paramref name="accumulate"/>). a is (..., M, K), b is (..., K, N), with equal
    /// (already broadcast) batch dimensions; either may be transposed through its strides. y is contiguous (..., M, N).
    /// </summary>
    void MatMul(IStorage a, in Layout al, IStorage b, in Layout bl, IStorage y, bool accumulate = false);

    /// <summary>y[o, i, r] = src[o, index[i], r] for src (outer, dim, inner) contiguous, index Int32 of length count; y (outer, count, inner).</summary>
    void Gather(IStorage src, int outer, int dim, int inner, IStorage index, int count, IStorage y);
    /// <summary>y[o, index[i], r] += src[o, i, r] for src (outer, count, inner) and y (outer, dim, inner), both contiguous.</summary>
    void ScatterAdd(IStorage src, int outer, int dim, int inner, IStorage index, int count, IStorage y);

    // ----- fused kernels: the defaults compose the primitives (Backends/Composite) -----

    /// <summary>Row-wise max-subtracted softmax (or log-softmax) over the last dimension of contiguous (rows, cols).</summary>
    void Softmax(IStorage x, int rows, int cols, IStorage y, bool log) => CompositeKernels.Softmax(this, x, rows, cols, y, log);
    /// <summary>Backward of <see cref="Softmax"/> from its output y.</summary>
    void SoftmaxBackward(IStorage y, IStorage dy, int rows, int cols, IStorage dx, bool log) =>
        CompositeKernels.SoftmaxBackward(this, y, dy, rows, cols, dx, log);

    /// <summary>Layer norm over the last dimension; saves mean and reciprocal std (rows) for the backward. weight and bias may be null.</summary>
    void LayerNorm(IStorage x, IStorage? weight, IStorage? bias, int rows, int cols, float eps, IStorage y, IStorage mean, IStorage rstd) =>
        CompositeKernels.LayerNorm(this, x, weight, bias, rows, cols, eps, y, mean, rstd);
    /// <summary>Backward of <see cref="LayerNorm"/>; dweight and dbias are overwritten (null when absent).</summary>
    void LayerNormBackward(IStorage x, IStorage? weight, IStorage mean, IStorage rstd, IStorage dy, int rows, int cols,
        IStorage dx, IStorage? dweight, IStorage? dbias) =>
        CompositeKernels.LayerNormBackward(this, x, weight, mean, rstd, dy, rows, cols, dx, dweight, dbias);

    /// <summary>RMS norm over the last dimension: y = x * rstd * weight with rstd = 1/sqrt(mean(x^2) + eps).</summary>
    void RmsNorm(IStorage x, IStorage? weight, int rows, int cols, float eps, IStorage y, IStorage rstd) =>
        CompositeKernels.RmsNorm(this, x, weight, rows, cols, eps, y, rstd);
    /// <summary>Backward of <see cref="RmsNorm"/>; dweight is overwritten (null when absent).</summary>
    void RmsNormBackward(IStorage x, IStorage? weight, IStorage rstd, IStorage dy, int rows, int cols, IStorage dx, IStorage? dweight) =>
        CompositeKernels.RmsNormBackward(this, x, weight, rstd, dy, rows, cols, dx, dweight);

    /// <summary>
    /// Scaled dot-product attention (shapes, grouped-query heads, value head size, causal and sliding-window masks and cache capacity
    /// as <see cref="AttentionShape"/> describes). The fused kernels tile it with an online softmax so memory grows linearly with
    /// sequence length. keyMask: optional (Batch, KeyLength), 0 masks a key out. bias: optional additive scores broadcast by
    /// <paramref name="biasLayout"/> to (Batch, Heads, QueryLength, KeyLength). Writes out (Batch, Heads, QueryLength, ValueHeadDim)
    /// and the row log-sum-exp lse (Batch, Heads, QueryLength) for the backward. A query row with every key masked gets zeros and lse -inf.
    /// </summary>
    void Attention(in AttentionShape s, IStorage q, IStorage k, IStorage v, IStorage? keyMask, IStorage? bias, in Layout biasLayout,
        IStorage output, IStorage lse) => CompositeKernels.Attention(this, s, q, k, v, keyMask, bias, biasLayout, output, lse);
    /// <summary>
    /// Backward of <see cref="Attention"/>: overwrites dq, dk (Batch, KvHeads, KeyLength, HeadDim), dv (Batch, KvHeads, KeyLength,
    /// ValueHeadDim), and dbias (contiguous (Batch, Heads, QueryLength, KeyLength)) when not null.
    /// </summary>
    void AttentionBackward(in AttentionShape s, IStorage q, IStorage k, IStorage v, IStorage? keyMask, IStorage? bias, in Layout biasLayout,
        IStorage output, IStorage lse, IStorage dOutput, IStorage dq, IStorage dk, IStorage dv, IStorage? dbias) =>
        CompositeKernels.AttentionBackward(this, s, q, k, v, keyMask, bias, biasLayout, output, lse, dOutput, dq, dk, dv, dbias);

    /// <summary>
    /// Cross-entropy of contiguous logits (rows, classes) against Int32 targets, fused with log-softmax. Writes per-row losses
    /// (0 where the target is <paramref name="ignoreIndex"/>), the per-row log-sum-exp, and valid (1 or 0 per row).
    /// With label smoothing e the target distribution is (1-e) one-hot + e/classes. Targets outside [0, classes) other than ignoreIndex throw.
    /// </summary>
    void CrossEntropy(IStorage logits, IStorage targets, int rows, int classes, int ignoreIndex, float labelSmoothing,
        IStorage rowLoss, IStorage lse, IStorage valid) =>
        CompositeKernels.CrossEntropy(this, logits, targets, rows, classes, ignoreIndex, labelSmoothing, rowLoss, lse, valid);
    /// <summary>dlogits = (softmax - target distribution) * scale[0] * dRowLoss[row] for valid rows, else 0. scale is a 1-element storage.</summary>
    void CrossEntropyBackward(IStorage logits, IStorage targets, IStorage lse, IStorage dRowLoss, IStorage scale, int rows, int classes,
        int ignoreIndex, float labelSmoothing, IStorage dlogits) =>
        CompositeKernels.CrossEntropyBackward(this, logits, targets, lse, dRowLoss, scale, rows, classes, ignoreIndex, labelSmoothing, dlogits);

    /// <summary>
    /// Rotary position embedding in the rotate-half form on contiguous x (Batch, Heads, T, HeadDim): the pair (i, i + HeadDim/2)
    /// rotates by positions[b*T + t] * theta^(-2i/HeadDim). With <paramref name="inverse"/> the rotation is reversed (the backward).
    /// </summary>
    void Rope(IStorage x, IStorage positions, int batch, int heads, int t, int headDim, float theta, IStorage y, bool inverse) =>
        CompositeKernels.Rope(this, x, positions, batch, heads, t, headDim, theta, y, inverse);

    /// <summary>One fused AdamW update over n elements, in place on param, m and v.</summary>
    void AdamW(IStorage param, IStorage grad, IStorage m, IStorage v, int n, in AdamWArgs args) =>
        CompositeKernels.AdamW(this, param, grad, m, v, n, args);

    /// <summary>Sum of squares of the first n elements, added into acc[0] (for global gradient-norm clipping).</summary>
    void SumSquares(IStorage x, int n, IStorage acc) => CompositeKernels.SumSquares(this, x, n, acc);
}
