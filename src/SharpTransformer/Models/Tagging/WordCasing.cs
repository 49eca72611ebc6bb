namespace SharpTransformer.Models.Tagging;

/// <summary>A small categorical feature of a word's shape, lost by lower-casing.</summary>
public static class WordCasing
{
    /// <summary>Number of categories.</summary>
    public const int Count = 6;

    /// <summary>0 lower, 1 all upper, 2 capitalised, 3 mixed, 4 numeric, 5 other (punctuation, symbols).</summary>
    public static int Of(string word)
    {
        if (word.Length == 0) return 5;
        bool anyLetter = false, anyDigit = false, anyUpper = false, anyLower = false;
        foreach (char c in word)
        {
            if (char.IsLetter(c)) { anyLetter = true; if (char.IsUpper(c)) anyUpper = true; else anyLower = true; }
            else if (char.IsDigit(c)) anyDigit = true;
        }
        if (!anyLetter) return anyDigit ? 4 : 5;
        if (!anyUpper) return 0;
        if (!anyLower) return 1;
        if (char.IsUpper(word[0]) && word.Skip(1).All(c => !char.IsUpper(c))) return 2;
        return 3;
    }
}
