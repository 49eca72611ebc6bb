using SharpTransformer.Data;
using SharpTransformer.IO;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Models;

public class CheckpointResumeTests
{
    private static TokenWindowDataset Data()
    {
        var g = new Generator(11);
        var tokens = Enumerable.Range(0, 3000).Select(i => (i * 7 + g.NextInt(5)) % 64).ToArray();
        return new TokenWindowDataset(tokens, 16, stride: 1);
    }

    // The settings of the former TrainerOptions(Steps: 12, BatchSize: 4, LearningRate: 3e-3f, WarmupSteps: 3, EvalInterval: 0, Seed: 3).
    private static TrainerOptions Options => new()
    {
        MaxSteps = 12, BatchSize = 4, LearningRate = 3e-3f, MinLearningRate = 1e-4f, WarmupSteps = 3, Decay = DecayKind.Cosine, WeightDecay = 0.1f,
        Beta2 = 0.99f, MaxGradNorm = 1f, Seed = 3,
    };

    [Fact]
    public void ResumedTrainingFollowsTheSameLossCurve()
    {
        var data = Data();
        // Uninterrupted: 12 steps.
        var full = new List<float>();
        var m1 = new Gpt2(Gpt2Config.Tiny with { ContextLength = 16 }, seed: 9);
        var t1 = new LanguageModelTrainer(m1, Options);
        t1.Callbacks.Add(new Recorder(full));
        t1.Train(data);

        // Interrupted after 5 steps, saved, restored into fresh objects, continued.
        var part = new List<float>();
        var m2 = new Gpt2(Gpt2Config.Tiny with { ContextLength = 16 }, seed: 9);
        var t2 = new LanguageModelTrainer(m2, Options);
        t2.Callbacks.Add(new Recorder(part));
        t2.Train(data, untilStep: 5);
        Assert.Equal(5, part.Count);
        var path = Path.Combine(Directory.CreateTempSubdirectory("sharpt-ckpt-").FullName, "ckpt.safetensors");
        Checkpoint.Save(path, m2, "gpt2", "{}", t2.Step, t2.Optimizer, t2.Sampling);

        var m3 = new Gpt2(Gpt2Config.Tiny with { ContextLength = 16 }, seed: 123);   // different init: everything must come from the file
        var t3 = new LanguageModelTrainer(m3, Options);
        var ck = Checkpoint.Load(path);
        ck.RestoreModel(m3);
        ck.RestoreOptimizer(t3.Optimizer, m3);
        ck.RestoreGenerator(t3.Sampling);
        t3.Step = ck.Step;
        t3.Callbacks.Add(new Recorder(part));
        t3.Train(data);

        Assert.Equal(12, part.Count);
        Assert.Equal(full, part);   // bit-identical: same maths, same batches, same optimizer state
    }

    [Fact]
    public void SavingNonFiniteWeightsFailsAndKeepsThePreviousCheckpoint()
    {
        var m = new Gpt2(Gpt2Config.Tiny, seed: 1);
        var path = Path.Combine(Directory.CreateTempSubdirectory("sharpt-ckpt-").FullName, "ckpt.safetensors");
        Checkpoint.Save(path, m, "gpt2", "{}", 1);
        var before = File.ReadAllBytes(path);
        m.Wte.Weight.Detach()[0, 0] = float.NaN;
        var e = Assert.Throws<ArithmeticException>(() => Checkpoint.Save(path, m, "gpt2", "{}", 2));
        Assert.Contains("wte.weight", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    private sealed class Recorder(List<float> losses) : ITrainerCallback
    {
        public void OnStepEnd(TrainerState state, StepRecord step) => losses.Add(step.Loss);
    }
}
