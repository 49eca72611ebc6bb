using SharpTransformer.Tensors;

namespace SharpTransformer.Data;

/// <summary>
/// Sliding windows over a token stream for causal language modelling: window i starts at i·stride; inputs are
/// block tokens and targets the same tokens shifted by one.
/// </summary>
public sealed class TokenWindowDataset
{
    private readonly int[] _tokens;

    /// <summary>Creates the dataset; <paramref name="stride"/> defaults to the block size (non-overlapping windows).</summary>
    public TokenWindowDataset(int[] tokens, int blockSize, int? stride = null)
    {
        if (blockSize <= 0) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "TokenWindowDataset: block size must be positive.");
        int s = stride ?? blockSize;
        if (s <= 0) throw new ArgumentOutOfRangeException(nameof(stride), s, "TokenWindowDataset: stride must be positive.");
        if (tokens.Length < blockSize + 1)
            throw new ArgumentException($"TokenWindowDataset: {tokens.Length} tokens are too few for one window of {blockSize} (+1 target).");
        _tokens = tokens;
        BlockSize = blockSize;
        Stride = s;
        Count = (tokens.Length - blockSize - 1) / s + 1;
    }

    /// <summary>Tokens per window.</summary>
    public int BlockSize { get; }
    /// <summary>Step between window starts.</summary>
    public int Stride { get; }
    /// <summary>Number of windows.</summary>
    public int Count { get; }
    /// <summary>The token stream.</summary>
    public ReadOnlySpan<int> Tokens => _tokens;

    /// <summary>Copies window <paramref name="index"/> into inputs and targets.</summary>
    public void Window(int index, Span<int> inputs, Span<int> targets)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"TokenWindowDataset: window {index} of {Count}.");
        int start = index * Stride;
        _tokens.AsSpan(start, BlockSize).CopyTo(inputs);
        _tokens.AsSpan(start + 1, BlockSize).CopyTo(targets);
    }

    /// <summary>Builds a batch (B, T) of inputs and targets from window indices.</summary>
    public (Tensor Inputs, Tensor Targets) Batch(ReadOnlySpan<int> indices)
    {
        int b = indices.Length, t = BlockSize;
        var x = new int[b * t];
        var y = new int[b * t];
        for (int i = 0; i < b; i++) Window(indices[i], x.AsSpan(i * t, t), y.AsSpan(i * t, t));
        return (Tensor.FromArray(x, b, t), Tensor.FromArray(y, b, t));
    }

    /// <summary>A batch of windows drawn uniformly at random with replacement (nanoGPT's get_batch), seeded.</summary>
    public (Tensor Inputs, Tensor Targets) RandomBatch(int batchSize, Generator generator)
    {
        Span<int> idx = batchSize <= 256 ? stackalloc int[batchSize] : new int[batchSize];
        for (int i = 0; i < batchSize; i++) idx[i] = generator.NextInt(Count);
        return Batch(idx);
    }
}
