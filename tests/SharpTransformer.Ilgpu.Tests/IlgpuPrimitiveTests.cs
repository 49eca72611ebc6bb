using SharpTransformer.Backends;
using SharpTransformer.Tests.Backends;

namespace SharpTransformer.Ilgpu.Tests;

// The primitive layout matrix of tests/Primitives (contiguous, offset, transposed, narrowed, broadcast and strided inputs, every
// op, every length 1..67, the large multi-group cases) at the same sizes as on the CPU backend: on the shared CPU accelerator
// (4 threads per group) the five classes take about 15 s together, so nothing is cut.

/// <summary>The elementwise layout matrix (tests/Primitives) on ILGPU's CPU accelerator.</summary>
public sealed class IlgpuPrimitiveElementwiseTests : PrimitiveElementwiseConformance
{
    /// <inheritdoc/>
    protected override IBackend[] Backends { get; } = [TestBackend.Shared];
}

/// <summary>The matmul layout matrix (tests/Primitives) on ILGPU's CPU accelerator.</summary>
public sealed class IlgpuPrimitiveMatMulTests : PrimitiveMatMulConformance
{
    /// <inheritdoc/>
    protected override IBackend[] Backends { get; } = [TestBackend.Shared];
}

/// <summary>The reduction layout matrix (tests/Primitives) on ILGPU's CPU accelerator.</summary>
public sealed class IlgpuPrimitiveReduceTests : PrimitiveReduceConformance
{
    /// <inheritdoc/>
    protected override IBackend[] Backends { get; } = [TestBackend.Shared];
}

/// <summary>The data-movement layout matrix (tests/Primitives) on ILGPU's CPU accelerator.</summary>
public sealed class IlgpuPrimitiveDataTests : PrimitiveDataConformance
{
    /// <inheritdoc/>
    protected override IBackend[] Backends { get; } = [TestBackend.Shared];
}

/// <summary>The gather/scatter layout matrix (tests/Primitives) on ILGPU's CPU accelerator.</summary>
public sealed class IlgpuPrimitiveIndexTests : PrimitiveIndexConformance
{
    /// <inheritdoc/>
    protected override IBackend[] Backends { get; } = [TestBackend.Shared];
}
