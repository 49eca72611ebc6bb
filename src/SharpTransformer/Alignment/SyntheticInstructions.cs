using System.Text;

namespace SharpTransformer.Alignment;

/// <summary>
/// A generator of synthetic instruction data with checkable answers, for proving that instruction tuning, DPO and GRPO learn
/// without a pretrained model: reverse a word of 3–8 letters, upper-case a phrase, add two numbers below 100, sort 3–6
/// letters, repeat a word 2–4 times (<see cref="SyntheticTaskKind"/>). Words are random lower-case letters. Each instance
/// carries a wrong "rejected" answer of the kind a model gets wrong (the input unchanged, two letters swapped, a sum off by a
/// little, one repetition too many or too few). The same seed gives the same sequence of instances.
/// </summary>
public sealed class SyntheticInstructions
{
    private readonly Random _rng;

    /// <summary>Creates a generator; the same <paramref name="seed"/> gives the same instances.</summary>
    public SyntheticInstructions(int seed) => _rng = new Random(seed);

    /// <summary>The next instance, of a task type drawn uniformly.</summary>
    public SyntheticInstance Next() => Next((SyntheticTaskKind)_rng.Next(5));

    /// <summary>The next instance of task type <paramref name="kind"/>.</summary>
    public SyntheticInstance Next(SyntheticTaskKind kind)
    {
        switch (kind)
        {
            case SyntheticTaskKind.Reverse:
                {
                    string w = Word(3, 8);
                    string answer = Reversed(w);
                    string wrong = _rng.Next(2) == 0 && w != answer ? w : SwapTwo(answer);
                    return Make(kind, "Reverse the word.", w, answer, wrong);
                }
            case SyntheticTaskKind.Uppercase:
                {
                    int n = _rng.Next(2, 4);
                    string phrase = string.Join(' ', Enumerable.Range(0, n).Select(_ => Word(2, 6)));
                    string answer = phrase.ToUpperInvariant();
                    var words = answer.Split(' ');
                    int keep = _rng.Next(n);   // one word left in lower case
                    words[keep] = words[keep].ToLowerInvariant();
                    string wrong = _rng.Next(2) == 0 ? phrase : string.Join(' ', words);
                    return Make(kind, "Write the phrase in capitals.", phrase, answer, wrong);
                }
            case SyntheticTaskKind.Add:
                {
                    int a = _rng.Next(100), b = _rng.Next(100), sum = a + b;
                    int[] deltas = [1, -1, 2, -2, 10, -10];
                    int wrong = sum + deltas[_rng.Next(deltas.Length)];
                    if (wrong < 0) wrong = sum + 1;
                    return Make(kind, "Add the numbers.", $"{a} + {b}", sum.ToString(), wrong.ToString());
                }
            case SyntheticTaskKind.Sort:
                {
                    string letters = Word(3, 6);
                    string answer = new(letters.Order().ToArray());
                    string wrong = _rng.Next(2) == 0 && letters != answer ? letters : SwapTwo(answer);
                    return Make(kind, "Sort the letters.", letters, answer, wrong);
                }
            case SyntheticTaskKind.Repeat:
                {
                    string w = Word(3, 8);
                    int times = _rng.Next(2, 5);
                    int wrongTimes = times == 2 ? 3 : times == 4 ? 3 : times + (_rng.Next(2) == 0 ? -1 : 1);
                    return Make(kind, $"Repeat the word {times} times.", w, Repeat(w, times), Repeat(w, wrongTimes));
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "SyntheticInstructions: unknown task type.");
        }
    }

    /// <summary>
    /// <paramref name="count"/> instances from a generator seeded with <paramref name="seed"/>, leaving out those whose prompt
    /// (instruction and input) is in <paramref name="exclude"/> and repeats within the list when <paramref name="distinct"/>.
    /// </summary>
    public static IReadOnlyList<SyntheticInstance> Generate(int count, int seed, IReadOnlySet<string>? exclude = null, bool distinct = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var g = new SyntheticInstructions(seed);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<SyntheticInstance>(count);
        while (list.Count < count)
        {
            var s = g.Next();
            string key = Key(s.Record);
            if (exclude is not null && exclude.Contains(key)) continue;
            if (distinct && !seen.Add(key)) continue;
            list.Add(s);
        }
        return list;
    }

    /// <summary>The identity of an instance's prompt: its instruction and input.</summary>
    public static string Key(InstructionRecord record) => record.Instruction + "\u0000" + record.Input;

    /// <summary>Every character the instances can contain (letters of both cases, digits, space, '+', '.'), for a character vocabulary.</summary>
    public static string Alphabet => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +.";

    private static SyntheticInstance Make(SyntheticTaskKind kind, string instruction, string input, string answer, string wrong)
    {
        if (wrong == answer) throw new InvalidOperationException($"SyntheticInstructions: the wrong answer of a {kind} instance equals the right one ('{answer}').");
        return new SyntheticInstance(kind, new InstructionRecord(instruction, input, answer), wrong);
    }

    private string Word(int min, int max)
    {
        int n = _rng.Next(min, max + 1);
        var sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) sb.Append((char)('a' + _rng.Next(26)));
        return sb.ToString();
    }

    private static string Reversed(string s)
    {
        var c = s.ToCharArray();
        Array.Reverse(c);
        return new string(c);
    }

    // Two neighbouring letters that differ swapped; a letter changed when all are equal.
    private string SwapTwo(string s)
    {
        var c = s.ToCharArray();
        var spots = Enumerable.Range(0, c.Length - 1).Where(i => c[i] != c[i + 1]).ToArray();
        if (spots.Length == 0)
        {
            c[0] = c[0] == 'z' ? 'y' : (char)(c[0] + 1);
            return new string(c);
        }
        int k = spots[_rng.Next(spots.Length)];
        (c[k], c[k + 1]) = (c[k + 1], c[k]);
        return new string(c);
    }

    private static string Repeat(string w, int times) => string.Join(' ', Enumerable.Repeat(w, times));
}
