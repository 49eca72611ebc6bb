using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Composite;

/// <summary>
/// The fused kernels of <see cref="IBackend"/> written once in terms of its primitive members only (Allocate, Upload, Download,
/// Fill, Copy, Arange, Unary, Binary, Where, Reduce, MatMul). They are the default bodies of the fused members, so a new backend
/// that implements only the primitives runs every model; a backend replaces them with fast kernels where it has them, and can
/// still call them itself for cases its kernels do not cover.
/// <para>
/// They favour plainness over speed: full intermediate buffers (attention materialises the (Batch, Heads, QueryLength, KeyLength)
/// scores), one primitive call per step. Two read small index tensors on the host, because the primitive set cannot express their
/// checks or tables: <see cref="CrossEntropy"/> validates the targets (as every backend must), and <see cref="Rope"/> builds its
/// cos/sin table from the positions (there is no trigonometric primitive).
/// </para>
/// </summary>
public static partial class CompositeKernels
{
    // Temporary Float32 storages of one kernel call, released together.
    private sealed class Scratch(IBackend backend) : IDisposable
    {
        private readonly List<IStorage> _owned = [];

        public IStorage F(int n)
        {
            var s = backend.Allocate(DType.Float32, n, zero: false);
            _owned.Add(s);
            return s;
        }

        // A one-element storage holding value, for broadcasting with a Scalar layout.
        public IStorage Const(float value)
        {
            var s = F(1);
            backend.Fill(s, C(1), value);
            return s;
        }

        public void Dispose()
        {
            foreach (var s in _owned) s.Dispose();
            _owned.Clear();
        }
    }

    private static Layout C(params int[] shape) => Layout.Contiguous(shape);

    // One value broadcast to the shape.
    private static Layout Scalar(params int[] shape) => new((int[])shape.Clone(), new int[shape.Length]);

    // A per-row value (rows) broadcast across the columns of (rows, cols).
    private static Layout PerRow(int rows, int cols) => new([rows, cols], [1, 0]);

    // A per-column vector (cols) broadcast across the rows of (rows, cols).
    private static Layout PerCol(int rows, int cols) => new([rows, cols], [0, 1]);
}
