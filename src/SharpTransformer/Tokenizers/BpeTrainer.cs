using System.Runtime.InteropServices;

namespace SharpTransformer.Tokenizers;

/// <summary>
/// Learns a GPT-2-style byte-level BPE vocabulary from a corpus: GPT-2 pre-tokenization, the 256 byte tokens (in GPT-2's
/// order, so ids 0 to 255 are GPT-2's), then merges of the most frequent adjacent pair until the vocabulary is full.
/// Pair counts are updated incrementally and the next pair comes from a priority queue (<see cref="PairMergeTrainer"/>).
/// Save the result with <see cref="ByteLevelBpeTokenizer.Save"/> as Hugging Face's <c>vocab.json</c> + <c>merges.txt</c>.
/// </summary>
public static class BpeTrainer
{
    /// <summary>Trains on texts (each is pre-tokenized on its own, so pass whole documents or lines with their newlines).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The vocabulary size cannot hold the 256 byte tokens and the special tokens.</exception>
    public static ByteLevelBpeTokenizer Train(IEnumerable<string> texts, BpeTrainerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(options);
        var specials = options.SpecialTokens.Distinct().ToArray();
        if (options.VocabSize < 256 + specials.Length)
            throw new ArgumentOutOfRangeException(nameof(options), options.VocabSize, $"VocabSize must be at least 256 + {specials.Length} special tokens.");

        // Distinct pre-tokenized pieces and their counts.
        var pieceCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        var lookup = pieceCounts.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var text in texts)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var s = options.Lowercase ? text.ToLowerInvariant() : text;
            for (int i = 0; i < s.Length;)
            {
                int j = Gpt2PreTokenizer.NextPiece(s, i);
                CollectionsMarshal.GetValueRefOrAddDefault(lookup, s.AsSpan(i, j - i), out _)++;
                i = j;
            }
        }

        // Symbols: ids 0..255 are the bytes in GPT-2's order.
        var order = ByteLevel.Gpt2ByteOrder();
        var byteId = new int[256];
        var tokens = new List<string>(options.VocabSize);
        for (int i = 0; i < 256; i++) { byteId[order[i]] = i; tokens.Add(ByteLevel.ByteToChar(order[i]).ToString()); }
        var tokenIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) tokenIds[tokens[i]] = i;

        var words = new int[pieceCounts.Count][];
        var counts = new long[pieceCounts.Count];
        int w = 0;
        Span<byte> buf = stackalloc byte[256];
        foreach (var (piece, count) in pieceCounts)
        {
            var bytes = piece.Length * 3 <= buf.Length ? buf : new byte[piece.Length * 3];
            int n = BpeModel.Utf8(piece, bytes);
            var sym = new int[n];
            for (int k = 0; k < n; k++) sym[k] = byteId[bytes[k]];
            words[w] = sym;
            counts[w++] = count;
        }

        int maxTokens = options.VocabSize - specials.Length;
        var merges = new List<(string A, string B, int Line)>();
        var trainer = new PairMergeTrainer(words, counts);
        trainer.Run((a, b) =>
        {
            if (tokens.Count >= maxTokens) return -1;
            var merged = tokens[a] + tokens[b];
            merges.Add((tokens[a], tokens[b], merges.Count + 2));
            if (tokenIds.TryGetValue(merged, out int existing)) return existing;
            tokens.Add(merged);
            tokenIds[merged] = tokens.Count - 1;
            return tokens.Count - 1;
        }, Math.Max(1, options.MinFrequency), cancellationToken);

        foreach (var s in specials)
            if (tokenIds.TryAdd(s, tokens.Count)) tokens.Add(s);
        var roles = specials.Contains(SpecialTokens.EndOfText) ? SpecialTokens.Gpt2 : SpecialTokens.None;
        return ByteLevelBpeTokenizer.FromVocabulary(tokenIds, merges, "the trained merges", roles, options.Lowercase);
    }
}
