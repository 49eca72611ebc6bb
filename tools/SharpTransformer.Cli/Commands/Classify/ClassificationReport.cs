namespace SharpTransformer.Cli.Commands.Classify;

/// <summary>Temporary per-class report until the library's metrics land.</summary>
internal static class ClassificationReport
{
    public static string Format(int[] gold, int[] pred, string[] labels) => $"{labels.Length} labels";
}
