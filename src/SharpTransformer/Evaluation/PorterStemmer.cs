namespace SharpTransformer.Evaluation;

/// <summary>
/// The Porter stemmer as NLTK's <c>PorterStemmer()</c> in its default <c>NLTK_EXTENSIONS</c> mode, the stemmer Google's
/// <c>rouge_score</c> uses: Porter's five steps (1980) plus NLTK's departures: a table of irregular forms (skies → sky,
/// dying → die, news, innings, ...; looked up before lower-casing, as NLTK does), words of one or two letters left alone, <c>ies</c>/<c>ied</c> on four-letter words
/// → <c>ie</c>, y → i only after a consonant that is not the first letter, <c>bli</c> → <c>ble</c>, <c>alli</c> → <c>al</c>
/// tried first, <c>fulli</c> → <c>ful</c>, <c>logi</c> → <c>log</c>, and a two-letter vowel-consonant stem counting as
/// consonant-vowel-consonant. Input is lower-cased first.
/// </summary>
public static class PorterStemmer
{
    private static readonly Dictionary<string, string> Irregular = new(StringComparer.Ordinal)
    {
        ["sky"] = "sky", ["skies"] = "sky", ["dying"] = "die", ["lying"] = "lie", ["tying"] = "tie", ["news"] = "news",
        ["innings"] = "inning", ["inning"] = "inning", ["outings"] = "outing", ["outing"] = "outing",
        ["cannings"] = "canning", ["canning"] = "canning", ["howe"] = "howe", ["proceed"] = "proceed",
        ["exceed"] = "exceed", ["succeed"] = "succeed",
    };

    /// <summary>The stem of one word.</summary>
    public static string Stem(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        var w = word.ToLowerInvariant();
        if (Irregular.TryGetValue(word, out var irregular)) return irregular;   // as NLTK: the table is looked up before lower-casing
        if (w.Length <= 2) return w;
        w = Step1a(w);
        w = Step1b(w);
        w = Step1c(w);
        w = Step2(w);
        w = Step3(w);
        w = Step4(w);
        w = Step5a(w);
        return Step5b(w);
    }

    // A letter is a consonant unless it is a, e, i, o, u, or a y after a consonant.
    private static bool IsConsonant(string w, int i) => w[i] switch
    {
        'a' or 'e' or 'i' or 'o' or 'u' => false,
        'y' => i == 0 || !IsConsonant(w, i - 1),
        _ => true,
    };

    // m in [C](VC)^m[V]: the number of vowel-to-consonant transitions.
    private static int Measure(string s)
    {
        int m = 0;
        for (int i = 1; i < s.Length; i++)
            if (IsConsonant(s, i) && !IsConsonant(s, i - 1)) m++;
        return m;
    }

    private static bool ContainsVowel(string s)
    {
        for (int i = 0; i < s.Length; i++) if (!IsConsonant(s, i)) return true;
        return false;
    }

    private static bool EndsDoubleConsonant(string w) => w.Length >= 2 && w[^1] == w[^2] && IsConsonant(w, w.Length - 1);

    // *o: consonant-vowel-consonant, the last not w, x or y; NLTK also accepts a two-letter vowel-consonant word.
    private static bool EndsCvc(string w) =>
        (w.Length >= 3 && IsConsonant(w, w.Length - 3) && !IsConsonant(w, w.Length - 2) && IsConsonant(w, w.Length - 1) && w[^1] is not ('w' or 'x' or 'y'))
        || (w.Length == 2 && !IsConsonant(w, 0) && IsConsonant(w, 1));

    private readonly record struct Rule(string Suffix, string Replacement, Func<string, bool>? Condition);

    private static bool PositiveMeasure(string stem) => Measure(stem) > 0;

    private static bool MeasureAboveOne(string stem) => Measure(stem) > 1;

    // The first rule whose suffix matches decides: it applies when its condition holds on the stem, else the word stays.
    // The suffix "*d" matches a double consonant ending (both letters go).
    private static string ApplyFirst(string w, ReadOnlySpan<Rule> rules)
    {
        foreach (var r in rules)
        {
            string stem;
            if (r.Suffix == "*d") { if (!EndsDoubleConsonant(w)) continue; stem = w[..^2]; }
            else if (w.EndsWith(r.Suffix, StringComparison.Ordinal)) stem = w[..^r.Suffix.Length];
            else continue;
            return r.Condition is null || r.Condition(stem) ? stem + r.Replacement : w;
        }
        return w;
    }

