using System.Text;

namespace SharpTransformer.Tensors;

/// <summary>
/// How a tensor's elements sit in its storage: shape, strides (in elements) and offset.
/// A view is a new layout over the same storage; a stride of 0 broadcasts.
/// </summary>
public readonly struct Layout
{
    /// <summary>Size of each dimension.</summary>
    public readonly int[] Shape;
    /// <summary>Step in elements between neighbours along each dimension.</summary>
    public readonly int[] Strides;
    /// <summary>Index in the storage of the first element.</summary>
    public readonly int Offset;

    /// <summary>Creates a layout; the arrays are owned by the layout afterwards.</summary>
    public Layout(int[] shape, int[] strides, int offset = 0)
    {
        if (shape.Length != strides.Length)
            throw new ArgumentException($"Layout: shape {Format(shape)} and strides {Format(strides)} differ in rank.");
        Shape = shape;
        Strides = strides;
        Offset = offset;
    }

    /// <summary>A row-major contiguous layout of the given shape at offset 0.</summary>
    public static Layout Contiguous(params int[] shape) => new((int[])shape.Clone(), ContiguousStrides(shape), 0);

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>Number of elements.</summary>
    public int Count => Numel(Shape);

    /// <summary>True when the elements are row-major and dense, starting at <see cref="Offset"/>.</summary>
    public bool IsContiguous
    {
        get
        {
            int expected = 1;
            for (int d = Shape.Length - 1; d >= 0; d--)
            {
                if (Shape[d] == 1) continue;
                if (Strides[d] != expected) return false;
                expected *= Shape[d];
            }
            return true;
        }
    }

    /// <summary>Row-major strides for a shape.</summary>
    public static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            s[d] = acc;
            acc *= shape[d];
        }
        return s;
    }

    /// <summary>Product of the dimensions (1 for a scalar).</summary>
    public static int Numel(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        if (n > int.MaxValue) throw new ArgumentException($"Tensor of shape {Format(shape)} has more than 2^31-1 elements.");
        return (int)n;
    }

    /// <summary>Storage index of the element with the given multi-index.</summary>
    public int IndexOf(ReadOnlySpan<int> index)
    {
        int o = Offset;
        for (int d = 0; d < index.Length; d++) o += index[d] * Strides[d];
        return o;
    }

    /// <summary>Storage index of the i-th element in row-major order.</summary>
    public int IndexOfLinear(int i)
    {
        int o = Offset;
        for (int d = Shape.Length - 1; d >= 0; d--)
        {
            int n = Shape[d];
            if (n == 0) return Offset;
            o += (i % n) * Strides[d];
            i /= n;
        }
        return o;
    }

    /// <summary>Formats a shape as <c>(2, 3, 4)</c>.</summary>
    public static string Format(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("(");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i]);
        }
        if (shape.Length == 1) sb.Append(',');
        return sb.Append(')').ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => $"shape {Format(Shape)} strides {Format(Strides)} offset {Offset}";
}
