using SharpTransformer.Evaluation;

namespace SharpTransformer.Tests.Evaluation;

/// <summary>Classification and entity metrics against hand-computed values and the published scikit-learn and seqeval reports.</summary>
public sealed class MetricsTests
{
    [Fact]
    public void ClassificationReportMatchesScikitLearnDocumentationExample()
    {
        // sklearn.metrics.classification_report docs: y_true = [0, 1, 2, 2, 2], y_pred = [0, 0, 2, 2, 1].
        var m = new ClassificationMetrics([0, 0, 2, 2, 1], [0, 1, 2, 2, 2], ["class 0", "class 1", "class 2"]);
        const string expected =
            "              precision    recall  f1-score   support\n" +
            "\n" +
            "     class 0       0.50      1.00      0.67         1\n" +
            "     class 1       0.00      0.00      0.00         1\n" +
            "     class 2       1.00      0.67      0.80         3\n" +
            "\n" +
            "    accuracy                           0.60         5\n" +
            "   macro avg       0.50      0.56      0.49         5\n" +
            "weighted avg       0.70      0.60      0.61         5\n";
        Assert.Equal(expected, m.ToString());
        Assert.Equal(0.6, m.Accuracy, 12);
        Assert.Equal(2.0 / 3, m.PerClass[0].F1, 12);
        Assert.Equal(0.8, m.PerClass[2].F1, 12);
        Assert.Equal((2.0 / 3 + 0 + 0.8) / 3, m.MacroAverage.F1, 12);
        Assert.Equal((2.0 / 3 * 1 + 0.8 * 3) / 5, m.WeightedAverage.F1, 12);
        Assert.Equal(new int[,] { { 1, 0, 0 }, { 1, 0, 0 }, { 0, 1, 2 } }, m.ConfusionMatrix);
    }

    [Fact]
    public void ClassificationHandComputedBinaryAndNeverPredictedClass()
    {
        // gold: 1 1 1 0 0 0 ; pred: 1 1 0 0 0 1 → class 1: tp 2, fp 1, fn 1 → P = R = F1 = 2/3.
        var m = new ClassificationMetrics([1, 1, 0, 0, 0, 1], [1, 1, 1, 0, 0, 0], ["neg", "pos"]);
        Assert.Equal(4.0 / 6, m.Accuracy, 12);
        Assert.Equal(2.0 / 3, m.PerClass[1].Precision, 12);
        Assert.Equal(2.0 / 3, m.PerClass[1].Recall, 12);
        Assert.Equal(3, m.PerClass[1].Support);
        // A class that is never predicted nor present: zeros, not NaN.
        var z = new ClassificationMetrics([0, 0], [0, 1], ["a", "b", "c"]);
        Assert.Equal(0, z.PerClass[2].Precision);
        Assert.Equal(0, z.PerClass[1].F1);
        Assert.Equal(0.5, z.PerClass[0].Precision, 12);
        Assert.False(double.IsNaN(z.MacroAverage.F1));
        Assert.Throws<ArgumentException>(() => new ClassificationMetrics([0, 3], [0, 1], ["a", "b"]));
        Assert.Throws<ArgumentException>(() => new ClassificationMetrics([0], [0, 1], ["a", "b"]));
    }

