namespace SharpTransformer.Tokenizers;

/// <summary>
/// Turns text into token ids and back. Implementations are immutable and thread-safe.
/// </summary>
public interface ITokenizer
{
    /// <summary>Number of ids, added and special tokens included: every id is in [0, VocabSize).</summary>
    int VocabSize { get; }

    /// <summary>The special tokens by role, as token text.</summary>
    SpecialTokens SpecialTokens { get; }

    /// <summary>Encodes a text to ids, adding the model's special tokens (BERT: <c>[CLS] … [SEP]</c>; GPT-2: none).</summary>
    int[] Encode(string text);

    /// <summary>Encodes a text with offsets, masks and the given options.</summary>
    TokenEncoding Encode(string text, EncodeOptions? options);

    /// <summary>Encodes a sentence pair (BERT: <c>[CLS] a [SEP] b [SEP]</c> with token type ids 0 then 1).</summary>
    TokenEncoding EncodePair(string first, string second, EncodeOptions? options = null);

    /// <summary>Encodes many texts; padding, if asked for, makes them one length.</summary>
    BatchEncoding EncodeBatch(IReadOnlyList<string> texts, EncodeOptions? options = null);

    /// <summary>Encodes many sentence pairs; padding, if asked for, makes them one length.</summary>
    BatchEncoding EncodeBatch(IReadOnlyList<(string First, string Second)> pairs, EncodeOptions? options = null);

    /// <summary>Turns ids back into text.</summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="skipSpecialTokens">Leave out special tokens (CLS, SEP, PAD, end of text, …).</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary; the message names it.</exception>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false);

    /// <summary>The id of a token (vocabulary entry, not text to encode), or null when it is not in the vocabulary.</summary>
    int? TokenToId(string token);

    /// <summary>The vocabulary entry of an id, or null when the id is out of range.</summary>
    string? IdToToken(int id);
}
