namespace SharpTransformer.Data;

/// <summary>Options shared by the record readers (delimited, JSON lines, CoNLL).</summary>
public sealed record DataReaderOptions
{
    /// <summary>The defaults: skip empty lines, no warning callback.</summary>
    public static DataReaderOptions Default { get; } = new();

    /// <summary>What to do with an empty line; <see cref="EmptyLinePolicy.Skip"/> by default.</summary>
    public EmptyLinePolicy EmptyLines { get; init; } = EmptyLinePolicy.Skip;

    /// <summary>Called for each recoverable problem (for example each skipped empty line); null to ignore them.</summary>
    public Action<DataWarning>? OnWarning { get; init; }
}
