using SharpTransformer.Autograd;
using SharpTransformer.Data;
using SharpTransformer.IO;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Models;

public class TrainingBehaviourTests
{
    [Fact]
    public void TinyLlamaOverfitsOneBatch()
    {
        var model = new Llama(LlamaConfig.Tiny, seed: 2);
        var opt = new AdamW(model.Parameters(), new AdamWOptions(1e-2f, WeightDecay: 0f));
        var ids = Tensor.FromArray(Enumerable.Range(0, 32).Select(i => (i * 5) % 64).ToArray(), 2, 16);
        var tg = Tensor.FromArray(Enumerable.Range(0, 32).Select(i => (i * 5 + 3) % 64).ToArray(), 2, 16);
        float loss = 0;
        for (int s = 0; s < 150; s++)
        {
            using var scope = TensorScope.Begin();
            var l = Functional.CrossEntropy(model.Forward(ids), tg);
            opt.ZeroGrad(); l.Backward(); opt.Step();
            loss = l.Item();
        }
        Assert.True(loss < 0.05f, $"loss after 150 steps on one batch: {loss}");
    }

    [Fact]
    public void SgdWithMomentumMatchesTheClosedForm()
    {
        var w = Tensor.FromArray([1f, -2f]); w.RequiresGrad = true;
        var opt = new Sgd([w], new SgdOptions(0.1f, Momentum: 0.9f));
        // L = sum(w²)/2 → g = w. Step 1: buf = g; step 2: buf = 0.9 buf + g.
        float[] expect = [1f, -2f];
        float[] buf = [0f, 0f];
        for (int s = 0; s < 3; s++)
        {
            opt.ZeroGrad();
            w.Square().Sum().Mul(0.5f).Backward();
            opt.Step();
            for (int i = 0; i < 2; i++) { buf[i] = s == 0 ? expect[i] : 0.9f * buf[i] + expect[i]; expect[i] -= 0.1f * buf[i]; }
        }
        Assert.Equal(expect[0], w[0], 5);
        Assert.Equal(expect[1], w[1], 5);
    }

    [Fact]
    public void NonFiniteLossStopsTrainingWithAClearMessageAndNoUpdate()
    {
        var model = new Gpt2(Gpt2Config.Tiny with { ContextLength = 8 }, seed: 4);
        var trainer = new LanguageModelTrainer(model, new TrainerOptions { MaxSteps = 5, BatchSize = 2, LearningRate = 1e-3f, WarmupSteps = 1 });
        var data = new TokenWindowDataset(Enumerable.Range(0, 200).Select(i => i % 64).ToArray(), 8);
        trainer.Train(data, untilStep: 2);
        model.Wte.Weight.Detach()[3, 3] = float.PositiveInfinity;   // poison the model
        var before = model.LnF.Weight.ToArray();
        var e = Assert.Throws<ArithmeticException>(() => trainer.Train(data));
        Assert.Contains("step 2", e.Message);
        Assert.Contains("NaN", e.Message);
        Assert.Equal(before, model.LnF.Weight.ToArray());             // no update was applied
    }

    [Fact]
    public void SavedAndReloadedModelGivesIdenticalLogits()
    {
        var a = new Llama(LlamaConfig.Tiny, seed: 8);
        var path = Path.Combine(Directory.CreateTempSubdirectory("sharpt-save-").FullName, "m.safetensors");
        Checkpoint.Save(path, a, "llama", "{}", 0);
        var b = new Llama(LlamaConfig.Tiny, seed: 99);
        Checkpoint.Load(path).RestoreModel(b);
        using var _ = GradMode.NoGrad();
        var ids = Tensor.FromArray([1, 2, 3, 4, 5], 1, 5);
        Assert.Equal(a.Forward(ids).ToArray(), b.Forward(ids).ToArray());
    }
}
