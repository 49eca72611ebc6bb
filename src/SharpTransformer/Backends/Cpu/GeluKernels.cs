using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SharpTransformer.Backends.Cpu;

/// <summary>
/// GELU (tanh form) forward and derivative in one SIMD pass: tanh(u) = 1 − 2/(e^{2u} + 1), u = √(2/π)(x + 0.044715x³).
/// Vector512, then Vector256, then a scalar tail.
/// </summary>
internal static class GeluKernels
{
    private const float C = 0.7978845608028654f;
    private const float A = 0.044715f;

    public static void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int i = 0, n = x.Length;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref xr, (nuint)i);
                var t = Tanh512(v);
                (Vector512.Create(0.5f) * v * (Vector512<float>.One + t)).StoreUnsafe(ref yr, (nuint)i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref xr, (nuint)i);
                var t = Tanh256(v);
                (Vector256.Create(0.5f) * v * (Vector256<float>.One + t)).StoreUnsafe(ref yr, (nuint)i);
            }
        for (; i < n; i++) y[i] = ScalarMath.GeluTanh(x[i]);
    }

    /// <summary>dx = dy · GELU'(x).</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float dr = ref MemoryMarshal.GetReference(dx);
        int i = 0, n = x.Length;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref xr, (nuint)i);
                var t = Tanh512(v);
                var du = Vector512.Create(C) * (Vector512<float>.One + Vector512.Create(3f * A) * v * v);
                var d = Vector512.Create(0.5f) * (Vector512<float>.One + t) + Vector512.Create(0.5f) * v * (Vector512<float>.One - t * t) * du;
                (d * Vector512.LoadUnsafe(ref gr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref xr, (nuint)i);
                var t = Tanh256(v);
                var du = Vector256.Create(C) * (Vector256<float>.One + Vector256.Create(3f * A) * v * v);
                var d = Vector256.Create(0.5f) * (Vector256<float>.One + t) + Vector256.Create(0.5f) * v * (Vector256<float>.One - t * t) * du;
                (d * Vector256.LoadUnsafe(ref gr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
            }
        for (; i < n; i++) dx[i] = dy[i] * ScalarMath.GeluTanhGrad(x[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Tanh512(Vector512<float> v)
    {
        var u = Vector512.Create(C) * (v + Vector512.Create(A) * v * v * v);
        var e = Vector512.Exp(Vector512.Min(u + u, Vector512.Create(80f)));
        return Vector512<float>.One - Vector512.Create(2f) / (e + Vector512<float>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Tanh256(Vector256<float> v)
    {
        var u = Vector256.Create(C) * (v + Vector256.Create(A) * v * v * v);
        var e = Vector256.Exp(Vector256.Min(u + u, Vector256.Create(80f)));
        return Vector256<float>.One - Vector256.Create(2f) / (e + Vector256<float>.One);
    }
}
