using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Cpu;

/// <summary>
/// Walks the rows (every index but the last dimension) of up to three layouts of one shape, yielding each layout's
/// storage offset of the row start. The last dimension is then a strided run of <see cref="Inner"/> elements.
/// </summary>
internal struct Odometer
{
    private readonly int[] _shape;
    private readonly int[] _s0, _s1, _s2;
    private readonly int[] _idx;
    public readonly int Rows;
    public readonly int Inner;
    public readonly int InnerStride0, InnerStride1, InnerStride2;
    public int Off0, Off1, Off2;

    public Odometer(int[] shape, in Layout l0) : this(shape, l0, l0, l0) { }
    public Odometer(int[] shape, in Layout l0, in Layout l1) : this(shape, l0, l1, l1) { }

    public Odometer(int[] shape, in Layout l0, in Layout l1, in Layout l2)
    {
        _shape = shape;
        _s0 = l0.Strides; _s1 = l1.Strides; _s2 = l2.Strides;
        int r = shape.Length;
        Inner = r == 0 ? 1 : shape[r - 1];
        InnerStride0 = r == 0 ? 0 : _s0[r - 1];
        InnerStride1 = r == 0 ? 0 : _s1[r - 1];
        InnerStride2 = r == 0 ? 0 : _s2[r - 1];
        int rows = 1;
        for (int d = 0; d < r - 1; d++) rows *= shape[d];
        Rows = Inner == 0 ? 0 : rows;
        _idx = new int[Math.Max(0, r - 1)];
        Off0 = l0.Offset; Off1 = l1.Offset; Off2 = l2.Offset;
    }

    /// <summary>Positions the odometer at row <paramref name="row"/> (row-major over the leading dimensions).</summary>
    public void Seek(int row, in Layout l0, in Layout l1, in Layout l2)
    {
        Off0 = l0.Offset; Off1 = l1.Offset; Off2 = l2.Offset;
        for (int d = _idx.Length - 1; d >= 0; d--)
        {
            int n = _shape[d];
            int i = row % n;
            row /= n;
            _idx[d] = i;
            Off0 += i * _s0[d]; Off1 += i * _s1[d]; Off2 += i * _s2[d];
        }
    }

    /// <summary>Advances to the next row.</summary>
    public void Next()
    {
        for (int d = _idx.Length - 1; d >= 0; d--)
        {
            _idx[d]++;
            Off0 += _s0[d]; Off1 += _s1[d]; Off2 += _s2[d];
            if (_idx[d] < _shape[d]) return;
            Off0 -= _s0[d] * _shape[d]; Off1 -= _s1[d] * _shape[d]; Off2 -= _s2[d] * _shape[d];
            _idx[d] = 0;
        }
    }
}
