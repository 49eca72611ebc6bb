using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Backends;

/// <summary>
/// A backend that implements only the primitive members of <see cref="IBackend"/> and none of the fused ones (unary backward,
/// softmax, norms, attention, cross-entropy, rope, AdamW, sum of squares), so every fused call runs the default body composed
/// from primitives.
/// It delegates the primitives to a private <see cref="CpuBackend"/> and wraps that backend's storages in its own, so that tensors
/// made on it dispatch back here and not to the CPU backend's fused kernels.
/// </summary>
public sealed class PrimitiveOnlyBackend : IBackend
{
    private readonly CpuBackend _cpu = new();

    /// <summary>The shared instance.</summary>
    public static PrimitiveOnlyBackend Shared { get; } = new();

    /// <inheritdoc/>
    public string Name => "primitive-only";

    private sealed class Storage(PrimitiveOnlyBackend owner, IStorage inner) : IStorage
    {
        public IStorage Inner { get; } = inner;
        public IBackend Backend => owner;
        public DType DType => Inner.DType;
        public int Length => Inner.Length;
        public bool IsDisposed => Inner.IsDisposed;
        public void Dispose() => Inner.Dispose();
    }

    private static IStorage U(IStorage s) => s is Storage w ? w.Inner
        : throw new InvalidOperationException($"primitive-only: storage belongs to backend '{s.Backend.Name}'. Move the tensor with To(backend) first.");

    /// <inheritdoc/>
    public IStorage Allocate(DType type, int length, bool zero = true) => new Storage(this, _cpu.Allocate(type, length, zero));
    /// <inheritdoc/>
    public void Upload(float[] src, int srcOffset, IStorage dst, int dstOffset, int count) => _cpu.Upload(src, srcOffset, U(dst), dstOffset, count);
    /// <inheritdoc/>
    public void Upload(int[] src, int srcOffset, IStorage dst, int dstOffset, int count) => _cpu.Upload(src, srcOffset, U(dst), dstOffset, count);
    /// <inheritdoc/>
    public void Download(IStorage src, int srcOffset, float[] dst, int dstOffset, int count) => _cpu.Download(U(src), srcOffset, dst, dstOffset, count);
    /// <inheritdoc/>
    public void Download(IStorage src, int srcOffset, int[] dst, int dstOffset, int count) => _cpu.Download(U(src), srcOffset, dst, dstOffset, count);
    /// <inheritdoc/>
    public void Fill(IStorage y, in Layout yl, float value) => _cpu.Fill(U(y), yl, value);
    /// <inheritdoc/>
    public void Copy(IStorage x, in Layout xl, IStorage y, in Layout yl) => _cpu.Copy(U(x), xl, U(y), yl);
    /// <inheritdoc/>
    public void Arange(IStorage y, int n) => _cpu.Arange(U(y), n);
    /// <inheritdoc/>
    public void RandomFill(IStorage y, int n, RandomKind kind, float a, float b, ulong seed, ulong offset) => _cpu.RandomFill(U(y), n, kind, a, b, seed, offset);
    /// <inheritdoc/>
    public void Unary(UnaryOp op, IStorage x, in Layout xl, IStorage y, float arg = 0f) => _cpu.Unary(op, U(x), xl, U(y), arg);
    /// <inheritdoc/>
    public void Binary(BinaryOp op, IStorage a, in Layout al, IStorage b, in Layout bl, IStorage y) => _cpu.Binary(op, U(a), al, U(b), bl, U(y));
    /// <inheritdoc/>
    public void Where(IStorage cond, in Layout cl, IStorage a, in Layout al, IStorage b, in Layout bl, IStorage y) =>
        _cpu.Where(U(cond), cl, U(a), al, U(b), bl, U(y));
    /// <inheritdoc/>
    public void Reduce(ReduceOp op, IStorage x, in Layout xl, int axis, IStorage y) => _cpu.Reduce(op, U(x), xl, axis, U(y));
    /// <inheritdoc/>
    public void MatMul(IStorage a, in Layout al, IStorage b, in Layout bl, IStorage y, bool accumulate = false) =>
        _cpu.MatMul(U(a), al, U(b), bl, U(y), accumulate);
    /// <inheritdoc/>
    public void Gather(IStorage src, int outer, int dim, int inner, IStorage index, int count, IStorage y) =>
        _cpu.Gather(U(src), outer, dim, inner, U(index), count, U(y));
    /// <inheritdoc/>
    public void ScatterAdd(IStorage src, int outer, int dim, int inner, IStorage index, int count, IStorage y) =>
        _cpu.ScatterAdd(U(src), outer, dim, inner, U(index), count, U(y));
}
