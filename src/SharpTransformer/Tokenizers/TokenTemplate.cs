namespace SharpTransformer.Tokenizers;

/// <summary>What a template piece stands for.</summary>
internal enum TemplatePieceKind
{
    /// <summary>The tokens of the first text.</summary>
    First,
    /// <summary>The tokens of the second text.</summary>
    Second,
    /// <summary>One special token.</summary>
    Special,
}

/// <summary>One piece of a <see cref="TokenTemplate"/>.</summary>
internal readonly record struct TemplatePiece(TemplatePieceKind Kind, int TypeId, int TokenId = -1);

/// <summary>
/// Where special tokens go around one text and around a pair, with token type ids: Hugging Face's post-processor
/// (TemplateProcessing, BertProcessing, RobertaProcessing).
/// </summary>
internal sealed record TokenTemplate(TemplatePiece[] Single, TemplatePiece[] Pair)
{
    /// <summary>No special tokens; a pair is the two texts with type ids 0 and 1 (GPT-2).</summary>
    public static TokenTemplate Plain { get; } = new(
        [new(TemplatePieceKind.First, 0)],
        [new(TemplatePieceKind.First, 0), new(TemplatePieceKind.Second, 1)]);

    /// <summary>BERT: <c>[CLS] A [SEP]</c> and <c>[CLS] A [SEP] B [SEP]</c>, type ids 0 up to the first SEP, 1 after.</summary>
    public static TokenTemplate Bert(int cls, int sep) => new(
        [new(TemplatePieceKind.Special, 0, cls), new(TemplatePieceKind.First, 0), new(TemplatePieceKind.Special, 0, sep)],
        [new(TemplatePieceKind.Special, 0, cls), new(TemplatePieceKind.First, 0), new(TemplatePieceKind.Special, 0, sep),
         new(TemplatePieceKind.Second, 1), new(TemplatePieceKind.Special, 1, sep)]);

    /// <summary>RoBERTa: <c>&lt;s&gt; A &lt;/s&gt;</c> and <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c>, all type ids 0.</summary>
    public static TokenTemplate Roberta(int bos, int eos) => new(
        [new(TemplatePieceKind.Special, 0, bos), new(TemplatePieceKind.First, 0), new(TemplatePieceKind.Special, 0, eos)],
        [new(TemplatePieceKind.Special, 0, bos), new(TemplatePieceKind.First, 0), new(TemplatePieceKind.Special, 0, eos),
         new(TemplatePieceKind.Special, 0, eos), new(TemplatePieceKind.Second, 0), new(TemplatePieceKind.Special, 0, eos)]);

    /// <summary>Number of special tokens the template adds around one text or a pair.</summary>
    public int AddedCount(bool pair)
    {
        int n = 0;
        foreach (var p in pair ? Pair : Single) if (p.Kind == TemplatePieceKind.Special) n++;
        return n;
    }
}
