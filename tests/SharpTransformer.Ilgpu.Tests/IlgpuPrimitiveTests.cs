using SharpTransformer.Backends;
using SharpTransformer.Tests.Backends;

namespace SharpTransformer.Ilgpu.Tests;

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