    private static string Step1a(string w)
    {
        if (w.Length == 4 && w.EndsWith("ies", StringComparison.Ordinal)) return w[..^3] + "ie";
        return ApplyFirst(w, [new("sses", "ss", null), new("ies", "i", null), new("ss", "ss", null), new("s", "", null)]);
    }

    private static string Step1b(string w)
    {
        if (w.EndsWith("ied", StringComparison.Ordinal)) return w[..^3] + (w.Length == 4 ? "ie" : "i");
        if (w.EndsWith("eed", StringComparison.Ordinal)) return Measure(w[..^3]) > 0 ? w[..^3] + "ee" : w;
        string? stem = null;
        foreach (var suffix in (string[])["ed", "ing"])
            if (w.EndsWith(suffix, StringComparison.Ordinal) && ContainsVowel(w[..^suffix.Length])) { stem = w[..^suffix.Length]; break; }
        if (stem is null) return w;
        char last = stem.Length > 0 ? stem[^1] : '\0';
        return ApplyFirst(stem,
        [
            new("at", "ate", null), new("bl", "ble", null), new("iz", "ize", null),
            new("*d", last.ToString(), _ => last is not ('l' or 's' or 'z')),
            new("", "e", s => Measure(s) == 1 && EndsCvc(s)),
        ]);
    }

    // y → i after a consonant that is not the word's only other letter.
    private static string Step1c(string w) => ApplyFirst(w, [new("y", "i", s => s.Length > 1 && IsConsonant(s, s.Length - 1))]);

    private static string Step2(string w)
    {
        if (w.EndsWith("alli", StringComparison.Ordinal) && PositiveMeasure(w[..^4])) return Step2(w[..^4] + "al");
        return ApplyFirst(w,
        [
            new("ational", "ate", PositiveMeasure), new("tional", "tion", PositiveMeasure), new("enci", "ence", PositiveMeasure),
            new("anci", "ance", PositiveMeasure), new("izer", "ize", PositiveMeasure), new("bli", "ble", PositiveMeasure),
            new("alli", "al", PositiveMeasure), new("entli", "ent", PositiveMeasure), new("eli", "e", PositiveMeasure),
            new("ousli", "ous", PositiveMeasure), new("ization", "ize", PositiveMeasure), new("ation", "ate", PositiveMeasure),
            new("ator", "ate", PositiveMeasure), new("alism", "al", PositiveMeasure), new("iveness", "ive", PositiveMeasure),
            new("fulness", "ful", PositiveMeasure), new("ousness", "ous", PositiveMeasure), new("aliti", "al", PositiveMeasure),
            new("iviti", "ive", PositiveMeasure), new("biliti", "ble", PositiveMeasure), new("fulli", "ful", PositiveMeasure),
            new("logi", "log", _ => PositiveMeasure(w[..^3])),   // the 'l' stays with the stem: geology, theology
        ]);
    }

    private static string Step3(string w) => ApplyFirst(w,
    [
        new("icate", "ic", PositiveMeasure), new("ative", "", PositiveMeasure), new("alize", "al", PositiveMeasure),
        new("iciti", "ic", PositiveMeasure), new("ical", "ic", PositiveMeasure), new("ful", "", PositiveMeasure),
        new("ness", "", PositiveMeasure),
    ]);

    private static string Step4(string w) => ApplyFirst(w,
    [
        new("al", "", MeasureAboveOne), new("ance", "", MeasureAboveOne), new("ence", "", MeasureAboveOne),
        new("er", "", MeasureAboveOne), new("ic", "", MeasureAboveOne), new("able", "", MeasureAboveOne),
        new("ible", "", MeasureAboveOne), new("ant", "", MeasureAboveOne), new("ement", "", MeasureAboveOne),
        new("ment", "", MeasureAboveOne), new("ent", "", MeasureAboveOne),
        new("ion", "", s => MeasureAboveOne(s) && s[^1] is 's' or 't'),
        new("ou", "", MeasureAboveOne), new("ism", "", MeasureAboveOne), new("ate", "", MeasureAboveOne),
        new("iti", "", MeasureAboveOne), new("ous", "", MeasureAboveOne), new("ive", "", MeasureAboveOne),
        new("ize", "", MeasureAboveOne),
    ]);

    private static string Step5a(string w)
    {
        if (!w.EndsWith('e')) return w;
        var stem = w[..^1];
        int m = Measure(stem);
        return m > 1 || (m == 1 && !EndsCvc(stem)) ? stem : w;
    }

    private static string Step5b(string w) => ApplyFirst(w, [new("ll", "l", _ => Measure(w[..^1]) > 1)]);
}
