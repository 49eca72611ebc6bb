using SharpTransformer.Autograd;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Autograd;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Training;

/// <summary>Distillation losses: values against double-precision references, gradients against finite differences, masking.</summary>
public sealed class DistillationTests
{
    private static Tensor Logits(int seed, int[] shape, double scale = 3) =>
        GradCheck.Make(GradCheck.Values(new Random(seed), GradCheck.ScalarCount(shape), -scale, scale), shape);

    // T² · Σ p (log p − log q) per row, mean over counted rows, in double with a max-subtracted log-softmax.
    private static double ReferenceKl(float[] s, float[] t, int v, double temp, float[]? mask)
    {
        int rows = s.Length / v;
        double sum = 0, count = 0;
        for (int r = 0; r < rows; r++)
        {
            if (mask is not null && mask[r] == 0f) continue;
            var ls = LogSoftmax(s.AsSpan(r * v, v), temp);
            var lt = LogSoftmax(t.AsSpan(r * v, v), temp);
            for (int j = 0; j < v; j++) sum += Math.Exp(lt[j]) * (lt[j] - ls[j]);
            count++;
        }
        return temp * temp * sum / Math.Max(1, count);
    }

    private static double[] LogSoftmax(ReadOnlySpan<float> x, double temp)
    {
        double max = double.NegativeInfinity;
        foreach (var e in x) max = Math.Max(max, e / temp);
        double z = 0;
        foreach (var e in x) z += Math.Exp(e / temp - max);
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = x[i] / temp - max - Math.Log(z);
        return y;
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(2f)]
    [InlineData(4f)]
    public void SoftTargetLossMatchesTheReferenceAndItsGradientMatchesFiniteDifferences(float temperature)
    {
        var s = Logits(1, [3, 4, 5]);
        var t = Logits(2, [3, 4, 5]);
        var mask = GradCheck.Make([1, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1], [3, 4]);
        double want = ReferenceKl(s.ToArray(), t.ToArray(), 5, temperature, mask.ToArray());
        Assert.Equal(want, Distillation.SoftTargetLoss(s, t, temperature, mask).Item(), 5);
        Assert.Equal(ReferenceKl(s.ToArray(), t.ToArray(), 5, temperature, null), Distillation.SoftTargetLoss(s, t, temperature).Item(), 5);
        Assert.Equal(0.0, Distillation.SoftTargetLoss(t, t, temperature).Item(), 6);   // KL(p ‖ p) = 0

        s.RequiresGrad = true;
        GradCheck.Check(xs => Distillation.SoftTargetLoss(xs[0], xs[1], temperature, xs[2]), [s, t, mask], what: $"soft target T={temperature}");
    }

    [Fact]
    public void SoftTargetLossIsStableForHugeLogitsAndItsGradientIsTTimesQMinusP()
    {
        // Logits of 1e4 overflow a naive exp; the max-subtracted log-softmax keeps the loss and gradient finite and exact.
        var s = GradCheck.Make([10000f, 9990f, -10000f, 5f, 0f, -5f], [2, 3]);
        var t = GradCheck.Make([9995f, 10000f, -10000f, 0f, 5f, -5f], [2, 3]);
        const float temp = 2f;
        s.RequiresGrad = true;
        var loss = Distillation.SoftTargetLoss(s, t, temp);
        Assert.True(float.IsFinite(loss.Item()));
        Assert.Equal(ReferenceKl(s.ToArray(), t.ToArray(), 3, temp, null), loss.Item(), 3);
        loss.Backward();
        var g = s.Grad!.ToArray();
        var sa = s.ToArray();
        var ta = t.ToArray();
        for (int r = 0; r < 2; r++)
        {
            var q = LogSoftmax(sa.AsSpan(r * 3, 3), temp);
            var p = LogSoftmax(ta.AsSpan(r * 3, 3), temp);
            for (int j = 0; j < 3; j++)
                Assert.Equal(temp * (Math.Exp(q[j]) - Math.Exp(p[j])) / 2, g[r * 3 + j], 5);   // T · (q − p) / rows
        }
    }

    [Fact]
    public void HiddenCosineLossMatchesTheReferenceAndItsGradientsMatchFiniteDifferences()
    {
        var s = Logits(3, [2, 3, 4], 1);
        var t = Logits(4, [2, 3, 4], 1);
        var mask = GradCheck.Make([1, 1, 0, 1, 0, 1], [2, 3]);
        double sum = 0;
        var sa = s.ToArray(); var ta = t.ToArray(); var ma = mask.ToArray();
        for (int r = 0; r < 6; r++)
        {
            if (ma[r] == 0f) continue;
            double dot = 0, ns = 0, nt = 0;
            for (int j = 0; j < 4; j++) { dot += sa[r * 4 + j] * ta[r * 4 + j]; ns += sa[r * 4 + j] * sa[r * 4 + j]; nt += ta[r * 4 + j] * ta[r * 4 + j]; }
            sum += 1 - dot / Math.Sqrt(ns * nt);
        }
        Assert.Equal(sum / 4, Distillation.HiddenCosineLoss(s, t, mask).Item(), 5);
        Assert.Equal(0.0, Distillation.HiddenCosineLoss(t, t.Mul(3f)).Item(), 5);   // the same direction: no loss

        s.RequiresGrad = true;
        GradCheck.Check(xs => Distillation.HiddenCosineLoss(xs[0], xs[1], xs[2]), [s, t, mask], what: "hidden cosine");

        // Through a projection when the widths differ: gradients of the student's states and of the projection's weights.
        var wide = Logits(5, [2, 3, 6], 1);
        var proj = new Linear(4, 6, bias: true, new Generator(3));
        GradCheck.Check(xs => Distillation.HiddenCosineLoss(xs[0], xs[1], xs[2], proj), [s, wide, mask], what: "hidden cosine, projected");
        var w = proj.Weight;
        var wx = GradCheck.Make(w.ToArray(), w.Shape.ToArray(), requiresGrad: true);
        GradCheck.Check(xs => Distillation.HiddenCosineLoss(Tensor.Linear(xs[0], xs[3], proj.Bias), xs[1], xs[2]), [s.Detach(), wide, mask, wx], what: "projection weight");
        var e = Assert.Throws<ArgumentException>(() => Distillation.HiddenCosineLoss(s, wide));
        Assert.Contains("give a projection 4 → 6", e.Message);
    }

