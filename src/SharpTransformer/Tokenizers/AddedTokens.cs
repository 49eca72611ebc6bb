using System.Buffers;

namespace SharpTransformer.Tokenizers;

/// <summary>A token matched in the text before the model sees it: special tokens, and Hugging Face's added tokens.</summary>
/// <param name="Content">The text that is replaced by the token.</param>
/// <param name="Id">Its id.</param>
/// <param name="Special">Special tokens are matched only when the caller allows special tokens in the text; other added tokens always.</param>
internal readonly record struct AddedToken(string Content, int Id, bool Special);

/// <summary>Finds added tokens in text, leftmost first and longest on a tie, as Hugging Face's added vocabulary does.</summary>
internal sealed class AddedTokens
{
    private readonly Dictionary<char, AddedToken[]> _byFirstChar;
    private readonly SearchValues<char> _firstAll;
    private readonly SearchValues<char> _firstNonSpecial;

    public AddedTokens(IEnumerable<AddedToken> tokens)
    {
        All = tokens.Where(t => t.Content.Length > 0).DistinctBy(t => t.Content).ToArray();
        _byFirstChar = All.GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
        _firstAll = SearchValues.Create(All.Select(t => t.Content[0]).Distinct().ToArray());
        _firstNonSpecial = SearchValues.Create(All.Where(t => !t.Special).Select(t => t.Content[0]).Distinct().ToArray());
        HasNonSpecial = All.Any(t => !t.Special);
    }

    public AddedToken[] All { get; }

    public bool HasNonSpecial { get; }

    /// <summary>Whether any token can match under this setting (if not, the whole text goes to the model).</summary>
    public bool Active(bool allowSpecial) => allowSpecial ? All.Length > 0 : HasNonSpecial;

    /// <summary>Index of the next added token at or after <paramref name="from"/>, or -1.</summary>
    public int FindNext(ReadOnlySpan<char> text, int from, bool allowSpecial, out AddedToken token)
    {
        var first = allowSpecial ? _firstAll : _firstNonSpecial;
        int i = from;
        while (i < text.Length)
        {
            int k = text[i..].IndexOfAny(first);
            if (k < 0) break;
            i += k;
            foreach (var t in _byFirstChar[text[i]])
            {
                if ((allowSpecial || !t.Special) && text[i..].StartsWith(t.Content, StringComparison.Ordinal))
                {
                    token = t;
                    return i;
                }
            }
            i++;
        }
        token = default;
        return -1;
    }
}