    [Fact]
    public void EntityReportMatchesSeqevalReadmeExample()
    {
        string[][] gold = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]];
        string[][] pred = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]];
        var m = new EntityMetrics(pred, gold);
        Assert.Equal(0.5, m.F1, 12);
        const string expected =
            "              precision    recall  f1-score   support\n" +
            "\n" +
            "        MISC       0.00      0.00      0.00         1\n" +
            "         PER       1.00      1.00      1.00         1\n" +
            "\n" +
            "   micro avg       0.50      0.50      0.50         2\n" +
            "   macro avg       0.50      0.50      0.50         2\n" +
            "weighted avg       0.50      0.50      0.50         2\n";
        Assert.Equal(expected, m.ToString());
    }

    [Fact]
    public void EntitiesFollowConllevalRules()
    {
        Assert.Equal([new Entity("PER", 0, 2), new Entity("LOC", 3, 4)], EntityMetrics.ExtractEntities(["B-PER", "I-PER", "O", "B-LOC"]));
        // I-X after O starts an entity.
        Assert.Equal([new Entity("LOC", 1, 3)], EntityMetrics.ExtractEntities(["O", "I-LOC", "I-LOC"]));
        // I-X at the very start.
        Assert.Equal([new Entity("ORG", 0, 1)], EntityMetrics.ExtractEntities(["I-ORG"]));
        // B-X I-Y: two entities, the type change splits them.
        Assert.Equal([new Entity("PER", 0, 1), new Entity("LOC", 1, 2)], EntityMetrics.ExtractEntities(["B-PER", "I-LOC"]));
        // B-X B-X: two adjacent entities of one type.
        Assert.Equal([new Entity("PER", 0, 1), new Entity("PER", 1, 3)], EntityMetrics.ExtractEntities(["B-PER", "B-PER", "I-PER"]));
        // An entity that runs to the end of the sentence.
        Assert.Equal([new Entity("MISC", 1, 3)], EntityMetrics.ExtractEntities(["O", "B-MISC", "I-MISC"]));
        // IOBES.
        Assert.Equal([new Entity("PER", 0, 2), new Entity("LOC", 2, 3)], EntityMetrics.ExtractEntities(["B-PER", "E-PER", "S-LOC"]));
        Assert.Empty(EntityMetrics.ExtractEntities(["O", "O"]));
        Assert.Throws<ArgumentException>(() => EntityMetrics.ExtractEntities(["PER"]));
    }

    [Fact]
    public void EntityScoresRequireTypeAndBothBoundaries()
    {
        // Sentence 1: gold PER[0,2) LOC[3,4); pred PER[0,2) (exact) LOC[3,4) via I-LOC after O (exact).
        // Sentence 2: gold ORG[0,3); pred ORG[0,2) (wrong end) → 0.
        // Sentence 3: gold PER[0,2); pred PER[0,1) + LOC[1,2) (B-PER I-LOC) → 0.
        // Sentence 4: gold MISC[2,4) at the end; pred MISC[2,4) → 1; pred extra PER[0,1) (spurious).
        string[][] gold =
        [
            ["B-PER", "I-PER", "O", "B-LOC"],
            ["B-ORG", "I-ORG", "I-ORG"],
            ["B-PER", "I-PER"],
            ["O", "O", "B-MISC", "I-MISC"],
        ];
        string[][] pred =
        [
            ["B-PER", "I-PER", "O", "I-LOC"],
            ["B-ORG", "I-ORG", "O"],
            ["B-PER", "I-LOC"],
            ["B-PER", "O", "B-MISC", "I-MISC"],
        ];
        var m = new EntityMetrics(pred, gold);
        Assert.Equal(3, m.TruePositives);       // PER s1, LOC s1, MISC s4
        Assert.Equal(7, m.PredictedCount);      // PER, LOC, ORG, PER, LOC, PER, MISC
        Assert.Equal(5, m.GoldCount);           // PER, LOC, ORG, PER, MISC
        Assert.Equal(3.0 / 7, m.Precision, 12);
        Assert.Equal(3.0 / 5, m.Recall, 12);
        Assert.Equal(2 * (3.0 / 7) * (3.0 / 5) / (3.0 / 7 + 3.0 / 5), m.F1, 12);
        var byType = m.PerType.ToDictionary(t => t.Name);
        Assert.Equal(["LOC", "MISC", "ORG", "PER"], m.PerType.Select(t => t.Name));
        Assert.Equal((0.5, 1.0, 1), (byType["LOC"].Precision, byType["LOC"].Recall, byType["LOC"].Support));
        Assert.Equal((1.0, 1.0), (byType["MISC"].Precision, byType["MISC"].Recall));
        Assert.Equal((0.0, 0.0, 0.0), (byType["ORG"].Precision, byType["ORG"].Recall, byType["ORG"].F1));
        Assert.Equal((1.0 / 3, 0.5, 2), (byType["PER"].Precision, byType["PER"].Recall, byType["PER"].Support));
    }

    [Fact]
    public void EmptyPredictionsGiveZeroWithoutDivisionByZero()
    {
        var m = new EntityMetrics([["O", "O", "O"]], [["B-PER", "I-PER", "O"]]);
        Assert.Equal((0.0, 0.0, 0.0), (m.Precision, m.Recall, m.F1));
        Assert.Equal(0, m.PredictedCount);
        Assert.False(double.IsNaN(m.MacroAverage.F1));
        var none = new EntityMetrics([["O"]], [["O"]]);
        Assert.Equal(0.0, none.F1);
        Assert.Empty(none.PerType);
        Assert.Contains("micro avg", none.ToString());
        Assert.Throws<ArgumentException>(() => new EntityMetrics([["O"]], [["O", "O"]]));
        Assert.Equal(1.0, new EntityMetrics([["B-PER"]], [["B-PER"]]).F1);
    }
}
