namespace SharpTransformer.Tokenizers;

/// <summary>A vocabulary, merges or tokenizer file is corrupt. The message names the file and the line or key.</summary>
public sealed class VocabularyFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file.</param>
    /// <param name="line">1-based line number of the problem, when known.</param>
    /// <param name="key">The JSON key or token at fault, when known.</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="inner">The parser's own exception, if any.</param>
    public VocabularyFormatException(string path, int? line, string? key, string problem, Exception? inner = null)
        : base(Describe(path, line, key, problem), inner)
    {
        FilePath = path;
        Line = line;
        Key = key;
    }

    /// <summary>The file at fault.</summary>
    public string FilePath { get; }

    /// <summary>1-based line number, when known.</summary>
    public int? Line { get; }

    /// <summary>The key or token at fault, when known.</summary>
    public string? Key { get; }

    private static string Describe(string path, int? line, string? key, string problem)
    {
        var where = path;
        if (line is int l) where += $", line {l}";
        if (key is not null) where += $", key '{key}'";
        return $"{where}: {problem}";
    }
}
