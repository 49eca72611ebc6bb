using ILGPU;
using ILGPU.Runtime;
using SharpTransformer.Ilgpu.Kernels;

namespace SharpTransformer.Ilgpu;

// Compiled kernels, loaded on first use and cached for the backend's lifetime.
public sealed partial class IlgpuBackend
{
    private Action<Index1D, ArrayView<float>, Strided, float>? _fillF;
    private Action<Index1D, ArrayView<int>, Strided, int>? _fillI;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Strided>? _copyFF;
    private Action<Index1D, ArrayView<int>, ArrayView<int>, Strided>? _copyII;
    private Action<Index1D, ArrayView<int>, ArrayView<float>, Strided>? _copyIF;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, Strided>? _copyFI;
    private Action<Index1D, ArrayView<float>>? _arangeF;
    private Action<Index1D, ArrayView<int>>? _arangeI;
    private Action<Index1D, ArrayView<float>, int, float, float, ulong, ulong>? _random;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Strided, int, float>? _unary;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>? _unaryBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Strided, int>? _binary;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Strided>? _where;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Strided, int, int, int>? _reduceThread;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, Strided, int, int>? _argMaxThread;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, Strided, int, int, int>? _reduceGroup;
    private Action<KernelConfig, ArrayView<float>, ArrayView<int>, Strided, int, int>? _argMaxGroup;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int>? _sumSquaresPartial;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int>? _sumInto;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>? _gemm;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>? _gemmTiled;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>? _splitKReduce;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, int, int, int>? _gather;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, int, int, int>? _scatterAdd;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int>? _softmax;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>? _softmaxBackward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int, int>? _layerNorm;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>? _layerNormBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>? _layerNormParamGrad;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int>? _rmsNorm;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>? _rmsNormBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>? _rmsNormParamGrad;
    private Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, float, int>? _crossEntropy;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>? _crossEntropyBackward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttnArgs>? _attention;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _attentionDelta;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttnArgs>? _attentionBackwardQuery;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttnArgs>? _attentionBackwardKey;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<double>, ArrayView<float>, int, int, int, int>? _rope;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, float, float>? _adamW;

