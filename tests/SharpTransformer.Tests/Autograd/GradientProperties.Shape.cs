using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SharpTransformer.Tensors;
using static SharpTransformer.Tests.Autograd.GradCheck;

namespace SharpTransformer.Tests.Autograd;

/// <summary>Gradient properties of views, joins, index select, matmul and linear. Tolerance 5e-3·(1+|n|) throughout.</summary>
public sealed partial class GradientProperties
{
    // ---------------------------------------------------------------- views

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property NarrowSelectSlice() => Prop.ForAll(GradGen.Cases(1, 3, 1, 5), c =>
    {
        var rng = c.Rng();
        var x = Param(rng, c.Shape);
        int r = c.Shape.Length, d = rng.Next(r), n = c.Shape[d];
        int start = rng.Next(n), len = rng.Next(1, n - start + 1);
        int negStart = start - n; // the same start counted from the end
        Check(t => t[0].Narrow(d, start, len), [x], seed: c.Seed, what: $"narrow {d} {start} {len} of {x.ShapeString}");
        Check(t => t[0].Narrow(d - r, negStart, len), [x], seed: c.Seed, what: $"narrow {d - r} {negStart} {len}");
        Check(t => t[0].Select(d, start), [x], seed: c.Seed, what: $"select {d} {start}");
        Check(t => t[0].Select(d, negStart), [x], seed: c.Seed, what: $"select {d} {negStart}");
        Check(t => t[0].Slice(d, start, start + len), [x], seed: c.Seed, what: $"slice {d} {start}:{start + len}");
    });

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property PermuteTransposeT() => Prop.ForAll(GradGen.Cases(1, 4), c =>
    {
        var rng = c.Rng();
        var x = Param(rng, c.Shape);
        int r = c.Shape.Length;
        var perm = GradGen.Permutation(rng, r);
        int a = rng.Next(r), b = rng.Next(-r, r);
        var w = Make(Values(rng, x.Count, -1, 1), x.Shape.ToArray()); // a non-trivial consumer: multiply by a constant of the permuted layout
        Check(t => t[0].Permute(perm), [x], seed: c.Seed, what: $"permute {Layout.Format(perm)} of {x.ShapeString}");
        Check(t => t[0].Transpose(a, b).Tanh(), [x], seed: c.Seed, what: $"transpose {a} {b} then tanh");
        if (r >= 2) Check(t => t[0].T.Contiguous().Mul(w.T), [x], seed: c.Seed, what: "T, contiguous, mul");
    });

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property ReshapeViewFlatten() => Prop.ForAll(GradGen.Cases(1, 3), c =>
    {
        var rng = c.Rng();
        var x = Param(rng, c.Shape);
        int n = x.Count;
        var divisors = Enumerable.Range(1, n).Where(k => n % k == 0).ToArray();
        int p = divisors[rng.Next(divisors.Length)];
        Check(t => t[0].Reshape(p, n / p), [x], seed: c.Seed, what: $"reshape {p} {n / p} of {x.ShapeString}");
        Check(t => t[0].Reshape(-1, p).Exp(), [x], seed: c.Seed, what: $"reshape -1 {p}, exp");
        Check(t => t[0].View(n), [x], seed: c.Seed, what: "view");
        Check(t => t[0].Flatten(), [x], seed: c.Seed, what: "flatten");
        if (c.Shape.Length >= 2)
        {
            // Reshaping a transposed (non-contiguous) view must copy, and route the gradient back through the copy.
            Check(t => t[0].T.Reshape(-1).Square(), [x], seed: c.Seed, what: "reshape of a transposed view");
            Check(t => t[0].T.Flatten(0, -2), [x], seed: c.Seed, what: "flatten(0, -2) of a transposed view");
        }
    });

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property ExpandUnsqueezeSqueeze() => Prop.ForAll(GradGen.Cases(1, 3), c =>
    {
        var rng = c.Rng();
        var full = c.Shape;
        var small = full.Select(d => rng.Next(2) == 0 ? 1 : d).ToArray();
        var x = Param(rng, small);
        int lead = rng.Next(1, 3);
        var target = Enumerable.Range(0, full.Length).Select(i => small[i] == full[i] && rng.Next(2) == 0 ? -1 : full[i]).ToArray();
        var big = Make(Values(rng, ScalarCount(full), -1, 1), full);
        int u = rng.Next(-small.Length - 1, small.Length + 1);
        Check(t => t[0].Expand(target), [x], seed: c.Seed, what: $"expand {x.ShapeString} to {Layout.Format(target)}");
        Check(t => t[0].Expand([lead, .. full]).Sigmoid(), [x], seed: c.Seed, what: $"expand with {lead} new leading dims, sigmoid");
        Check(t => t[0].ExpandAs(big).Mul(big), [x], seed: c.Seed, what: "expand_as, mul");
        Check(t => t[0].Unsqueeze(u), [x], seed: c.Seed, what: $"unsqueeze {u}");
        Check(t => t[0].Unsqueeze(u).Squeeze(u), [x], seed: c.Seed, what: $"unsqueeze then squeeze {u}");
        Check(t => t[0].Squeeze(), [x], seed: c.Seed, what: "squeeze all");
        int ones = Array.IndexOf(small, 1);
        if (ones >= 0) Check(t => t[0].Squeeze(ones).Exp(), [x], seed: c.Seed, what: $"squeeze {ones}, exp");
        Check(t => t[0].Clone().Mul(2f), [x], seed: c.Seed, what: "clone");
    });

