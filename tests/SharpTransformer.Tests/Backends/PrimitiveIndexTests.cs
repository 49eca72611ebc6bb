using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;

namespace SharpTransformer.Tests.Backends;

/// <summary>The gather/scatter conformance suite on the CPU backend with 1 and 2 threads.</summary>
public sealed class PrimitiveIndexTests : PrimitiveIndexConformance
{
    /// <inheritdoc/>
    protected override IBackend[] Backends { get; } = [new CpuBackend(1), new CpuBackend(2)];
}
