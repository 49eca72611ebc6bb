using SharpTransformer.Backends;
using SharpTransformer.Conformance;
using SharpTransformer.Tests.Backends;
using Xunit.Abstractions;

namespace SharpTransformer.Tests.Conformance;

/// <summary>
/// The shared backend conformance suite (tests/Conformance) against <see cref="PrimitiveOnlyBackend"/>: every fused kernel
/// (softmax, norms, attention with all its options, cross-entropy, rope, AdamW) runs its default body composed from primitives
/// and must match the scalar reference, and the tiny GPT and BERT train as on the CPU backend.
/// </summary>
public sealed class PrimitiveOnlyConformanceTests(ITestOutputHelper output) : BackendConformance
{
    protected override IBackend CreateBackend() => PrimitiveOnlyBackend.Shared;

    protected override void Log(string line) => output.WriteLine(line);
}
