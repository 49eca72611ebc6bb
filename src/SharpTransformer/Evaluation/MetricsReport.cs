using System.Globalization;
using System.Text;

namespace SharpTransformer.Evaluation;

// Lays rows out as scikit-learn's classification_report (and seqeval's, which copies it): the name right-aligned to
// the widest name (at least "weighted avg"), then 10-character columns.
internal static class MetricsReport
{
    public static string Format(IReadOnlyList<ClassMetrics> rows, IReadOnlyList<ClassMetrics> averages, (string Name, double Value, int Support)? accuracy, int digits = 2)
    {
        int width = Math.Max("weighted avg".Length, rows.Select(r => r.Name.Length).DefaultIfEmpty(0).Max());
        width = Math.Max(width, digits);
        var sb = new StringBuilder();
        string Col(string s) => " " + s.PadLeft(9);
        string Num(double v) => Col(v.ToString("F" + digits, CultureInfo.InvariantCulture));
        string Sup(int n) => Col(n.ToString(CultureInfo.InvariantCulture));
        void Row(ClassMetrics r) => sb.Append(r.Name.PadLeft(width)).Append(' ').Append(Num(r.Precision)).Append(Num(r.Recall)).Append(Num(r.F1)).Append(Sup(r.Support)).Append('\n');

        sb.Append(new string(' ', width)).Append(' ').Append(Col("precision")).Append(Col("recall")).Append(Col("f1-score")).Append(Col("support")).Append("\n\n");
        foreach (var r in rows) Row(r);
        sb.Append('\n');
        if (accuracy is { } a)
            sb.Append(a.Name.PadLeft(width)).Append(' ').Append(Col("")).Append(Col("")).Append(Num(a.Value)).Append(Sup(a.Support)).Append('\n');
        foreach (var r in averages) Row(r);
        return sb.ToString();
    }
}
