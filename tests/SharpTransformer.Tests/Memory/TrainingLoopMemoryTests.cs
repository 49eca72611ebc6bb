using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Memory;

/// <summary>Runs alone: GC.CollectionCount is process-wide, so tests allocating in parallel would count against it.</summary>
[CollectionDefinition(nameof(TrainingLoopMemoryTests), DisableParallelization = true)]
public class TrainingLoopMemoryCollection;

[Collection(nameof(TrainingLoopMemoryTests))]
public class TrainingLoopMemoryTests
{
    // A training loop over a small attention + MLP stack, one TensorScope per step: after warm-up the backend pool
    // serves every large buffer, so no gen-2 collection is triggered by the steps.
    [Fact]
    public void SteadyStateStepsDoNotTriggerGen2Collections()
    {
        var g = new Generator(7);
        var opts = new BlockOptions(new AttentionOptions(128, 4), 512, FeedForwardKind.GeluTanh);
        var blocks = new ModuleList<TransformerBlock>([new TransformerBlock(opts, g), new TransformerBlock(opts, g)]);
        var head = new Linear(128, 256, generator: g);
        var parameters = blocks.Parameters().Concat(head.Parameters()).ToList();
        var opt = new AdamW(parameters, new AdamWOptions(1e-3f));
        var x = Tensor.RandN([4, 64, 128], g);                       // (B, T, C): 128 KB, a large-object-heap size
        var targets = Tensor.FromArray(Enumerable.Range(0, 4 * 64).Select(i => i % 256).ToArray(), 4, 64);

        float Step()
        {
            using var scope = TensorScope.Begin();
            var h = x;
            for (int i = 0; i < blocks.Count; i++) h = blocks[i].Forward(h);
            var logits = head.Forward(h);                              // (B, T, 256)
            var loss = Functional.CrossEntropy(logits, targets);
            opt.ZeroGrad();
            loss.Backward();
            opt.Step();
            return loss.Item();
        }

        for (int i = 0; i < 5; i++) Step();                           // warm-up fills the pool
        GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        int before = GC.CollectionCount(2);
        float first = Step(), last = first;
        for (int i = 1; i < 20; i++) last = Step();
        int after = GC.CollectionCount(2);
        Assert.True(last < first, $"loss should fall while memory is checked: {first} -> {last}");
        Assert.Equal(before, after);
    }
}
