namespace SharpTransformer.Data;

/// <summary>What a record reader does with an empty (or whitespace-only) line.</summary>
public enum EmptyLinePolicy
{
    /// <summary>
    /// Skip it, count it in the reader's <c>SkippedEmptyLines</c> and report it to <see cref="DataReaderOptions.OnWarning"/>.
    /// The default, as in Hugging Face <c>datasets</c>, whose CSV loader (pandas, <c>skip_blank_lines=True</c>) and
    /// JSON-lines loader both pass over blank lines.
    /// </summary>
    Skip,

    /// <summary>Throw a <see cref="DataFormatException"/> naming the file and line.</summary>
    Throw,
}
