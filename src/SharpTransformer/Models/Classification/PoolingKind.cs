namespace SharpTransformer.Models.Classification;

/// <summary>How a sequence classifier turns hidden states (B, T, C) into one vector per sequence.</summary>
public enum PoolingKind
{
    /// <summary>The hidden state of the first token ([CLS] / &lt;s&gt;).</summary>
    Cls,
    /// <summary>The encoder's own pooler output (BERT: dense + tanh over [CLS]).</summary>
    Pooler,
    /// <summary>The mean over non-padding tokens.</summary>
    Mean,
    /// <summary>The hidden state of the last non-padding token (decoders, as GPT2ForSequenceClassification).</summary>
    LastToken,
}
