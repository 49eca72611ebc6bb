using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SharpTransformer.Backends.Cpu;

/// <summary>
/// A 64-byte aligned, pinned float scratch buffer that only grows. GEMM keeps one per thread (thread-static) for its
/// packed panels, so steady-state calls allocate nothing.
/// </summary>
internal sealed unsafe class PinnedBuffer
{
    private readonly float[] _array;

    private PinnedBuffer(int floats)
    {
        _array = GC.AllocateUninitializedArray<float>(floats + 16, pinned: true);
        nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        Pointer = (float*)((p + 63) & ~(nint)63);
        Length = floats;
    }

    /// <summary>The aligned start of the buffer.</summary>
    public float* Pointer { get; }

    /// <summary>Usable floats from <see cref="Pointer"/>.</summary>
    public int Length { get; }

    /// <summary>Returns the buffer in <paramref name="slot"/>, replacing it when shorter than <paramref name="floats"/>.</summary>
    public static float* Get(ref PinnedBuffer? slot, int floats)
    {
        var b = slot;
        if (b is null || b.Length < floats)
        {
            // Grow geometrically so a sequence of slightly larger requests does not reallocate every time.
            int size = Math.Max(floats, b is null ? 0 : (int)Math.Min(int.MaxValue - 64, b.Length * 3L / 2));
            slot = b = new PinnedBuffer(size);
        }
        return b.Pointer;
    }
}