    /// <summary>A random chain of three or four view ops, then a product with a constant and tanh: views of views.</summary>
    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property ViewChains() => Prop.ForAll(GradGen.Cases(2, 4, 1, 4), c =>
    {
        var rng = c.Rng();
        var x = Param(rng, c.Shape);
        var steps = new List<(string, Func<Tensor, Tensor>)>();
        var probe = Tensor.Zeros(c.Shape);
        for (int s = 0; s < 4; s++)
        {
            int r = probe.Rank;
            (string, Func<Tensor, Tensor>) step = rng.Next(6) switch
            {
                0 => Transpose(rng.Next(r), rng.Next(r)),
                1 when r >= 1 => NarrowStep(rng, probe),
                2 => ("unsqueeze", t => t.Unsqueeze(0)),
                3 when r >= 2 => ("flatten 0..1", t => t.Flatten(0, 1)),
                4 => ("contiguous", t => t.Contiguous()),
                _ => ("permute reverse", t => t.Permute(Enumerable.Range(0, t.Rank).Reverse().ToArray())),
            };
            steps.Add(step);
            probe = step.Item2(probe);
        }
        var w = Make(Values(rng, probe.Count, -1, 1), probe.Shape.ToArray());
        Check(t =>
        {
            var y = t[0];
            foreach (var (_, f) in steps) y = f(y);
            return y.Mul(w).Tanh();
        }, [x], seed: c.Seed, what: $"{x.ShapeString}: {string.Join(" -> ", steps.Select(s => s.Item1))}");

        static (string, Func<Tensor, Tensor>) Transpose(int a, int b) => ($"transpose {a} {b}", t => t.Transpose(a, b));
        static (string, Func<Tensor, Tensor>) NarrowStep(Random rng, Tensor p)
        {
            int d = rng.Next(p.Rank), n = p.Size(d), start = rng.Next(n), len = rng.Next(1, n - start + 1);
            return ($"narrow {d} {start} {len}", t => t.Narrow(d, start, len));
        }
    });

    // ---------------------------------------------------------------- joins

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property ConcatAndStack() => Prop.ForAll(GradGen.Cases(1, 3), c =>
    {
        var rng = c.Rng();
        int r = c.Shape.Length, d = rng.Next(-r, r), count = rng.Next(2, 4);
        var parts = Enumerable.Range(0, count).Select(_ =>
        {
            var s = c.Shape.ToArray();
            s[(d + r) % r] = rng.Next(1, 4);
            var p = Param(rng, s);
            p.RequiresGrad = rng.Next(4) != 0;
            return p;
        }).ToArray();
        parts[0].RequiresGrad = true;
        Check(t => Tensor.Concat(t, d).Square(), parts, seed: c.Seed, what: $"concat dim {d} of {string.Join(" ", parts.Select(p => p.ShapeString))}");
        var same = Enumerable.Range(0, count).Select(_ => Param(rng, c.Shape)).ToArray();
        int sd = rng.Next(-r - 1, r + 1);
        Check(t => Tensor.Stack(t, sd), same, seed: c.Seed, what: $"stack dim {sd} of {count} x {c.Shape.Length}-D");
    });

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property SplitAndChunk() => Prop.ForAll(GradGen.Cases(1, 3, 2, 6), c =>
    {
        var rng = c.Rng();
        var x = Param(rng, c.Shape);
        int r = c.Shape.Length, d = rng.Next(r), n = c.Shape[d];
        int k = rng.Next(0, n + 1);
        int[] sizes = [k, n - k];
        // Some outputs are consumed, one only through a nonlinearity, one is left unused (its gradient is zero).
        Check(t => t[0].Split(sizes, d).Select((p, i) => i == 0 ? p.Exp() : p).ToArray(), [x], seed: c.Seed,
            what: $"split {Layout.Format(sizes)} dim {d} of {x.ShapeString}");
        var divs = Enumerable.Range(1, n).Where(q => n % q == 0).ToArray();
        int chunks = divs[rng.Next(divs.Length)];
        Check(t => t[0].Chunk(chunks, d).Take(Math.Max(1, chunks - 1)).ToArray(), [x], seed: c.Seed, what: $"chunk {chunks} dim {d}");
    });

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property IndexSelect() => Prop.ForAll(GradGen.Cases(1, 3), c =>
    {
        var rng = c.Rng();
        var x = Param(rng, c.Shape);
        int r = c.Shape.Length, d = rng.Next(-r, r), n = c.Shape[(d + r) % r];
        var ids = Enumerable.Range(0, rng.Next(1, 6)).Select(_ => rng.Next(n)).ToArray(); // repeats accumulate
        var index = Tensor.FromArray(ids);
        Check(t => t[0].IndexSelect(d, index), [x], seed: c.Seed, what: $"index_select dim {d} {Layout.Format(ids)} of {x.ShapeString}");
        if (r >= 2) Check(t => t[0].T.IndexSelect(0, Tensor.FromArray([0, 0])), [x], seed: c.Seed, what: "index_select of a transposed view");
        var offsetIndex = Tensor.FromArray(ids.Prepend(0).ToArray()).Narrow(0, 1, ids.Length); // an index view at an offset
        Check(t => t[0].IndexSelect(d, offsetIndex), [x], seed: c.Seed, what: "index_select with an offset index view");
    });