    private Action<Index1D, ArrayView<float>, Strided, float> FillFK => _fillF ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, Strided, float>(ElementwiseKernels.FillF);
    private Action<Index1D, ArrayView<int>, Strided, int> FillIK => _fillI ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, Strided, int>(ElementwiseKernels.FillI);
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Strided> CopyFFK => _copyFF ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, Strided>(ElementwiseKernels.CopyFF);
    private Action<Index1D, ArrayView<int>, ArrayView<int>, Strided> CopyIIK => _copyII ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, Strided>(ElementwiseKernels.CopyII);
    private Action<Index1D, ArrayView<int>, ArrayView<float>, Strided> CopyIFK => _copyIF ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<float>, Strided>(ElementwiseKernels.CopyIF);
    private Action<Index1D, ArrayView<float>, ArrayView<int>, Strided> CopyFIK => _copyFI ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, Strided>(ElementwiseKernels.CopyFI);
    private Action<Index1D, ArrayView<float>> ArangeFK => _arangeF ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>>(ElementwiseKernels.ArangeF);
    private Action<Index1D, ArrayView<int>> ArangeIK => _arangeI ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>>(ElementwiseKernels.ArangeI);
    private Action<Index1D, ArrayView<float>, int, float, float, ulong, ulong> RandomK => _random ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, float, float, ulong, ulong>(ElementwiseKernels.RandomFill);
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Strided, int, float> UnaryK => _unary ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, Strided, int, float>(ElementwiseKernels.Unary);
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> UnaryBackwardK => _unaryBackward ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(ElementwiseKernels.UnaryBackward);
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Strided, int> BinaryK => _binary ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Strided, int>(ElementwiseKernels.Binary);
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Strided> WhereK => _where ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Strided>(ElementwiseKernels.Where);
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Strided, int, int, int> ReduceThreadK => _reduceThread ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, Strided, int, int, int>(ReduceKernels.Thread);
    private Action<Index1D, ArrayView<float>, ArrayView<int>, Strided, int, int> ArgMaxThreadK => _argMaxThread ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, Strided, int, int>(ReduceKernels.ArgMaxThread);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, Strided, int, int, int> ReduceGroupK => _reduceGroup ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, Strided, int, int, int>(ReduceKernels.Group);
    private Action<KernelConfig, ArrayView<float>, ArrayView<int>, Strided, int, int> ArgMaxGroupK => _argMaxGroup ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<int>, Strided, int, int>(ReduceKernels.ArgMaxGroup);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int> SumSquaresPartialK => _sumSquaresPartial ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(ReduceKernels.SumSquaresPartial);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int> SumIntoK => _sumInto ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(ReduceKernels.SumInto);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs> GemmK => _gemm ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(GemmKernels.Gemm);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs> GemmTiledK => _gemmTiled ??= GemmTile switch
    {
        16 => _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(RegisterTiledGemmKernels.Gemm<GemmTile16>),
        8 => _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(RegisterTiledGemmKernels.Gemm<GemmTile8>),
        4 => _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(RegisterTiledGemmKernels.Gemm<GemmTile4>),
        2 => _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(RegisterTiledGemmKernels.Gemm<GemmTile2>),
        _ => throw new NotSupportedException($"{Name}: no register-tiled GEMM for groups of {GemmTile}x{GemmTile} threads."),
    };
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int> SplitKReduceK => _splitKReduce ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(RegisterTiledGemmKernels.SplitKReduce);
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, int, int, int> GatherK => _gather ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, int, int, int>(MiscKernels.Gather);
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, int, int, int> ScatterAddK => _scatterAdd ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, int, int, int>(MiscKernels.ScatterAdd);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int> SoftmaxK => _softmax ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int>(RowKernels.Softmax);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> SoftmaxBackwardK => _softmaxBackward ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(RowKernels.SoftmaxBackward);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int, int> LayerNormK => _layerNorm ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int, int>(RowKernels.LayerNorm);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> LayerNormBackwardK => _layerNormBackward ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(RowKernels.LayerNormBackward);
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> LayerNormParamGradK => _layerNormParamGrad ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(RowKernels.LayerNormParamGrad);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int> RmsNormK => _rmsNorm ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int>(RowKernels.RmsNorm);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> RmsNormBackwardK => _rmsNormBackward ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(RowKernels.RmsNormBackward);
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> RmsNormParamGradK => _rmsNormParamGrad ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(RowKernels.RmsNormParamGrad);
    private Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, float, int> CrossEntropyK => _crossEntropy ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, float, int>(RowKernels.CrossEntropy);
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> CrossEntropyBackwardK => _crossEntropyBackward ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(RowKernels.CrossEntropyBackward);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttnArgs> AttentionK => _attention ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttnArgs>(AttentionKernels.Forward);
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> AttentionDeltaK => _attentionDelta ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(AttentionKernels.Delta);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttnArgs> AttentionBackwardQueryK => _attentionBackwardQuery ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttnArgs>(AttentionKernels.BackwardQuery);
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttnArgs> AttentionBackwardKeyK => _attentionBackwardKey ??= _acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttnArgs>(AttentionKernels.BackwardKey);
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<double>, ArrayView<float>, int, int, int, int> RopeK => _rope ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<double>, ArrayView<float>, int, int, int, int>(MiscKernels.Rope);
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, float, float> AdamWK => _adamW ??= _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, float, float>(MiscKernels.AdamW);

    /// <summary>Every kernel entry point with whether it is explicitly grouped (used to compile them all for PTX and OpenCL in tests).</summary>
    internal static IReadOnlyList<(System.Reflection.MethodInfo Method, bool Explicit)> KernelMethods()
    {
        var list = new List<(System.Reflection.MethodInfo, bool)>();
        foreach (var type in new[] { typeof(ElementwiseKernels), typeof(ReduceKernels), typeof(RowKernels), typeof(GemmKernels), typeof(AttentionKernels), typeof(MiscKernels) })
            foreach (var m in type.GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static))
            {
                var ps = m.GetParameters();
                if (m.ReturnType != typeof(void) || ps.Length == 0) continue;
                bool implicitIndex = ps[0].ParameterType == typeof(Index1D);
                bool explicitKernel = ps[0].ParameterType.IsGenericType && ps[0].ParameterType.GetGenericTypeDefinition() == typeof(ArrayView<>);
                if (implicitIndex || explicitKernel) list.Add((m, !implicitIndex));
            }
        var tiled = typeof(RegisterTiledGemmKernels).GetMethod(nameof(RegisterTiledGemmKernels.Gemm))!;
        foreach (var tile in new[] { typeof(GemmTile16), typeof(GemmTile8), typeof(GemmTile4), typeof(GemmTile2) })
            list.Add((tiled.MakeGenericMethod(tile), true));
        list.Add((typeof(RegisterTiledGemmKernels).GetMethod(nameof(RegisterTiledGemmKernels.SplitKReduce))!, false));
        return list;
    }

    private KernelConfig Rows(int rows, int group, int sharedFloats) =>
        new(new Index1D(rows), new Index1D(group), SharedMemoryConfig.RequestDynamic<float>(Math.Max(1, sharedFloats)));
}
