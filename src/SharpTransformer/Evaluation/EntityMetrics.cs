namespace SharpTransformer.Evaluation;

/// <summary>
/// Entity-level precision, recall and F1 of tag sequences in BIO/IOB2 (also IOBES), with the semantics of seqeval's
/// default mode, which is that of the CoNLL <c>conlleval</c> script: an entity is a maximal run that starts at B-X, or at
/// I-X after O or after a tag of another type, and continues over I-X tags of the same type. A predicted entity counts
/// as correct only when its type and both boundaries equal a gold entity's. Sentences are scored separately, so no
/// entity crosses a sentence boundary. Undefined ratios (no predicted or no gold entities) are 0, never NaN.
/// </summary>
public sealed class EntityMetrics
{
    /// <summary>Scores predicted tag sequences against gold ones, sentence by sentence.</summary>
    /// <param name="predicted">Predicted tags per sentence.</param>
    /// <param name="gold">Gold tags per sentence; each as long as its prediction.</param>
    /// <exception cref="ArgumentException">Different numbers of sentences or tags, or a tag that is not O, B-X, I-X, E-X or S-X.</exception>
    public EntityMetrics(IReadOnlyList<IReadOnlyList<string>> predicted, IReadOnlyList<IReadOnlyList<string>> gold)
    {
        if (predicted.Count != gold.Count)
            throw new ArgumentException($"EntityMetrics: {predicted.Count} predicted sentences for {gold.Count} gold sentences.");
        var tp = new Dictionary<string, int>(StringComparer.Ordinal);
        var np = new Dictionary<string, int>(StringComparer.Ordinal);
        var ng = new Dictionary<string, int>(StringComparer.Ordinal);
        static void Inc(Dictionary<string, int> d, string k) => d[k] = d.GetValueOrDefault(k) + 1;
        for (int s = 0; s < gold.Count; s++)
        {
            if (predicted[s].Count != gold[s].Count)
                throw new ArgumentException($"EntityMetrics: sentence {s} has {predicted[s].Count} predicted tags for {gold[s].Count} gold tags.");
            var g = new HashSet<Entity>(ExtractEntities(gold[s]));
            foreach (var e in g) Inc(ng, e.Type);
            foreach (var e in ExtractEntities(predicted[s]))
            {
                Inc(np, e.Type);
                if (g.Contains(e)) Inc(tp, e.Type);
            }
        }
        TruePositives = tp.Values.Sum();
        PredictedCount = np.Values.Sum();
        GoldCount = ng.Values.Sum();
        Micro = ClassMetrics.FromCounts("micro avg", TruePositives, PredictedCount, GoldCount);
        PerType = np.Keys.Union(ng.Keys).Order(StringComparer.Ordinal)
            .Select(t => ClassMetrics.FromCounts(t, tp.GetValueOrDefault(t), np.GetValueOrDefault(t), ng.GetValueOrDefault(t)))
            .ToArray();
        (MacroAverage, WeightedAverage) = ClassMetrics.Averages(PerType);
    }

    /// <summary>Correctly predicted entities.</summary>
    public int TruePositives { get; }

    /// <summary>Predicted entities.</summary>
    public int PredictedCount { get; }

    /// <summary>Gold entities.</summary>
    public int GoldCount { get; }

    /// <summary>Overall precision over all entities.</summary>
    public double Precision => Micro.Precision;

    /// <summary>Overall recall over all entities.</summary>
    public double Recall => Micro.Recall;

    /// <summary>Overall (micro) F1, the number CoNLL papers report.</summary>
    public double F1 => Micro.F1;

    /// <summary>Micro-averaged scores (support: gold entities).</summary>
    public ClassMetrics Micro { get; }

    /// <summary>Scores per entity type, sorted by type name; types seen only in predictions have support 0.</summary>
    public IReadOnlyList<ClassMetrics> PerType { get; }

    /// <summary>Unweighted mean over types.</summary>
    public ClassMetrics MacroAverage { get; }

    /// <summary>Mean over types weighted by gold support.</summary>
    public ClassMetrics WeightedAverage { get; }

    /// <summary>A report laid out like seqeval's <c>classification_report</c>.</summary>
    public string ToString(int digits) => MetricsReport.Format(PerType, [Micro, MacroAverage, WeightedAverage], null, digits);

    /// <summary>A report laid out like seqeval's <c>classification_report</c>, two decimals.</summary>
    public override string ToString() => ToString(2);

    /// <summary>
    /// The entities of one tag sequence, in order, by the conlleval rules (seqeval's <c>get_entities</c>).
    /// </summary>
    /// <exception cref="ArgumentException">A tag that is not O, B-X, I-X, E-X or S-X.</exception>
    public static List<Entity> ExtractEntities(IReadOnlyList<string> tags)
    {
        var entities = new List<Entity>();
        char prevTag = 'O';
        string prevType = "";
        int begin = 0;
        for (int i = 0; i <= tags.Count; i++)
        {
            var (tag, type) = i < tags.Count ? Parse(tags[i], i) : ('O', "_");
            if (EndOfChunk(prevTag, tag, prevType, type)) entities.Add(new Entity(prevType, begin, i));
            if (StartOfChunk(prevTag, tag, prevType, type)) begin = i;
            prevTag = tag;
            prevType = type;
        }
        return entities;
    }

    private static (char Tag, string Type) Parse(string tag, int index)
    {
        if (tag == "O") return ('O', "_");
        if (tag.Length >= 1 && tag[0] is 'B' or 'I' or 'E' or 'S' && (tag.Length == 1 || tag[1] == '-'))
            return (tag[0], tag.Length > 2 ? tag[2..] : "_");
        throw new ArgumentException($"EntityMetrics: tag '{tag}' at position {index} is not O, B-X, I-X, E-X or S-X.");
    }

    private static bool EndOfChunk(char prevTag, char tag, string prevType, string type) =>
        prevTag is 'E' or 'S'
        || (prevTag is 'B' or 'I' && tag is 'B' or 'S' or 'O')
        || (prevTag != 'O' && prevType != type);

    private static bool StartOfChunk(char prevTag, char tag, string prevType, string type) =>
        tag is 'B' or 'S'
        || (prevTag is 'E' or 'S' or 'O' && tag is 'E' or 'I')
        || (tag != 'O' && prevType != type);
}
