using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;

namespace SharpTransformer.Tests.Backends;

/// <summary>The data-movement conformance suite on the CPU backend with 1 and 2 threads.</summary>
public sealed class PrimitiveDataTests : PrimitiveDataConformance
{
    /// <inheritdoc/>
    protected override IBackend[] Backends { get; } = [new CpuBackend(1), new CpuBackend(2)];
}
