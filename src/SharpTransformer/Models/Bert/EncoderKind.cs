namespace SharpTransformer.Models.Bert;

/// <summary>The family of a bidirectional encoder: what its embeddings hold and how its checkpoints name tensors.</summary>
public enum EncoderKind
{
    /// <summary>BERT: word + position + token-type embeddings, pooler; names under <c>bert.</c>.</summary>
    Bert,
    /// <summary>DistilBERT: word + position embeddings, no segments, no pooler; names under <c>distilbert.</c>.</summary>
    DistilBert,
    /// <summary>
    /// RoBERTa: BERT's layout under <c>roberta.</c>, with positions counted past the padding id
    /// (position = padding id + running count of non-padding tokens; padding tokens get the padding id).
    /// </summary>
    Roberta,
}
