using ILGPU;
using ILGPU.Runtime;
using SharpTransformer.Backends;
using SharpTransformer.Ilgpu.Kernels;
using SharpTransformer.Tensors;

namespace SharpTransformer.Ilgpu;

// Data movement, elementwise ops, reductions, GEMM, gather and scatter.
public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    public void Fill(IStorage y, in Layout yl, float value)
    {
        lock (_sync)
        {
            CheckAlive();
            var ys = S(y, "Fill");
            Need(ys, yl, "Fill");
            int n = yl.Count;
            if (n == 0) return;
            var l = Strided.Of(yl);
            if (ys.DType == DType.Float32) FillFK(n, ys.F, l, value);
            else FillIK(n, ys.I, l, (int)value);
        }
    }

    /// <inheritdoc/>
    public void Copy(IStorage x, in Layout xl, IStorage y, in Layout yl)
    {
        lock (_sync)
        {
            CheckAlive();
            var xs = S(x, "Copy");
            var ys = S(y, "Copy");
            if (xl.Count != yl.Count)
                throw new ArgumentException($"{Name}.Copy: shapes differ: {Layout.Format(xl.Shape)} and {Layout.Format(yl.Shape)}.");
            Need(xs, xl, "Copy");
            Need(ys, yl, "Copy");
            int n = xl.Count;
            if (n == 0) return;
            // Both layouts walk one shape; a contiguous side may be re-expressed on the other's shape (same count).
            Strided l;
            if (xl.Shape.AsSpan().SequenceEqual(yl.Shape)) l = Strided.Of(xl, yl);
            else if (yl.IsContiguous) l = Strided.Of(xl, new Layout((int[])xl.Shape.Clone(), Layout.ContiguousStrides(xl.Shape), yl.Offset));
            else if (xl.IsContiguous) l = Strided.Of(new Layout((int[])yl.Shape.Clone(), Layout.ContiguousStrides(yl.Shape), xl.Offset), yl);
            else throw new ArgumentException($"{Name}.Copy: shapes differ: {Layout.Format(xl.Shape)} and {Layout.Format(yl.Shape)}.");
            switch (xs.DType, ys.DType)
            {
                case (DType.Float32, DType.Float32): CopyFFK(n, xs.F, ys.F, l); break;
                case (DType.Int32, DType.Int32): CopyIIK(n, xs.I, ys.I, l); break;
                case (DType.Int32, DType.Float32): CopyIFK(n, xs.I, ys.F, l); break;
                default: CopyFIK(n, xs.F, ys.I, l); break;
            }
        }
    }

    /// <inheritdoc/>
    public void Arange(IStorage y, int n)
    {
        lock (_sync)
        {
            CheckAlive();
            var ys = S(y, "Arange");
            Need(ys, n, "Arange");
            if (n <= 0) return;
            if (ys.DType == DType.Float32) ArangeFK(n, ys.F);
            else ArangeIK(n, ys.I);
        }
    }

    /// <inheritdoc/>
    public void RandomFill(IStorage y, int n, RandomKind kind, float a, float b, ulong seed, ulong offset)
    {
        if (kind is not (RandomKind.Uniform or RandomKind.Normal or RandomKind.Bernoulli))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "RandomFill: unknown distribution.");
        lock (_sync)
        {
            CheckAlive();
            var ys = S(y, "RandomFill", DType.Float32);
            Need(ys, n, "RandomFill");
            if (n <= 0) return;
            RandomK(n, ys.F, (int)kind, a, b, seed, offset);
        }
    }

    /// <inheritdoc/>
    public void Unary(UnaryOp op, IStorage x, in Layout xl, IStorage y, float arg = 0f)
    {
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), op, "Unary: unknown op.");
        lock (_sync)
        {
            CheckAlive();
            var xs = S(x, "Unary", DType.Float32);
            var ys = S(y, "Unary", DType.Float32);
            Need(xs, xl, "Unary");
            int n = xl.Count;
            Need(ys, n, "Unary");
            if (n == 0) return;
            UnaryK(n, xs.F, ys.F, Strided.Of(xl), (int)op, arg);
        }
    }

    /// <inheritdoc/>
    public void UnaryBackward(UnaryOp op, IStorage x, IStorage y, IStorage dy, IStorage dx, int n, float arg = 0f)
    {
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), op, "UnaryBackward: unknown op.");
        lock (_sync)
        {
            CheckAlive();
            var xs = S(x, "UnaryBackward", DType.Float32);
            var ys = S(y, "UnaryBackward", DType.Float32);
            var gs = S(dy, "UnaryBackward", DType.Float32);
            var ds = S(dx, "UnaryBackward", DType.Float32);
            Need(xs, n, "UnaryBackward"); Need(ys, n, "UnaryBackward"); Need(gs, n, "UnaryBackward"); Need(ds, n, "UnaryBackward");
            if (n <= 0) return;
            UnaryBackwardK(n, xs.F, ys.F, gs.F, ds.F, (int)op, arg);
        }
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, IStorage a, in Layout al, IStorage b, in Layout bl, IStorage y)
    {
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), op, "Binary: unknown op.");
        lock (_sync)
        {
            CheckAlive();
            var sa = S(a, "Binary", DType.Float32);
            var sb = S(b, "Binary", DType.Float32);
            var sy = S(y, "Binary", DType.Float32);
            if (!al.Shape.AsSpan().SequenceEqual(bl.Shape))
                throw new ArgumentException($"{Name}.Binary({op}): layouts must be broadcast to one shape, got {Layout.Format(al.Shape)} and {Layout.Format(bl.Shape)}.");
            Need(sa, al, "Binary"); Need(sb, bl, "Binary");
            int n = al.Count;
            Need(sy, n, "Binary");
            if (n == 0) return;
            BinaryK(n, sa.F, sb.F, sy.F, Strided.Of(al, bl), (int)op);
        }
    }

    /// <inheritdoc/>
    public void Where(IStorage cond, in Layout cl, IStorage a, in Layout al, IStorage b, in Layout bl, IStorage y)
    {
        lock (_sync)
        {
            CheckAlive();
            var sc = S(cond, "Where", DType.Float32);
            var sa = S(a, "Where", DType.Float32);
            var sb = S(b, "Where", DType.Float32);
            var sy = S(y, "Where", DType.Float32);
            if (!cl.Shape.AsSpan().SequenceEqual(al.Shape) || !cl.Shape.AsSpan().SequenceEqual(bl.Shape))
                throw new ArgumentException($"{Name}.Where: layouts must be broadcast to one shape, got {Layout.Format(cl.Shape)}, {Layout.Format(al.Shape)} and {Layout.Format(bl.Shape)}.");
            Need(sc, cl, "Where"); Need(sa, al, "Where"); Need(sb, bl, "Where");
            int n = cl.Count;
            Need(sy, n, "Where");
            if (n == 0) return;
            WhereK(n, sc.F, sa.F, sb.F, sy.F, Strided.Of(cl, al, bl));
        }
    }

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, IStorage x, in Layout xl, int axis, IStorage y)
    {
        if (axis < 0 || axis >= xl.Rank)
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"Reduce({op}): axis out of range for {Layout.Format(xl.Shape)}.");
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), op, "Reduce: unknown op.");
        lock (_sync)
        {
            CheckAlive();
            var xs = S(x, "Reduce", DType.Float32);
            var ys = S(y, "Reduce", op == ReduceOp.ArgMax ? DType.Int32 : DType.Float32);
            Need(xs, xl, "Reduce");
            int len = xl.Shape[axis];
            if (len == 0 && op != ReduceOp.Sum)
                throw new ArgumentException($"Reduce({op}): cannot reduce an empty axis {axis} of {Layout.Format(xl.Shape)}.");
            var outShape = new int[xl.Rank - 1];
            var outStrides = new int[xl.Rank - 1];
            for (int d = 0, o = 0; d < xl.Rank; d++)
            {
                if (d == axis) continue;
                outShape[o] = xl.Shape[d];
                outStrides[o++] = xl.Strides[d];
            }
            int outputs = Layout.Numel(outShape);
            Need(ys, outputs, "Reduce");
            if (outputs == 0) return;
            var l = Strided.Create(outShape, outStrides, xl.Offset);
            int stride = xl.Strides[axis];
            int g = RowGroup;
            // A group per output when the axis is long and outputs are few; strided axes only when there are very few
            // outputs, since a thread per output then reads neighbouring outputs coalesced.
            bool grouped = len >= 4 * g && (stride == 1 ? outputs < 4096 : outputs < 64);
            if (op == ReduceOp.ArgMax)
            {
                if (grouped) ArgMaxGroupK(Rows(outputs, g, 2 * g), xs.F, ys.I, l, len, stride);
                else ArgMaxThreadK(outputs, xs.F, ys.I, l, len, stride);
            }
            else
            {
                if (grouped) ReduceGroupK(Rows(outputs, g, g), xs.F, ys.F, l, len, stride, (int)op);
                else ReduceThreadK(outputs, xs.F, ys.F, l, len, stride, (int)op);
            }
        }
    }

    /// <inheritdoc/>
    public void SumSquares(IStorage x, int n, IStorage acc)
    {
        lock (_sync)
        {
            CheckAlive();
            var xs = S(x, "SumSquares", DType.Float32);
            var sa = S(acc, "SumSquares", DType.Float32);
            Need(xs, n, "SumSquares");
            Need(sa, 1, "SumSquares");
            if (n <= 0) return;
            int g = RowGroup;
            int groups = (int)Math.Clamp((n + 4L * g - 1) / (4L * g), 1, 256);
            using var partial = Temp(DType.Float32, groups);
            SumSquaresPartialK(Rows(groups, g, g), xs.F, partial.F, n);
            SumIntoK(Rows(1, g, g), partial.F, sa.F, groups);
        }
    }

    /// <inheritdoc/>
    public void MatMul(IStorage a, in Layout al, IStorage b, in Layout bl, IStorage y, bool accumulate = false)
    {
        int r = al.Rank;
        if (r < 2 || bl.Rank != r)
            throw new ArgumentException($"MatMul: operands must have equal rank >= 2, got {Layout.Format(al.Shape)} and {Layout.Format(bl.Shape)}.");
        int m = al.Shape[r - 2], k = al.Shape[r - 1], n = bl.Shape[r - 1];
        if (bl.Shape[r - 2] != k)
            throw new ArgumentException($"MatMul: inner dimensions differ: {Layout.Format(al.Shape)} @ {Layout.Format(bl.Shape)}.");
        for (int d = 0; d < r - 2; d++)
            if (al.Shape[d] != bl.Shape[d])
                throw new ArgumentException($"MatMul: batch dimensions must be broadcast already: {Layout.Format(al.Shape)} @ {Layout.Format(bl.Shape)}.");
        lock (_sync)
        {
            CheckAlive();
            var sa = S(a, "MatMul", DType.Float32);
            var sb = S(b, "MatMul", DType.Float32);
            var sy = S(y, "MatMul", DType.Float32);
            Need(sa, al, "MatMul"); Need(sb, bl, "MatMul");
            int batch = 1;
            for (int d = 0; d < r - 2; d++) batch *= al.Shape[d];
            Need(sy, (long)batch * m * n, "MatMul");
            if (batch == 0 || m == 0 || n == 0) return;
            var args = new GemmArgs
            {
                M = m, N = n, K = k,
                Sam = al.Strides[r - 2], Sak = al.Strides[r - 1],
                Sbk = bl.Strides[r - 2], Sbn = bl.Strides[r - 1],
                Accumulate = accumulate ? 1 : 0,
            };
            args.AKFast = args.Sak == 1 || k == 1 ? 1 : 0;
            args.BNFast = args.Sbn == 1 || n == 1 ? 1 : 0;
            int T = GemmTile;
            bool tiled = UseRegisterTiledGemm(m, n, batch);
            int tile = tiled ? 8 * T : 4 * T;
            int shared = tiled ? RegisterTiledGemmKernels.SharedFloats(T) : 8 * T * T;
            int gx = (n + tile - 1) / tile, gy = (m + tile - 1) / tile;
            if (gy > 65535) throw new NotSupportedException($"{Name}.MatMul: {m} rows exceed the grid limit ({65535 * tile}).");
            args.Batch = Strided.Create(al.Shape.AsSpan(0, r - 2), al.Strides[..(r - 2)], al.Offset, bl.Strides[..(r - 2)], bl.Offset);
            var kernel = tiled ? GemmTiledK : GemmK;
            int split = tiled ? GemmSplitK(m, n, k, batch) : 1;
            IlgpuStorage? workspace = null;
            if (split > 1)
            {
                // Each slice writes its own partial matrix; SplitKReduce sums them (in slice order) into y afterwards.
                args.SplitK = split;
                args.KSlice = SliceLength(k, split, T / 2);
                workspace = Temp(DType.Float32, checked(batch * split * m * n));
            }
            try
            {
                int maxZ = 65535 / split;
                for (int z0 = 0; z0 < batch; z0 += maxZ)
                {
                    args.BatchStart = z0;
                    var config = new KernelConfig(new Index3D(gx, gy, Math.Min(maxZ, batch - z0) * split), new Index3D(T, T, 1),
                        SharedMemoryConfig.RequestDynamic<float>(shared));
                    kernel(config, sa.F, sb.F, workspace is null ? sy.F : workspace.F, args);
                }
                if (workspace is not null) SplitKReduceK(batch * m * n, workspace.F, sy.F, m * n, split, accumulate ? 1 : 0);
            }
            finally
            {
                workspace?.Dispose();
            }
        }
    }

    /// <summary>
    /// The number of K slices (split-K) the register-tiled kernel uses for a product over <paramref name="batch"/>
    /// matrices; 1 means no split, and products on the simple kernel always give 1. With
    /// <see cref="IlgpuBackendOptions.GemmSplitK"/> = 0 a product splits only when it has fewer 8T × 8T tiles than 1.5 ×
    /// the multiprocessors: the count then minimises a wave model, (waves of groups the device holds at once) / slices,
    /// plus a small charge per slice for the partial matrices the second pass reads, among slices of at least 16 K steps
    /// (at most 16 slices), taking the fewest slices within 5 % of the best.
    /// </summary>
    public int GemmSplitK(int m, int n, int k, int batch)
    {
        if (m <= 0 || n <= 0 || k <= 0 || batch <= 0 || !UseRegisterTiledGemm(m, n, batch)) return 1;
        int T = GemmTile, tile = 8 * T, bk = T / 2;
        int slices;
        if (_options.GemmSplitK > 0) slices = _options.GemmSplitK;
        else
        {
            long tiles = (long)((m + tile - 1) / tile) * ((n + tile - 1) / tile) * batch;
            int sms = Math.Max(1, Multiprocessors);
            if (2 * tiles >= 3L * sms) return 1;
            long slots = (long)sms * RegisterTiledGroupsPerMultiprocessor;
            int limit = Math.Min(16, k / (16 * bk));
            var cost = new double[Math.Max(limit, 1) + 1];
            double best = cost[1] = (tiles + slots - 1) / slots;
            for (int s = 2; s <= limit; s++)
            {
                cost[s] = (double)((tiles * s + slots - 1) / slots) / s + (2 * s + 1) * 8.0 / k;
                best = Math.Min(best, cost[s]);
            }
            slices = 1;
            while (cost[slices] > 1.05 * best) slices++;
        }
        slices = Math.Min(slices, (k + bk - 1) / bk);
        while (slices > 1 && (long)batch * slices * m * n > int.MaxValue) slices--;
        if (slices <= 1) return 1;
        // Slices are whole K steps; rounding the slice length up can leave fewer slices than asked for.
        int length = SliceLength(k, slices, bk);
        return (k + length - 1) / length;
    }

    // K per slice: K / slices rounded up to whole steps of bk.
    private static int SliceLength(int k, int slices, int bk)
    {
        int length = (k + slices - 1) / slices;
        return (length + bk - 1) / bk * bk;
    }

    /// <summary>The device's multiprocessors (streaming multiprocessors on CUDA), as split-K's rule counts them.</summary>
    public int Multiprocessors => _acc.NumMultiprocessors;

    /// <summary>
    /// Register-tiled GEMM groups one multiprocessor holds at once, as the driver estimates it from the compiled kernel's
    /// registers and shared memory (1 where the accelerator gives no estimate). Compiles the kernel on first use.
    /// </summary>
    public int RegisterTiledGroupsPerMultiprocessor
    {
        get
        {
            lock (_sync)
            {
                if (_tiledOccupancy == 0)
                {
                    int occupancy;
                    try
                    {
                        int T = GemmTile;
                        occupancy = _acc.EstimateMaxActiveGroupsPerMultiprocessor(GemmTiledK.GetKernel(), T * T, RegisterTiledGemmKernels.SharedFloats(T) * sizeof(float));
                    }
                    catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException)
                    {
                        occupancy = 1;
                    }
                    _tiledOccupancy = Math.Max(1, occupancy);
                }
                return _tiledOccupancy;
            }
        }
    }

    private int _tiledOccupancy;

    /// <summary>
    /// Whether an (M × K) @ (K × N) product over <paramref name="batch"/> matrices takes the register-tiled kernel
    /// (8T × 8T tiles, 64 outputs per thread). With <see cref="IlgpuGemmKernel.Auto"/>: whenever both sides fill at least
    /// half a tile. On an H200 it beat the 4T × 4T kernel on every product measured, down to 256 × 768 × 768 (12 groups on
    /// 132 multiprocessors: 2.1 against 1.7 TFLOP/s; bench/RESULTS.md); thinner products (decoding) keep the simple kernel.
    /// </summary>
    public bool UseRegisterTiledGemm(int m, int n, int batch)
    {
        if (GemmKernel == IlgpuGemmKernel.Simple || GemmTile < 2) return false;
        if (GemmKernel == IlgpuGemmKernel.RegisterTiled) return true;
        int tile = 8 * GemmTile;
        return m >= tile / 2 && n >= tile / 2 && batch > 0;
    }

    /// <inheritdoc/>
    public void Gather(IStorage src, int outer, int dim, int inner, IStorage index, int count, IStorage y)
    {
        lock (_sync)
        {
            CheckAlive();
            var ss = S(src, "Gather", DType.Float32);
            var si = S(index, "Gather", DType.Int32);
            var sy = S(y, "Gather", DType.Float32);
            Need(ss, (long)outer * dim * inner, "Gather");
            Need(si, count, "Gather");
            Need(sy, (long)outer * count * inner, "Gather");
            int n = outer * count * inner;
            if (n == 0) return;
            MarkErrorCheck(ErrorFlags.Gather, dim);
            GatherK(n, ss.F, si.I, sy.F, _errors.View.BaseView, dim, inner, count);
        }
    }

    /// <inheritdoc/>
    public void ScatterAdd(IStorage src, int outer, int dim, int inner, IStorage index, int count, IStorage y)
    {
        lock (_sync)
        {
            CheckAlive();
            var ss = S(src, "ScatterAdd", DType.Float32);
            var si = S(index, "ScatterAdd", DType.Int32);
            var sy = S(y, "ScatterAdd", DType.Float32);
            Need(ss, (long)outer * count * inner, "ScatterAdd");
            Need(si, count, "ScatterAdd");
            Need(sy, (long)outer * dim * inner, "ScatterAdd");
            int n = outer * inner;
            if (n == 0 || count == 0) return;
            MarkErrorCheck(ErrorFlags.ScatterAdd, dim);
            ScatterAddK(n, ss.F, si.I, sy.F, _errors.View.BaseView, dim, inner, count);
        }
    }
}
