using System.Runtime.InteropServices;

namespace SharpTransformer.Tokenizers;

/// <summary>
/// Learns a WordPiece vocabulary the way Hugging Face's <c>WordPieceTrainer</c> does: BPE merges over the words of BERT's
/// basic tokenizer, where every character but a word's first carries the <c>##</c> prefix, and the vocabulary is the
/// special tokens, the characters, and the merged pieces. Pair counts are updated incrementally (<see cref="PairMergeTrainer"/>).
/// </summary>
public static class WordPieceTrainer
{
    private const string Prefix = "##";

    /// <summary>Trains on texts.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The vocabulary size cannot hold the special tokens.</exception>
    public static WordPieceTokenizer Train(IEnumerable<string> texts, WordPieceTrainerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(options);
        var specials = options.SpecialTokens.Distinct().ToList();
        if (!specials.Contains("[UNK]")) specials.Insert(Math.Min(1, specials.Count), "[UNK]");
        if (options.VocabSize < specials.Count)
            throw new ArgumentOutOfRangeException(nameof(options), options.VocabSize, $"VocabSize must be at least the {specials.Count} special tokens.");

        var counter = new WordCounter();
        foreach (var text in texts)
        {
            cancellationToken.ThrowIfCancellationRequested();
            BertPreTokenizer.Scan(text, 0, options.Normalization, track: false, counter);
        }

        // Alphabet: every code point, most frequent first when limited, then sorted.
        var charCounts = new Dictionary<int, long>();
        foreach (var (word, count) in counter.Counts)
            foreach (var r in word.EnumerateRunes())
                CollectionsMarshal.GetValueRefOrAddDefault(charCounts, r.Value, out _) += count;
        var alphabet = charCounts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key)
            .Take(options.LimitAlphabet ?? int.MaxValue).Select(kv => kv.Key).Order().ToList();

        var tokens = new List<string>(specials);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) ids[tokens[i]] = i;
        int Intern(string t)
        {
            if (ids.TryGetValue(t, out int id)) return id;
            tokens.Add(t);
            ids[t] = tokens.Count - 1;
            return tokens.Count - 1;
        }
        var allowed = new HashSet<int>(alphabet);
        foreach (int cp in alphabet) Intern(char.ConvertFromUtf32(cp));
        // Continuation forms of the characters that occur inside words, in code point order.
        var inner = new SortedSet<int>();
        foreach (var word in counter.Counts.Keys)
        {
            bool first = true;
            foreach (var r in word.EnumerateRunes())
            {
                if (!first && allowed.Contains(r.Value)) inner.Add(r.Value);
                first = false;
            }
        }
        foreach (int cp in inner) Intern(Prefix + char.ConvertFromUtf32(cp));

        var words = new List<int[]>(counter.Counts.Count);
        var counts = new List<long>(counter.Counts.Count);
        foreach (var (word, count) in counter.Counts)
        {
            var sym = new List<int>(word.Length);
            bool first = true, ok = true;
            foreach (var r in word.EnumerateRunes())
            {
                if (!allowed.Contains(r.Value)) { ok = false; break; }
                sym.Add(ids[first ? r.ToString() : Prefix + r.ToString()]);
                first = false;
            }
            if (!ok) continue; // a word with a character outside the alphabet can only be [UNK]
            words.Add(sym.ToArray());
            counts.Add(count);
        }

        var trainer = new PairMergeTrainer(words.ToArray(), counts.ToArray());
        trainer.Run((a, b) =>
        {
            if (tokens.Count >= options.VocabSize) return -1;
            string right = tokens[b].StartsWith(Prefix, StringComparison.Ordinal) ? tokens[b][Prefix.Length..] : tokens[b];
            return Intern(tokens[a] + right);
        }, Math.Max(1, options.MinFrequency), cancellationToken);

        var special = new SpecialTokens(
            Pad: specials.Contains("[PAD]") ? "[PAD]" : null,
            Cls: specials.Contains("[CLS]") ? "[CLS]" : null,
            Sep: specials.Contains("[SEP]") ? "[SEP]" : null,
            Mask: specials.Contains("[MASK]") ? "[MASK]" : null,
            Unk: "[UNK]");
        return WordPieceTokenizer.FromVocabulary(tokens, options.Normalization, special);
    }

    private sealed class WordCounter : IBertWordSink
    {
        public Dictionary<string, long> Counts { get; } = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _lookup;

        public WordCounter() => _lookup = Counts.GetAlternateLookup<ReadOnlySpan<char>>();

        public void Word(ReadOnlySpan<char> word, ReadOnlySpan<int> starts, ReadOnlySpan<int> ends) =>
            CollectionsMarshal.GetValueRefOrAddDefault(_lookup, word, out _)++;
    }
}