    // ---------------------------------------------------------------- matmul / linear

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property MatMulBatchedTransposedBroadcast() => Prop.ForAll(GradGen.Cases(0, 2, 1, 3), c =>
    {
        var rng = c.Rng();
        int m = rng.Next(1, 5), k = rng.Next(1, 5), n = rng.Next(1, 5);
        var batchA = GradGen.BroadcastVariant(rng, c.Shape);
        var batchB = GradGen.BroadcastVariant(rng, c.Shape);
        bool ta = rng.Next(2) == 0, tb = rng.Next(2) == 0;
        var a = Param(rng, ta ? [.. batchA, k, m] : [.. batchA, m, k]);
        var b = Param(rng, tb ? [.. batchB, n, k] : [.. batchB, k, n]);
        b.RequiresGrad = rng.Next(4) != 0;
        Check(t => (ta ? t[0].T : t[0]).MatMul(tb ? t[1].T : t[1]), [a, b], seed: c.Seed,
            what: $"matmul {a.ShapeString}{(ta ? "ᵀ" : "")} @ {b.ShapeString}{(tb ? "ᵀ" : "")}");
    });

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|)
    public Property MatMulVectors() => Prop.ForAll(GradGen.Cases(1, 1, 1, 5), c =>
    {
        var rng = c.Rng();
        int k = c.Shape[0], n = rng.Next(1, 4);
        var v = Param(rng, [k]);
        var u = Param(rng, [k]);
        var mat = Param(rng, [k, n]);
        var bmat = Param(rng, [2, n, k]);
        Check(t => t[0].MatMul(t[1]), [v, mat], seed: c.Seed, what: "vector @ matrix");
        Check(t => t[1].T.MatMul(t[0]), [v, mat], seed: c.Seed, what: "matrixᵀ @ vector");
        Check(t => t[0].MatMul(t[1]), [v, u], seed: c.Seed, what: "vector @ vector");
        Check(t => t[1].MatMul(t[0]), [v, bmat], seed: c.Seed, what: "batched matrix @ vector");
    });

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property Linear() => Prop.ForAll(GradGen.Cases(0, 2, 1, 3), c =>
    {
        var rng = c.Rng();
        int inF = rng.Next(1, 5), outF = rng.Next(1, 5);
        bool transposedInput = c.Shape.Length == 1 && rng.Next(2) == 0;
        var x = Param(rng, transposedInput ? [inF, c.Shape[0]] : [.. c.Shape, inF]);
        var w = Param(rng, [outF, inF]);
        var b = Param(rng, [outF]);
        x.RequiresGrad = rng.Next(4) != 0;
        Check(t => Tensor.Linear(transposedInput ? t[0].T : t[0], t[1], t[2]), [x, w, b], seed: c.Seed,
            what: $"linear x {x.ShapeString}{(transposedInput ? "ᵀ" : "")} w {w.ShapeString} with bias");
        Check(t => Tensor.Linear(transposedInput ? t[0].T : t[0], t[1]), [x, w], seed: c.Seed, what: "linear without bias");
        // A tied weight stored as (in, out) and used through its transpose; a bias that is a view at an offset.
        var wT = Param(rng, [inF, outF]);
        var b2 = Param(rng, [outF + 1]);
        Check(t => Tensor.Linear(t[0], t[1].T, t[2].Narrow(0, 1, outF)), [Param(rng, [.. c.Shape, inF]), wT, b2], seed: c.Seed,
            what: "linear with a transposed weight view and an offset bias view");
        // The input as a view at a non-zero storage offset (the second of two stacked inputs).
        var x2 = Param(rng, [2, .. c.Shape, inF]);
        Check(t => Tensor.Linear(t[0].Select(0, 1), t[1], t[2]), [x2, w, b], seed: c.Seed, what: "linear of an input at a storage offset");
    });
}
