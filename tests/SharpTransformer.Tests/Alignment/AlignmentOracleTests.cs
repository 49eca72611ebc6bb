using System.Text.Json;
using SharpTransformer.Alignment;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Alignment;

/// <summary>
/// The DPO (sigmoid, cDPO, IPO) and GRPO losses, their gradients and metrics against PyTorch (float64) on the same batches:
/// alignment-oracle.json, made by make_oracle.py beside it after TRL's <c>dpo_loss</c> and <c>_compute_loss</c>.
/// </summary>
public sealed class AlignmentOracleTests
{
    private static readonly JsonElement Oracle = JsonDocument.Parse(File.ReadAllText(
        Path.Combine(TestPaths.Root, "tests", "SharpTransformer.Tests", "Alignment", "alignment-oracle.json"))).RootElement;

    public static TheoryData<string> DpoCases() => [.. Oracle.GetProperty("dpo").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];
    public static TheoryData<string> GrpoCases() => [.. Oracle.GetProperty("grpo").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];

    private static JsonElement Case(string group, string name) =>
        Oracle.GetProperty(group).EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static double[] Doubles(JsonElement c, string field) => c.GetProperty(field).EnumerateArray().Select(v => v.GetDouble()).ToArray();
    private static float[] Floats(JsonElement c, string field) => Doubles(c, field).Select(v => (float)v).ToArray();

    private static Tensor Leaf(float[] values, params int[] shape)
    {
        var t = Tensor.FromArray(values, shape);
        t.RequiresGrad = true;
        return t;
    }

    // float32 against float64: |ours - torch| <= tol (1 + |torch|).
    private static void Close(double expected, double actual, string what, double tol = 2e-5) =>
        Assert.True(Math.Abs(actual - expected) <= tol * (1 + Math.Abs(expected)), $"{what}: ours {actual:G9}, PyTorch {expected:G9}");

    private static void Close(double[] expected, float[] actual, string what, double tol = 2e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Close(expected[i], actual[i], $"{what}[{i}]", tol);
    }

    [Theory]
    [MemberData(nameof(DpoCases))]
    public void DpoLossGradientsAndRewardsMatchPyTorch(string name)
    {
        var c = Case("dpo", name);
        var pc = Leaf(Floats(c, "policy_chosen"));
        var pr = Leaf(Floats(c, "policy_rejected"));
        var kind = c.GetProperty("loss_type").GetString() == "ipo" ? DpoLossKind.Ipo : DpoLossKind.Sigmoid;
        var output = DpoLoss.Compute(pc, pr, Tensor.FromArray(Floats(c, "reference_chosen")), Tensor.FromArray(Floats(c, "reference_rejected")),
            (float)c.GetProperty("beta").GetDouble(), kind, (float)c.GetProperty("label_smoothing").GetDouble());
        output.Loss.Backward();
        Close(c.GetProperty("loss").GetDouble(), output.Loss.Item(), $"{name}: loss", kind == DpoLossKind.Ipo ? 1e-4 : 2e-5);
        Close(Doubles(c, "grad_policy_chosen"), pc.Grad!.ToArray(), $"{name}: d loss / d policy chosen", kind == DpoLossKind.Ipo ? 1e-4 : 2e-5);
        Close(Doubles(c, "grad_policy_rejected"), pr.Grad!.ToArray(), $"{name}: d loss / d policy rejected", kind == DpoLossKind.Ipo ? 1e-4 : 2e-5);
        Close(Doubles(c, "rewards_chosen"), output.ChosenRewards, $"{name}: rewards/chosen");
        Close(Doubles(c, "rewards_rejected"), output.RejectedRewards, $"{name}: rewards/rejected");
        Close(c.GetProperty("rewards_accuracies").GetDouble(), output.Accuracy, $"{name}: rewards/accuracies", 0);
        Close(c.GetProperty("rewards_margins").GetDouble(), output.Margin, $"{name}: rewards/margins");
        Assert.Equal(output.Accuracy, output.Metrics()["rewards/accuracies"]);
        // Ties count one half (TRL: 0): the fixture has none, so the two definitions agree on it.
        Assert.DoesNotContain(output.ChosenRewards.Zip(output.RejectedRewards), p => p.First == p.Second);
    }

    [Theory]
    [MemberData(nameof(GrpoCases))]
    public void GrpoLossGradientAdvantagesAndMetricsMatchPyTorch(string name)
    {
        var c = Case("grpo", name);
        int b = c.GetProperty("batch").GetInt32(), t = c.GetProperty("length").GetInt32(), g = c.GetProperty("group_size").GetInt32();
        var advantages = GrpoLoss.Advantages(Doubles(c, "rewards"), g);
        Close(Doubles(c, "advantages"), advantages, $"{name}: advantages", 1e-6);
        var x = Leaf(Floats(c, "log_probs"), b, t);
        float beta = (float)c.GetProperty("beta").GetDouble();
        var output = GrpoLoss.Compute(x, Floats(c, "mask"), Floats(c, "old_log_probs"), beta > 0 ? Floats(c, "reference_log_probs") : null,
            Doubles(c, "advantages").Select(v => (float)v).ToArray(), (float)c.GetProperty("epsilon").GetDouble(), beta,
            c.GetProperty("loss_type").GetString() == "bnpo" ? GrpoLossKind.Bnpo : GrpoLossKind.Grpo, (float)c.GetProperty("epsilon_high").GetDouble());
        output.Loss.Backward();
        Close(c.GetProperty("loss").GetDouble(), output.Loss.Item(), $"{name}: loss");
        Close(Doubles(c, "grad_log_probs"), x.Grad!.ToArray(), $"{name}: d loss / d log-probabilities");
        Close(c.GetProperty("kl").GetDouble(), output.Kl, $"{name}: kl");
        Close(c.GetProperty("clip_ratio").GetDouble(), output.ClipRatio, $"{name}: clip_ratio", 1e-12);
    }

    [Fact]
    public void TheOracleCoversClippingOnBothSidesAndAZeroSpreadGroup()
    {
        // Guards the fixture itself: the comparisons above would be weak if no ratio were clipped or no group were flat.
        foreach (var c in Oracle.GetProperty("grpo").EnumerateArray())
        {
            Assert.True(c.GetProperty("clip_ratio").GetDouble() > 0, c.GetProperty("name").GetString());
            Assert.Contains(0.0, Doubles(c, "advantages"));
        }
        Assert.Contains(Oracle.GetProperty("dpo").EnumerateArray(), c => c.GetProperty("label_smoothing").GetDouble() > 0);
    }
}
