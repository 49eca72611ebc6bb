using SharpTransformer.Backends;
using SharpTransformer.Tensors;
using Xunit;

namespace SharpTransformer.Conformance;

public abstract partial class BackendConformance
{
    [Theory]
    [InlineData(3, 1)]
    [InlineData(4, 7)]
    [InlineData(2, 130)]
    public void Conformance_SoftmaxAndLogSoftmax_ForwardAndBackward(int rows, int cols)
    {
        var rng = new Random(20 + cols);
        var xd = Rand(rng, rows * cols, -6f, 6f);
        var gd = Rand(rng, rows * cols);
        foreach (bool log in new[] { false, true })
        {
            var y = New(rows * cols);
            B.Softmax(Put(xd), rows, cols, y, log);
            var ye = Reference.Softmax(xd, rows, cols, log);
            var yg = Get(y);
            Close(ye, yg, 1e-5f, 1e-6f, log ? "log_softmax" : "softmax");
            var dx = New(rows * cols);
            B.SoftmaxBackward(Put(ye), Put(gd), rows, cols, dx, log);
            Close(Reference.SoftmaxBackward(ye, gd, rows, cols, log), Get(dx), 1e-4f, 1e-5f, log ? "dlog_softmax" : "dsoftmax");
        }
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void Conformance_LayerNorm_ForwardAndBackward(bool weight, bool bias)
    {
        var rng = new Random(30);
        int rows = 5, cols = 37;
        var xd = Rand(rng, rows * cols, -3f, 3f);
        var wd = weight ? Rand(rng, cols) : null;
        var bd = bias ? Rand(rng, cols) : null;
        var (ye, me, re) = Reference.LayerNorm(xd, wd, bd, rows, cols, 1e-5f);
        var x = Put(xd);
        var w = wd is null ? null : Put(wd);
        var b = bd is null ? null : Put(bd);
        var y = New(rows * cols); var mean = New(rows); var rstd = New(rows);
        B.LayerNorm(x, w, b, rows, cols, 1e-5f, y, mean, rstd);
        Close(ye, Get(y), 1e-4f, 1e-5f, "layer_norm y");
        Close(me, Get(mean), 1e-5f, 1e-6f, "layer_norm mean");
        Close(re, Get(rstd), 1e-5f, 1e-6f, "layer_norm rstd");

        var gd = Rand(rng, rows * cols);
        var (dxe, dwe, dbe) = Reference.NormBackward(xd, wd, me, re, gd, rows, cols, rms: false);
        var dx = New(rows * cols);
        var dw = weight ? New(cols) : null;
        var db = bias ? New(cols) : null;
        B.LayerNormBackward(x, w, mean, rstd, Put(gd), rows, cols, dx, dw, db);
        Close(dxe, Get(dx), 1e-4f, 1e-5f, "layer_norm dx");
        if (dw is not null) Close(dwe, Get(dw), 1e-4f, 1e-5f, "layer_norm dweight");
        if (db is not null) Close(dbe, Get(db), 1e-4f, 1e-5f, "layer_norm dbias");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Conformance_RmsNorm_ForwardAndBackward(bool weight)
    {
        var rng = new Random(31);
        int rows = 4, cols = 29;
        var xd = Rand(rng, rows * cols, -3f, 3f);
        var wd = weight ? Rand(rng, cols) : null;
        var (ye, re) = Reference.RmsNorm(xd, wd, rows, cols, 1e-6f);
        var x = Put(xd);
        var w = wd is null ? null : Put(wd);
        var y = New(rows * cols); var rstd = New(rows);
        B.RmsNorm(x, w, rows, cols, 1e-6f, y, rstd);
        Close(ye, Get(y), 1e-4f, 1e-5f, "rms_norm y");
        Close(re, Get(rstd), 1e-5f, 1e-6f, "rms_norm rstd");
        var gd = Rand(rng, rows * cols);
        var (dxe, dwe, _) = Reference.NormBackward(xd, wd, new float[rows], re, gd, rows, cols, rms: true);
        var dx = New(rows * cols);
        var dw = weight ? New(cols) : null;
        B.RmsNormBackward(x, w, rstd, Put(gd), rows, cols, dx, dw);
        Close(dxe, Get(dx), 1e-4f, 1e-5f, "rms_norm dx");
        if (dw is not null) Close(dwe, Get(dw), 1e-4f, 1e-5f, "rms_norm dweight");
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.1f)]
    public void Conformance_CrossEntropy_IgnoreIndexAndLabelSmoothing(float smoothing)
    {
        var rng = new Random(40);
        int rows = 6, classes = 11, ignore = -100;
        var ld = Rand(rng, rows * classes, -4f, 4f);
        var td = new[] { 3, ignore, 0, 10, 5, ignore };
        var dRow = Rand(rng, rows, 0.5f, 1.5f);
        var (le, lsee, ve, de) = Reference.CrossEntropy(ld, td, rows, classes, ignore, smoothing, dRow, 0.25f);
        var logits = Put(ld); var targets = PutI(td);
        var loss = New(rows); var lse = New(rows); var valid = New(rows);
        B.CrossEntropy(logits, targets, rows, classes, ignore, smoothing, loss, lse, valid);
        Close(le, Get(loss), 1e-5f, 1e-6f, "row loss");
        Close(lsee, Get(lse), 1e-5f, 1e-6f, "lse");
        Assert.Equal(ve, Get(valid));
        var d = New(rows * classes);
        B.CrossEntropyBackward(logits, targets, lse, Put(dRow), Put([0.25f]), rows, classes, ignore, smoothing, d);
        Close(de, Get(d), 1e-4f, 1e-6f, "dlogits");
    }

    [Fact]
    public void Conformance_CrossEntropy_TargetOutOfRangeThrows()
    {
        var loss = New(2);
        var ex = Assert.ThrowsAny<Exception>(() =>
        {
            B.CrossEntropy(Put([1, 2, 3, 4, 5, 6]), PutI([1, 7]), 2, 3, -100, 0f, loss, New(2), New(2));
            Get(loss);
        });
        Assert.IsType<ArgumentOutOfRangeException>(ex);
        Assert.Contains("7", ex.Message);
    }

    [Fact]
    public void Conformance_Rope_ForwardAndInverse()
    {
        var rng = new Random(50);
        int batch = 2, heads = 3, t = 4, d = 8;
        var xd = Rand(rng, batch * heads * t * d);
        var pos = new[] { 0, 1, 2, 3, 7, 100, 2049, 5 };
        var y = New(xd.Length);
        var x = Put(xd);
        var p = PutI(pos);
        B.Rope(x, p, batch, heads, t, d, 10000f, y, inverse: false);
        Close(Reference.Rope(xd, pos, batch, heads, t, d, 10000f, false), Get(y), 1e-5f, 1e-6f, "rope");
        var back = New(xd.Length);
        B.Rope(y, p, batch, heads, t, d, 10000f, back, inverse: true);
        Close(xd, Get(back), 1e-5f, 1e-5f, "rope inverse");
    }

    [Fact]
    public void Conformance_AdamW_MatchesReferenceOverSteps()
    {
        var rng = new Random(60);
        int n = 301;
        var pd = Rand(rng, n); var md = new float[n]; var vd = new float[n];
        var p = Put(pd); var m = Put(md); var v = Put(vd);
        for (int step = 1; step <= 3; step++)
        {
            var gd = Rand(rng, n);
            var args = new AdamWArgs(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, step);
            Reference.AdamW(pd, gd, md, vd, args);
            B.AdamW(p, Put(gd), m, v, n, args);
        }
        Close(md, Get(m), 1e-5f, 1e-7f, "m");
        Close(vd, Get(v), 1e-5f, 1e-7f, "v");
        Close(pd, Get(p), 1e-5f, 1e-6f, "p");
    }

    public static TheoryData<string> AttentionCases => new()
    {
        "causal-gqa", "cross-mask", "bias-broadcast", "kv-cache", "masked-row", "decode",
        // Value head size different from the query-key head size (latent attention), sliding windows (Mistral), T5-style bias.
        "latent-dv", "latent-dv-cross-mask", "window-gqa-t5-bias", "window-1", "window-covers-all", "window-cache-dv-decode",
        "window-mask-bias-dv", "window-long-tiles",
    };

    [Theory]
    [MemberData(nameof(AttentionCases))]
    public void Conformance_Attention_ForwardAndBackward(string name)
    {
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal) & 0xffff);
        AttentionShape s = name switch
        {
            "causal-gqa" => new(2, 4, 2, 5, 5, 8, true, 1f / MathF.Sqrt(8)),
            "cross-mask" => new(2, 2, 2, 3, 6, 4, false, 0.5f),
            "bias-broadcast" => new(1, 2, 1, 4, 9, 6, true, 0.4f),
            "kv-cache" => new(2, 2, 1, 3, 6, 4, true, 0.5f, KeyCapacity: 10),
            "masked-row" => new(1, 1, 1, 2, 3, 4, false, 0.5f),
            "decode" => new(2, 2, 2, 1, 7, 4, true, 0.5f, KeyCapacity: 8),
            "latent-dv" => new(2, 4, 2, 5, 5, 6, true, 0.4f, ValueDim: 3),
            "latent-dv-cross-mask" => new(2, 2, 1, 3, 6, 4, false, 0.5f, ValueDim: 7),
            "window-gqa-t5-bias" => new(2, 4, 2, 6, 6, 4, true, 1f, Window: 2),
            "window-1" => new(1, 2, 1, 3, 7, 4, true, 0.5f, Window: 1),
            "window-covers-all" => new(1, 2, 2, 4, 4, 4, true, 0.5f, Window: 9),
            "window-cache-dv-decode" => new(2, 2, 1, 2, 7, 4, true, 0.5f, KeyCapacity: 9, ValueDim: 5, Window: 3),
            "window-mask-bias-dv" => new(2, 2, 2, 5, 8, 3, true, 0.6f, ValueDim: 6, Window: 4),
            "window-long-tiles" => new(1, 2, 1, 150, 200, 4, true, 0.3f, ValueDim: 3, Window: 70),
            _ => throw new ArgumentException(name),
        };
        int D = s.HeadDim, Dv = s.ValueHeadDim;
        var qd = Rand(rng, s.Batch * s.Heads * s.QueryLength * D);
        var kd = Rand(rng, s.Batch * s.KvHeads * s.KeyRows * D);
        var vd = Rand(rng, s.Batch * s.KvHeads * s.KeyRows * Dv);
        float[]? maskd = name switch
        {
            "cross-mask" or "latent-dv-cross-mask" or "window-mask-bias-dv" =>
                Enumerable.Range(0, s.Batch * s.KeyLength).Select(i => i % 4 == 1 ? 0f : 1f).ToArray(),
            "masked-row" => new float[s.KeyLength],                  // every key masked: the rows get zeros
            _ => null,
        };
        float[]? biasd = null;
        var biasLayout = default(Layout);
        if (name == "bias-broadcast")
        {
            // (1, Heads, 1, KeyLength) broadcast over batch and queries.
            biasd = Rand(rng, s.Heads * s.KeyLength + 2);
            biasLayout = new Layout([s.Batch, s.Heads, s.QueryLength, s.KeyLength], [0, s.KeyLength, 0, 1], 2);
        }
        else if (name == "window-gqa-t5-bias")
        {
            // T5's relative-position bias: (1, Heads, QueryLength, KeyLength) shared by the batch.
            biasd = Rand(rng, s.Heads * s.QueryLength * s.KeyLength);
            biasLayout = new Layout([s.Batch, s.Heads, s.QueryLength, s.KeyLength], [0, s.QueryLength * s.KeyLength, s.KeyLength, 1]);
        }
        else if (name == "window-mask-bias-dv")
        {
            biasd = Rand(rng, s.Batch * s.Heads * s.QueryLength * s.KeyLength);
            biasLayout = Layout.Contiguous([s.Batch, s.Heads, s.QueryLength, s.KeyLength]);
        }
        var dOd = Rand(rng, s.Batch * s.Heads * s.QueryLength * Dv);
        var r = Reference.Attention(s, qd, kd, vd, maskd, biasd, biasLayout, dOd);

