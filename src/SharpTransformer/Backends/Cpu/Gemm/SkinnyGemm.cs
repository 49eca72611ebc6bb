namespace SharpTransformer.Backends.Cpu;

internal static unsafe class SkinnyGemm
{
    public static bool TryRun(int level, bool transA, bool transB, int m, int n, int k, float* a, nint lda, float* b, nint ldb,
        float* c, nint ldc, bool accumulate, int threads) => false;
}
