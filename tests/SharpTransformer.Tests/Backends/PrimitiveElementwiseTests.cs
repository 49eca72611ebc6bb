using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;

namespace SharpTransformer.Tests.Backends;

/// <summary>The elementwise conformance suite on the CPU backend with 1 and 2 threads.</summary>
public sealed class PrimitiveElementwiseTests : PrimitiveElementwiseConformance
{
    /// <inheritdoc/>
    protected override IBackend[] Backends { get; } = [new CpuBackend(1), new CpuBackend(2)];
}