        var q = Put(qd); var k = Put(kd); var v = Put(vd);
        var mask = maskd is null ? null : Put(maskd);
        var bias = biasd is null ? null : Put(biasd);
        var o = New(dOd.Length); var lse = New(s.Batch * s.Heads * s.QueryLength);
        B.Attention(s, q, k, v, mask, bias, biasLayout, o, lse);
        Close(r.O, Get(o), 1e-4f, 1e-5f, $"{name} output");
        Close(r.Lse, Get(lse), 1e-5f, 1e-5f, $"{name} lse");

        var dq = New(qd.Length, zero: false);
        var dk = New(s.Batch * s.KvHeads * s.KeyLength * D, zero: false); var dv = New(s.Batch * s.KvHeads * s.KeyLength * Dv, zero: false);
        var dbias = bias is null ? null : New(s.Batch * s.Heads * s.QueryLength * s.KeyLength, zero: false);
        B.AttentionBackward(s, q, k, v, mask, bias, biasLayout, o, lse, Put(dOd), dq, dk, dv, dbias);
        Close(r.Dq, Get(dq), 1e-4f, 1e-5f, $"{name} dq");
        Close(r.Dk, Get(dk), 1e-4f, 1e-5f, $"{name} dk");
        Close(r.Dv, Get(dv), 1e-4f, 1e-5f, $"{name} dv");
        if (dbias is not null) Close(r.Dbias, Get(dbias), 1e-4f, 1e-5f, $"{name} dbias");
    }
}
