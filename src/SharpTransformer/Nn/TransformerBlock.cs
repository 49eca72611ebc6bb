using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>Normalisation used in a block.</summary>
public enum NormKind
{
    /// <summary>LayerNorm with bias.</summary>
    LayerNorm,
    /// <summary>RMSNorm.</summary>
    RmsNorm,
}

/// <summary>Options of a pre-norm transformer block.</summary>
/// <param name="Attention">Self-attention options.</param>
/// <param name="Hidden">Feed-forward hidden width.</param>
/// <param name="FeedForward">Feed-forward kind.</param>
/// <param name="Norm">Normalisation kind.</param>
/// <param name="NormEps">Normalisation epsilon.</param>
/// <param name="MlpBias">Biases in the feed-forward.</param>
public sealed record BlockOptions(AttentionOptions Attention, int Hidden, FeedForwardKind FeedForward, NormKind Norm = NormKind.LayerNorm,
    float NormEps = 1e-5f, bool MlpBias = true);

/// <summary>Pre-norm transformer block: x + attn(norm1(x)), then + mlp(norm2(x)).</summary>
public sealed class TransformerBlock : Module
{
    private readonly Func<Tensor, Tensor> _norm1, _norm2;

    /// <summary>Creates the block.</summary>
    public TransformerBlock(BlockOptions o, Generator? generator = null)
    {
        int c = o.Attention.Dim;
        Module n1, n2;
        if (o.Norm == NormKind.LayerNorm)
        {
            var a = new LayerNorm(c, o.NormEps); var b = new LayerNorm(c, o.NormEps);
            _norm1 = a.Forward; _norm2 = b.Forward; n1 = a; n2 = b;
        }
        else
        {
            var a = new RmsNorm(c, o.NormEps); var b = new RmsNorm(c, o.NormEps);
            _norm1 = a.Forward; _norm2 = b.Forward; n1 = a; n2 = b;
        }
        Norm1 = RegisterModule("norm1", n1);
        Attention = RegisterModule("attn", new MultiHeadAttention(o.Attention, generator));
        Norm2 = RegisterModule("norm2", n2);
        Mlp = RegisterModule("mlp", new FeedForward(c, o.Hidden, o.FeedForward, o.MlpBias, o.Attention.Dropout, generator));
    }

    /// <summary>Norm before attention.</summary>
    public Module Norm1 { get; }
    /// <summary>Self-attention.</summary>
    public MultiHeadAttention Attention { get; }
    /// <summary>Norm before the feed-forward.</summary>
    public Module Norm2 { get; }
    /// <summary>Feed-forward.</summary>
    public FeedForward Mlp { get; }

    /// <summary>x (B, T, C) → (B, T, C).</summary>
    public Tensor Forward(Tensor x, IKvCache? cache = null, Tensor? positions = null, Tensor? keyMask = null)
    {
        x = x.Add(Attention.Forward(_norm1(x), cache, positions, keyMask));
        return x.Add(Mlp.Forward(_norm2(x)));
    }
}
