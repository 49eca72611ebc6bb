using ILGPU;
using ILGPU.Runtime;
using SharpTransformer.Backends;
using SharpTransformer.Ilgpu.Kernels;
using SharpTransformer.Tensors;

namespace SharpTransformer.Ilgpu;

// Softmax, norms, attention, cross-entropy, rope, AdamW.
public sealed partial class IlgpuBackend
{
    private readonly Dictionary<(float Theta, int HeadDim), MemoryBuffer1D<double, Stride1D.Dense>> _invFreq = new();

    private ArrayView<float> Dummy => _dummy.View.BaseView;

    /// <inheritdoc/>
    public void Softmax(IStorage x, int rows, int cols, IStorage y, bool log)
    {
        lock (_sync)
        {
            CheckAlive();
            var xs = S(x, "Softmax", DType.Float32);
            var ys = S(y, "Softmax", DType.Float32);
            Need(xs, (long)rows * cols, "Softmax"); Need(ys, (long)rows * cols, "Softmax");
            if (rows <= 0 || cols <= 0) return;
            SoftmaxK(Rows(rows, RowGroup, RowGroup), xs.F, ys.F, cols, log ? 1 : 0);
        }
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(IStorage y, IStorage dy, int rows, int cols, IStorage dx, bool log)
    {
        lock (_sync)
        {
            CheckAlive();
            var ys = S(y, "SoftmaxBackward", DType.Float32);
            var gs = S(dy, "SoftmaxBackward", DType.Float32);
            var ds = S(dx, "SoftmaxBackward", DType.Float32);
            long n = (long)rows * cols;
            Need(ys, n, "SoftmaxBackward"); Need(gs, n, "SoftmaxBackward"); Need(ds, n, "SoftmaxBackward");
            if (rows <= 0 || cols <= 0) return;
            SoftmaxBackwardK(Rows(rows, RowGroup, RowGroup), ys.F, gs.F, ds.F, cols, log ? 1 : 0);
        }
    }

    /// <inheritdoc/>
    public void LayerNorm(IStorage x, IStorage? weight, IStorage? bias, int rows, int cols, float eps, IStorage y, IStorage mean, IStorage rstd)
    {
        lock (_sync)
        {
            CheckAlive();
            var xs = S(x, "LayerNorm", DType.Float32);
            var ys = S(y, "LayerNorm", DType.Float32);
            var ms = S(mean, "LayerNorm", DType.Float32);
            var rs = S(rstd, "LayerNorm", DType.Float32);
            var ws = weight is null ? null : S(weight, "LayerNorm", DType.Float32);
            var bs = bias is null ? null : S(bias, "LayerNorm", DType.Float32);
            long n = (long)rows * cols;
            Need(xs, n, "LayerNorm"); Need(ys, n, "LayerNorm"); Need(ms, rows, "LayerNorm"); Need(rs, rows, "LayerNorm");
            if (ws is not null) Need(ws, cols, "LayerNorm");
            if (bs is not null) Need(bs, cols, "LayerNorm");
            if (rows <= 0 || cols <= 0) return;
            LayerNormK(Rows(rows, RowGroup, RowGroup), xs.F, ws?.F ?? Dummy, bs?.F ?? Dummy, ys.F, ms.F, rs.F, cols, eps,
                ws is null ? 0 : 1, bs is null ? 0 : 1);
        }
    }

    /// <inheritdoc/>
    public void LayerNormBackward(IStorage x, IStorage? weight, IStorage mean, IStorage rstd, IStorage dy, int rows, int cols,
        IStorage dx, IStorage? dweight, IStorage? dbias)
    {
        lock (_sync)
        {
            CheckAlive();
            var xs = S(x, "LayerNormBackward", DType.Float32);
            var ms = S(mean, "LayerNormBackward", DType.Float32);
            var rs = S(rstd, "LayerNormBackward", DType.Float32);
            var gs = S(dy, "LayerNormBackward", DType.Float32);
            var ds = S(dx, "LayerNormBackward", DType.Float32);
            var ws = weight is null ? null : S(weight, "LayerNormBackward", DType.Float32);
            var dws = dweight is null ? null : S(dweight, "LayerNormBackward", DType.Float32);
            var dbs = dbias is null ? null : S(dbias, "LayerNormBackward", DType.Float32);
            long n = (long)rows * cols;
            Need(xs, n, "LayerNormBackward"); Need(gs, n, "LayerNormBackward"); Need(ds, n, "LayerNormBackward");
            Need(ms, rows, "LayerNormBackward"); Need(rs, rows, "LayerNormBackward");
            if (ws is not null) Need(ws, cols, "LayerNormBackward");
            if (dws is not null) Need(dws, cols, "LayerNormBackward");
            if (dbs is not null) Need(dbs, cols, "LayerNormBackward");
            if (cols <= 0) return;
            if (rows > 0)
                LayerNormBackwardK(Rows(rows, RowGroup, RowGroup), xs.F, ws?.F ?? Dummy, ms.F, rs.F, gs.F, ds.F, cols, ws is null ? 0 : 1);
            if (dws is not null || dbs is not null)
                LayerNormParamGradK(cols, xs.F, ms.F, rs.F, gs.F, dws?.F ?? Dummy, dbs?.F ?? Dummy, rows, cols,
                    dws is null ? 0 : 1, dbs is null ? 0 : 1);
        }
    }

    /// <inheritdoc/>
    public void RmsNorm(IStorage x, IStorage? weight, int rows, int cols, float eps, IStorage y, IStorage rstd)
    {
        lock (_sync)
        {
            CheckAlive();
            var xs = S(x, "RmsNorm", DType.Float32);
            var ys = S(y, "RmsNorm", DType.Float32);
            var rs = S(rstd, "RmsNorm", DType.Float32);
            var ws = weight is null ? null : S(weight, "RmsNorm", DType.Float32);
            long n = (long)rows * cols;
            Need(xs, n, "RmsNorm"); Need(ys, n, "RmsNorm"); Need(rs, rows, "RmsNorm");
            if (ws is not null) Need(ws, cols, "RmsNorm");
            if (rows <= 0 || cols <= 0) return;
            RmsNormK(Rows(rows, RowGroup, RowGroup), xs.F, ws?.F ?? Dummy, ys.F, rs.F, cols, eps, ws is null ? 0 : 1);
        }
    }

    /// <inheritdoc/>
    public void RmsNormBackward(IStorage x, IStorage? weight, IStorage rstd, IStorage dy, int rows, int cols, IStorage dx, IStorage? dweight)
    {
        lock (_sync)
        {
            CheckAlive();
            var xs = S(x, "RmsNormBackward", DType.Float32);
            var rs = S(rstd, "RmsNormBackward", DType.Float32);
            var gs = S(dy, "RmsNormBackward", DType.Float32);
            var ds = S(dx, "RmsNormBackward", DType.Float32);
            var ws = weight is null ? null : S(weight, "RmsNormBackward", DType.Float32);
            var dws = dweight is null ? null : S(dweight, "RmsNormBackward", DType.Float32);
            long n = (long)rows * cols;
            Need(xs, n, "RmsNormBackward"); Need(gs, n, "RmsNormBackward"); Need(ds, n, "RmsNormBackward"); Need(rs, rows, "RmsNormBackward");
            if (ws is not null) Need(ws, cols, "RmsNormBackward");
            if (dws is not null) Need(dws, cols, "RmsNormBackward");
            if (cols <= 0) return;
            if (rows > 0)
                RmsNormBackwardK(Rows(rows, RowGroup, RowGroup), xs.F, ws?.F ?? Dummy, rs.F, gs.F, ds.F, cols, ws is null ? 0 : 1);
            if (dws is not null) RmsNormParamGradK(cols, xs.F, rs.F, gs.F, dws.F, rows, cols);
        }
    }

    private AttnArgs AttnArgsOf(in AttentionShape s, bool mask, bool bias, in Layout biasLayout, bool dbias, string op)
    {
        s.Validate($"{Name}.{op}");
        var a = new AttnArgs
        {
            B = s.Batch, H = s.Heads, KvH = s.KvHeads, Tq = s.QueryLength, Tk = s.KeyLength, D = s.HeadDim, Dv = s.ValueHeadDim,
            KeyRows = s.KeyRows, Group = s.Group, Causal = s.Causal ? 1 : 0, Window = s.Window, Scale = s.Scale,
            HasMask = mask ? 1 : 0, HasBias = bias ? 1 : 0, HasDBias = dbias ? 1 : 0,
        };
        if (bias)
        {
            if (biasLayout.Rank != 4)
                throw new ArgumentException($"{Name}.{op}: the bias layout must have rank 4 (Batch, Heads, QueryLength, KeyLength), got {biasLayout}.");
            a.BiasOff = biasLayout.Offset;
            a.BiasS0 = biasLayout.Strides[0]; a.BiasS1 = biasLayout.Strides[1]; a.BiasS2 = biasLayout.Strides[2]; a.BiasS3 = biasLayout.Strides[3];
        }
        return a;
    }

    /// <inheritdoc/>
    public void Attention(in AttentionShape s, IStorage q, IStorage k, IStorage v, IStorage? keyMask, IStorage? bias, in Layout biasLayout,
        IStorage output, IStorage lse)
    {
        lock (_sync)
        {
            CheckAlive();
            var args = AttnArgsOf(s, keyMask is not null, bias is not null, biasLayout, false, "Attention");
            var qs = S(q, "Attention", DType.Float32);
            var ks = S(k, "Attention", DType.Float32);
            var vs = S(v, "Attention", DType.Float32);
            var os = S(output, "Attention", DType.Float32);
            var ls = S(lse, "Attention", DType.Float32);
            var ms = keyMask is null ? null : S(keyMask, "Attention", DType.Float32);
            var bs = bias is null ? null : S(bias, "Attention", DType.Float32);
            long rows = (long)s.Batch * s.Heads * s.QueryLength;
            long kv = (long)s.Batch * s.KvHeads * s.KeyRows;
            Need(qs, rows * s.HeadDim, "Attention"); Need(os, rows * s.ValueHeadDim, "Attention"); Need(ls, rows, "Attention");
            Need(ks, kv * s.HeadDim, "Attention"); Need(vs, kv * s.ValueHeadDim, "Attention");
            if (ms is not null) Need(ms, (long)s.Batch * s.KeyLength, "Attention");
            if (bs is not null) Need(bs, biasLayout, "Attention");
            if (rows == 0) return;
            int g = AttentionGroup;
            AttentionK(Rows((int)rows, g, s.HeadDim + s.ValueHeadDim + g), qs.F, ks.F, vs.F, ms?.F ?? Dummy, bs?.F ?? Dummy, os.F, ls.F, args);
        }
    }

    /// <inheritdoc/>
    public void AttentionBackward(in AttentionShape s, IStorage q, IStorage k, IStorage v, IStorage? keyMask, IStorage? bias, in Layout biasLayout,
        IStorage output, IStorage lse, IStorage dOutput, IStorage dq, IStorage dk, IStorage dv, IStorage? dbias)
    {
        lock (_sync)
        {
            CheckAlive();
            var args = AttnArgsOf(s, keyMask is not null, bias is not null, biasLayout, dbias is not null, "AttentionBackward");
            var qs = S(q, "AttentionBackward", DType.Float32);
            var ks = S(k, "AttentionBackward", DType.Float32);
            var vs = S(v, "AttentionBackward", DType.Float32);
            var os = S(output, "AttentionBackward", DType.Float32);
            var ls = S(lse, "AttentionBackward", DType.Float32);
            var gs = S(dOutput, "AttentionBackward", DType.Float32);
            var dqs = S(dq, "AttentionBackward", DType.Float32);
            var dks = S(dk, "AttentionBackward", DType.Float32);
            var dvs = S(dv, "AttentionBackward", DType.Float32);
            var ms = keyMask is null ? null : S(keyMask, "AttentionBackward", DType.Float32);
            var bs = bias is null ? null : S(bias, "AttentionBackward", DType.Float32);
            var dbs = dbias is null ? null : S(dbias, "AttentionBackward", DType.Float32);
            long rows = (long)s.Batch * s.Heads * s.QueryLength;
            long kvIn = (long)s.Batch * s.KvHeads * s.KeyRows;
            long kvRows = (long)s.Batch * s.KvHeads * s.KeyLength;
            long qn = rows * s.HeadDim, on = rows * s.ValueHeadDim;
            Need(qs, qn, "AttentionBackward"); Need(os, on, "AttentionBackward"); Need(gs, on, "AttentionBackward"); Need(dqs, qn, "AttentionBackward");
            Need(ls, rows, "AttentionBackward");
            Need(ks, kvIn * s.HeadDim, "AttentionBackward"); Need(vs, kvIn * s.ValueHeadDim, "AttentionBackward");
            Need(dks, kvRows * s.HeadDim, "AttentionBackward"); Need(dvs, kvRows * s.ValueHeadDim, "AttentionBackward");
            if (ms is not null) Need(ms, (long)s.Batch * s.KeyLength, "AttentionBackward");
            if (bs is not null) Need(bs, biasLayout, "AttentionBackward");
            if (dbs is not null) Need(dbs, rows * s.KeyLength, "AttentionBackward");
            int g = AttentionGroup, d = s.HeadDim, dvh = s.ValueHeadDim;
            if (rows > 0)
            {
                using var delta = Temp(DType.Float32, (int)rows);
                AttentionDeltaK((int)rows, os.F, gs.F, delta.F, dvh);
                AttentionBackwardQueryK(Rows((int)rows, g, 2 * d + dvh + g), qs.F, ks.F, vs.F, ms?.F ?? Dummy, bs?.F ?? Dummy, ls.F, delta.F, gs.F,
                    dqs.F, dbs?.F ?? Dummy, args);
                if (kvRows > 0)
                    AttentionBackwardKeyK(Rows((int)kvRows, g, 2 * d + 2 * dvh + 2 * g), qs.F, ks.F, vs.F, ms?.F ?? Dummy, bs?.F ?? Dummy, ls.F, delta.F, gs.F,
                        dks.F, dvs.F, args);
            }
            else if (kvRows > 0)
            {
                dks.F.SubView(0, kvRows * d).MemSetToZero(_stream);
                dvs.F.SubView(0, kvRows * dvh).MemSetToZero(_stream);
            }
        }
    }

    /// <inheritdoc/>
    public void CrossEntropy(IStorage logits, IStorage targets, int rows, int classes, int ignoreIndex, float labelSmoothing,
        IStorage rowLoss, IStorage lse, IStorage valid)
    {
        lock (_sync)
        {
            CheckAlive();
            var xs = S(logits, "CrossEntropy", DType.Float32);
            var ts = S(targets, "CrossEntropy", DType.Int32);
            var rl = S(rowLoss, "CrossEntropy", DType.Float32);
            var ls = S(lse, "CrossEntropy", DType.Float32);
            var vs = S(valid, "CrossEntropy", DType.Float32);
            Need(xs, (long)rows * classes, "CrossEntropy"); Need(ts, rows, "CrossEntropy");
            Need(rl, rows, "CrossEntropy"); Need(ls, rows, "CrossEntropy"); Need(vs, rows, "CrossEntropy");
            if (rows <= 0) return;
            if (classes <= 0) throw new ArgumentException($"{Name}.CrossEntropy: classes must be positive, got {classes}.");
            MarkErrorCheck(ErrorFlags.CrossEntropy, classes, ignoreIndex);
            CrossEntropyK(Rows(rows, RowGroup, RowGroup), xs.F, ts.I, rl.F, ls.F, vs.F, _errors.View.BaseView, classes, ignoreIndex,
                labelSmoothing, ErrorFlags.CrossEntropy);
        }
    }

    /// <inheritdoc/>
    public void CrossEntropyBackward(IStorage logits, IStorage targets, IStorage lse, IStorage dRowLoss, IStorage scale, int rows, int classes,
        int ignoreIndex, float labelSmoothing, IStorage dlogits)
    {
        lock (_sync)
        {
            CheckAlive();
            var xs = S(logits, "CrossEntropyBackward", DType.Float32);
            var ts = S(targets, "CrossEntropyBackward", DType.Int32);
            var ls = S(lse, "CrossEntropyBackward", DType.Float32);
            var gs = S(dRowLoss, "CrossEntropyBackward", DType.Float32);
            var sc = S(scale, "CrossEntropyBackward", DType.Float32);
            var ds = S(dlogits, "CrossEntropyBackward", DType.Float32);
            long n = (long)rows * classes;
            Need(xs, n, "CrossEntropyBackward"); Need(ds, n, "CrossEntropyBackward"); Need(ts, rows, "CrossEntropyBackward");
            Need(ls, rows, "CrossEntropyBackward"); Need(gs, rows, "CrossEntropyBackward"); Need(sc, 1, "CrossEntropyBackward");
            if (n <= 0) return;
            CrossEntropyBackwardK((int)n, xs.F, ts.I, ls.F, gs.F, sc.F, ds.F, classes, ignoreIndex, labelSmoothing);
        }
    }

    /// <inheritdoc/>
    public void Rope(IStorage x, IStorage positions, int batch, int heads, int t, int headDim, float theta, IStorage y, bool inverse)
    {
        if (headDim % 2 != 0) throw new ArgumentException($"Rope: head dimension {headDim} must be even.");
        lock (_sync)
        {
            CheckAlive();
            var xs = S(x, "Rope", DType.Float32);
            var ps = S(positions, "Rope", DType.Int32);
            var ys = S(y, "Rope", DType.Float32);
            long n = (long)batch * heads * t * headDim;
            Need(xs, n, "Rope"); Need(ys, n, "Rope"); Need(ps, (long)batch * t, "Rope");
            if (n == 0) return;
            if (!_invFreq.TryGetValue((theta, headDim), out var inv))
            {
                int half = headDim / 2;
                var host = new double[half];
                for (int i = 0; i < half; i++) host[i] = Math.Pow(theta, -2.0 * i / headDim);
                inv = _acc.Allocate1D<double>(half);
                inv.View.CopyFromCPU(_stream, new ReadOnlySpan<double>(host));
                _invFreq[(theta, headDim)] = inv;
            }
            RopeK((int)(n / 2), xs.F, ps.I, inv.View.BaseView, ys.F, heads, t, headDim, inverse ? 1 : 0);
        }
    }

    /// <inheritdoc/>
    public void AdamW(IStorage param, IStorage grad, IStorage m, IStorage v, int n, in AdamWArgs args)
    {
        lock (_sync)
        {
            CheckAlive();
            var ps = S(param, "AdamW", DType.Float32);
            var gs = S(grad, "AdamW", DType.Float32);
            var ms = S(m, "AdamW", DType.Float32);
            var vs = S(v, "AdamW", DType.Float32);
            Need(ps, n, "AdamW"); Need(gs, n, "AdamW"); Need(ms, n, "AdamW"); Need(vs, n, "AdamW");
            if (n <= 0) return;
            var a = args;
            float bc1 = 1f - MathF.Pow(a.Beta1, a.Step);
            float bc2 = 1f - MathF.Pow(a.Beta2, a.Step);
            float stepSize = a.LearningRate / bc1;
            float bc2Sqrt = MathF.Sqrt(bc2);
            float decay = 1f - a.LearningRate * a.WeightDecay;
            AdamWK(n, ps.F, gs.F, ms.F, vs.F, a.Beta1, a.Beta2, a.Epsilon, decay, stepSize, 1f / bc2Sqrt);
        }
    }
}
