using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Conformance;
using Xunit.Abstractions;

namespace SharpTransformer.Tests.Conformance;

/// <summary>The shared backend conformance suite (tests/Conformance) against the CPU backend.</summary>
public sealed class CpuConformanceTests(ITestOutputHelper output) : BackendConformance
{
    protected override IBackend CreateBackend() => CpuBackend.Default;

    protected override void Log(string line) => output.WriteLine(line);
}
