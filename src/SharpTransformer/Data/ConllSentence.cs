namespace SharpTransformer.Data;

/// <summary>One sentence of a CoNLL file: its words and their tags (the last column).</summary>
/// <param name="Words">The words (first column).</param>
/// <param name="Tags">The tags (last column), one per word.</param>
/// <param name="FileName">The file it was read from.</param>
/// <param name="LineNumber">The 1-based line of its first word.</param>
public sealed record ConllSentence(string[] Words, string[] Tags, string FileName, int LineNumber)
{
    /// <summary>Number of words.</summary>
    public int Length => Words.Length;
}