    [Fact]
    public void TheWholeLossWeighsItsTermsMasksIgnoredTokensAndItsGradientMatchesFiniteDifferences()
    {
        var s = Logits(6, [2, 3, 5]);
        var t = Logits(7, [2, 3, 5]);
        var labels = GradCheck.MakeInt([1, 4, -100, 0, -100, 2], [2, 3]);
        var mask = GradCheck.Make([1, 1, 0, 1, 0, 1], [2, 3]);
        var o = new DistillationOptions(Temperature: 3f, Alpha: 0.7f);
        var loss = Distillation.Loss(s, t, labels, o);
        double soft = Distillation.SoftTargetLoss(s, t, 3f, mask).Item();
        double hard = Functional.CrossEntropy(s.Reshape(6, 5), labels.Reshape(6)).Item();
        Assert.Equal(soft, loss.Soft.Item(), 6);
        Assert.Equal(hard, loss.Hard.Item(), 6);
        Assert.Equal(0.7 * soft + 0.3 * hard, loss.Total.Item(), 4);
        Assert.Null(loss.Hidden);
        Assert.Equal(soft, Distillation.Loss(s, t, labels, o with { Alpha = 1f }).Total.Item(), 6);
        Assert.Equal(hard, Distillation.Loss(s, t, labels, o with { Alpha = 0f }).Total.Item(), 6);

        // Ignored positions count in no term: changing their logits (student or teacher) changes nothing.
        var s2 = s.ToArray(); var t2 = t.ToArray();
        for (int j = 0; j < 5; j++) { s2[2 * 5 + j] += 7f * j; t2[4 * 5 + j] -= 3f * j; }
        Assert.Equal(loss.Total.Item(), Distillation.Loss(GradCheck.Make(s2, [2, 3, 5]), GradCheck.Make(t2, [2, 3, 5]), labels, o).Total.Item(), 6);

        s.RequiresGrad = true;
        GradCheck.Check(xs => Distillation.Loss(xs[0], xs[1], xs[2], o).Total, [s, t, labels], what: "distillation total");
        var hs = Logits(8, [2, 3, 4], 1);
        hs.RequiresGrad = true;
        var ht = Logits(9, [2, 3, 4], 1);
        var withHidden = o with { HiddenLossWeight = 0.5f };
        var full = Distillation.Loss(s, t, labels, withHidden, hs, ht);
        Assert.Equal(loss.Total.Item() + 0.5 * Distillation.HiddenCosineLoss(hs, ht, mask).Item(), full.Total.Item(), 4);
        GradCheck.Check(xs => Distillation.Loss(xs[0], xs[1], xs[2], withHidden, xs[3], xs[4]).Total, [s, t, labels, hs, ht], what: "distillation with hidden");
    }

    [Fact]
    public void BadInputIsNamed()
    {
        var s = Logits(1, [2, 3]);
        Assert.Contains("differ", Assert.Throws<ArgumentException>(() => Distillation.SoftTargetLoss(s, Logits(2, [2, 4]), 2f)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Distillation.SoftTargetLoss(s, s, 0f));
        Assert.Contains("Alpha", Assert.Throws<ArgumentException>(() => Distillation.Loss(s, s, GradCheck.MakeInt([0, 1], [2]), new DistillationOptions(Alpha: 1.5f))).Message);
        Assert.Contains("labels", Assert.Throws<ArgumentException>(() => Distillation.Loss(s, s, GradCheck.MakeInt([0, 1, 1], [3]), new DistillationOptions())).Message);
    }

    [Fact]
    public void AStudentTrainedOnlyOnSoftTargetsMovesTowardsTheTeacher()
    {
        var g = new Generator(11);
        var teacher = new Linear(4, 3, true, g);
        var student = new Linear(4, 3, true, new Generator(12));
        var x = Tensor.Rand([16, 4], g, -1f, 1f);
        Tensor tl;
        using (GradMode.NoGrad()) tl = teacher.Forward(x);
        var labels = Tensor.FromArray(new int[16]);
        var o = new DistillationOptions(Temperature: 2f, Alpha: 1f);
        float before = Distillation.SoftTargetLoss(student.Forward(x), tl, 2f).Item();
        var trainer = new Trainer(new DistillationStudent(student), new TrainerOptions { Epochs = 30, BatchSize = 16, LearningRate = 5e-2f, WeightDecay = 0f });
        trainer.Train(Enumerable.Range(0, 16).ToList(), _ => Distillation.Loss(student.Forward(x), tl, labels, o).Total);
        float after;
        using (GradMode.NoGrad()) after = Distillation.SoftTargetLoss(student.Forward(x), tl, 2f).Item();
        Assert.True(after < before * 0.2f, $"KL to the teacher {before} → {after}");
    }
}
