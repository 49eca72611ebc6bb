using ILGPU;
using SharpTransformer.Backends;

namespace SharpTransformer.Ilgpu.Kernels;

/// <summary>Group-wide reductions over dynamic shared memory. The group size must be a power of two; every thread gets the result.</summary>
internal static class GroupOps
{
    public static float Sum(ArrayView<float> sh, int t, float v)
    {
        sh[t] = v;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) sh[t] += sh[t + s];
            Group.Barrier();
        }
        float r = sh[0];
        Group.Barrier();
        return r;
    }

    public static float Max(ArrayView<float> sh, int t, float v)
    {
        sh[t] = v;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) sh[t] = DeviceMath.Max(sh[t], sh[t + s]);
            Group.Barrier();
        }
        float r = sh[0];
        Group.Barrier();
        return r;
    }

    /// <summary>Combines two (value, index) candidates of ArgMax: NaN wins over numbers, then the larger value, then the lower index.</summary>
    public static bool ArgMaxBetter(float v, int i, float bv, int bi)
    {
        bool vn = DeviceMath.IsNaN(v), bn = DeviceMath.IsNaN(bv);
        if (vn != bn) return vn;
        if (vn || v == bv) return i < bi;
        return v > bv;
    }
}

/// <summary>Reductions along one axis: a thread per output when there are many outputs, a group per output when the axis is long.</summary>
internal static class ReduceKernels
{
    private static float Combine(int op, float a, float b) =>
        op == (int)ReduceOp.Sum ? a + b : op == (int)ReduceOp.Max ? DeviceMath.Max(a, b) : DeviceMath.Min(a, b);

    /// <summary>Output o reduces x[l.A(o) + k·stride] for k in [0, len).</summary>
    public static void Thread(Index1D o, ArrayView<float> x, ArrayView<float> y, Strided l, int len, int stride, int op)
    {
        int b = l.OffsetA(o);
        if (len == 0) { y[o] = 0f; return; }
        float acc = x[b];
        for (int k = 1; k < len; k++) acc = Combine(op, acc, x[b + k * stride]);
        y[o] = acc;
    }

    public static void ArgMaxThread(Index1D o, ArrayView<float> x, ArrayView<int> y, Strided l, int len, int stride)
    {
        int b = l.OffsetA(o);
        int best = 0;
        float bv = x[b];
        for (int k = 1; k < len; k++)
        {
            float v = x[b + k * stride];
            if (v > bv || (DeviceMath.IsNaN(v) && !DeviceMath.IsNaN(bv))) { bv = v; best = k; }
        }
        y[o] = best;
    }

    /// <summary>Group per output (grid = outputs); dynamic shared memory of group-size floats.</summary>
    public static void Group(ArrayView<float> x, ArrayView<float> y, Strided l, int len, int stride, int op)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int o = Grid.IdxX, t = ILGPU.Group.IdxX, g = ILGPU.Group.DimX;
        int b = l.OffsetA(o);
        float acc = op == (int)ReduceOp.Sum ? 0f : x[b];
        for (int k = t; k < len; k += g) acc = Combine(op, acc, x[b + k * stride]);
        sh[t] = acc;
        ILGPU.Group.Barrier();
        for (int s = g / 2; s > 0; s >>= 1)
        {
            if (t < s) sh[t] = Combine(op, sh[t], sh[t + s]);
            ILGPU.Group.Barrier();
        }
        if (t == 0) y[o] = sh[0];
    }

    /// <summary>ArgMax with a group per output; shared memory holds group-size values then group-size indices (as float bits).</summary>
    public static void ArgMaxGroup(ArrayView<float> x, ArrayView<int> y, Strided l, int len, int stride)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int o = Grid.IdxX, t = ILGPU.Group.IdxX, g = ILGPU.Group.DimX;
        int b = l.OffsetA(o);
        float bv = x[b];
        int bi = 0;
        for (int k = t; k < len; k += g)
        {
            float v = x[b + k * stride];
            if (GroupOps.ArgMaxBetter(v, k, bv, bi)) { bv = v; bi = k; }
        }
        sh[t] = bv;
        sh[g + t] = DeviceMath.AsFloat(bi);
        ILGPU.Group.Barrier();
        for (int s = g / 2; s > 0; s >>= 1)
        {
            if (t < s)
            {
                float v = sh[t + s];
                int i = DeviceMath.AsInt(sh[g + t + s]);
                if (GroupOps.ArgMaxBetter(v, i, sh[t], DeviceMath.AsInt(sh[g + t])))
                {
                    sh[t] = v;
                    sh[g + t] = DeviceMath.AsFloat(i);
                }
            }
            ILGPU.Group.Barrier();
        }
        if (t == 0) y[o] = DeviceMath.AsInt(sh[g]);
    }

    /// <summary>Partial sums of squares: group p covers a grid-stride slice of x[0, n) and writes partial[p].</summary>
    public static void SumSquaresPartial(ArrayView<float> x, ArrayView<float> partial, int n)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int t = ILGPU.Group.IdxX, g = ILGPU.Group.DimX;
        int stride = Grid.DimX * g;
        float acc = 0f;
        for (int i = Grid.IdxX * g + t; i < n; i += stride)
        {
            float v = x[i];
            acc += v * v;
        }
        float s = GroupOps.Sum(sh, t, acc);
        if (t == 0) partial[Grid.IdxX] = s;
    }

    /// <summary>acc[0] += Σ partial[0, count), one group.</summary>
    public static void SumInto(ArrayView<float> partial, ArrayView<float> acc, int count)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int t = ILGPU.Group.IdxX, g = ILGPU.Group.DimX;
        float a = 0f;
        for (int i = t; i < count; i += g) a += partial[i];
        float s = GroupOps.Sum(sh, t, a);
        if (t == 0) acc[0] = acc[0] + s;
    }
}
