using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Alignment;

/// <summary>
/// A batch of instruction examples as a causal model reads it: inputs (B, T), next-token targets (B, T) with
/// <see cref="IgnoreIndex"/> on prompt tokens and padding, and, for packed rows, position ids (B, T) that restart at 0 at each
/// example. <see cref="Pad"/> puts one example per row (right padding: under causal attention no real token sees the padding,
/// so no key mask is needed); <see cref="Pack"/> puts several whole examples per row.
/// </summary>
/// <param name="Inputs">Token ids, row-major (B, T).</param>
/// <param name="Targets">Target ids or <see cref="IgnoreIndex"/>, (B, T).</param>
/// <param name="Positions">Position ids (B, T) for packed rows; null: 0..T-1 in every row.</param>
/// <param name="Rows">B.</param>
/// <param name="Length">T.</param>
public sealed record InstructionBatch(int[] Inputs, int[] Targets, int[]? Positions, int Rows, int Length)
{
    /// <summary>The target that carries no loss (PyTorch's and Hugging Face's -100).</summary>
    public const int IgnoreIndex = -100;

    /// <summary>Targets that carry loss.</summary>
    public int ResponseTokens => Targets.Count(t => t != IgnoreIndex);

    /// <summary>
    /// One example per row, right-padded with <paramref name="padId"/> to the longest (inputs are each example's tokens but the
    /// last; targets are shifted by one, with the prompt and the padding ignored).
    /// </summary>
    public static InstructionBatch Pad(IReadOnlyList<InstructionExample> examples, int padId)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0) throw new ArgumentException("InstructionBatch.Pad: no examples.", nameof(examples));
        int t = examples.Max(e => e.Length - 1);
        if (t < 1) throw new ArgumentException("InstructionBatch.Pad: every example has fewer than 2 tokens.", nameof(examples));
        int b = examples.Count;
        var x = new int[b * t];
        var y = new int[b * t];
        Array.Fill(x, padId);
        Array.Fill(y, IgnoreIndex);
        for (int i = 0; i < b; i++)
        {
            var e = examples[i];
            e.Ids.AsSpan(0, e.Length - 1).CopyTo(x.AsSpan(i * t));
            e.Targets().CopyTo(y.AsSpan(i * t));
        }
        return new InstructionBatch(x, y, null, b, t);
    }

    /// <summary>
    /// Packs whole examples, in order, into rows of <paramref name="length"/> input positions (first fit: an example goes into the
    /// first row with room, none is split), padding the rest with <paramref name="padId"/>; returns one single-row batch per row
    /// (<see cref="Stack"/> joins them). Each example's targets are its own (its prompt ignored; no target crosses into the next
    /// example) and its position ids restart at 0. The attention of the causal models here takes a key mask only, not a
    /// block-diagonal one, so a token does attend to the earlier examples of its row (as Hugging Face packing does without
    /// flash-attention's varlen kernels); the loss never reads across examples.
    /// </summary>
    /// <exception cref="ArgumentException">An example is longer than <paramref name="length"/> + 1 tokens.</exception>
    public static IReadOnlyList<InstructionBatch> Pack(IReadOnlyList<InstructionExample> examples, int length, int padId)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, "InstructionBatch.Pack: the row length must be positive.");
        var rows = new List<List<InstructionExample>>();
        var used = new List<int>();
        foreach (var e in examples)
        {
            int need = e.Length - 1;   // input positions: every token but the last predicts the next one
            if (need > length)
                throw new ArgumentException($"InstructionBatch.Pack: the example of record {e.RecordIndex} has {e.Length} tokens, more than a row of {length} inputs + 1.", nameof(examples));
            int r = used.FindIndex(u => u + need <= length);
            if (r < 0) { rows.Add([]); used.Add(0); r = rows.Count - 1; }
            rows[r].Add(e);
            used[r] += need;
        }
        var result = new List<InstructionBatch>(rows.Count);
        foreach (var row in rows)
        {
            var x = new int[length];
            var y = new int[length];
            var p = new int[length];
            Array.Fill(x, padId);
            Array.Fill(y, IgnoreIndex);
            int at = 0;
            foreach (var e in row)
            {
                int n = e.Length - 1;
                e.Ids.AsSpan(0, n).CopyTo(x.AsSpan(at));
                e.Targets().CopyTo(y.AsSpan(at));
                for (int k = 0; k < n; k++) p[at + k] = k;
                at += n;
            }
            result.Add(new InstructionBatch(x, y, p, 1, length));
        }
        return result;
    }

    /// <summary>Stacks batches of one length into one (rows in order); positions are kept when every part has them.</summary>
    public static InstructionBatch Stack(IReadOnlyList<InstructionBatch> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw new ArgumentException("InstructionBatch.Stack: no batches.", nameof(parts));
        int t = parts[0].Length;
        if (parts.Any(p => p.Length != t)) throw new ArgumentException($"InstructionBatch.Stack: lengths differ ({string.Join(", ", parts.Select(p => p.Length).Distinct())}).", nameof(parts));
        bool positions = parts.All(p => p.Positions is not null);
        return new InstructionBatch(parts.SelectMany(p => p.Inputs).ToArray(), parts.SelectMany(p => p.Targets).ToArray(),
            positions ? parts.SelectMany(p => p.Positions!).ToArray() : null, parts.Sum(p => p.Rows), t);
    }

    /// <summary>The inputs as an Int32 tensor (B, T) on <paramref name="backend"/> (the host when null).</summary>
    public Tensor InputTensor(IBackend? backend = null) => On(Tensor.FromArray(Inputs, Rows, Length), backend);

    /// <summary>The targets as an Int32 tensor (B, T).</summary>
    public Tensor TargetTensor(IBackend? backend = null) => On(Tensor.FromArray(Targets, Rows, Length), backend);

    /// <summary>The position ids as an Int32 tensor (B, T), or null when the rows are not packed.</summary>
    public Tensor? PositionTensor(IBackend? backend = null) => Positions is null ? null : On(Tensor.FromArray(Positions, Rows, Length), backend);

    private static Tensor On(Tensor t, IBackend? backend) => backend is null ? t : t.To(backend);
}
