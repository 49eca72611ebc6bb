"""cuBLAS / PyTorch reference timings for bench/RESULTS.md: fp32 GEMM with TF32 off, and fp32 causal attention.

Usage: python3 torch_reference.py 4096x4096x4096:nn 2048x768x3072:nt ... [--attention B,H,T,D]
Each shape is MxKxN; 'nn' multiplies A (MxK) by B stored KxN, 'nt' by B stored NxK (a Linear weight), like
`sharpt bench gemm [--transpose-b]`. Timing: CUDA events around repeated calls after a warm-up; median of samples.
"""
import statistics
import sys

import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.set_float32_matmul_precision("highest")


def time_ms(fn, min_ms=100.0, samples=9):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    reps = 1
    while True:  # size one sample to about min_ms
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        end.synchronize()
        if start.elapsed_time(end) >= min_ms or reps >= 1 << 16:
            break
        reps *= 2
    out = []
    for _ in range(samples):
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        end.synchronize()
        out.append(start.elapsed_time(end) / reps)
    return statistics.median(out)


def gemm(spec):
    dims, _, kind = spec.partition(":")
    m, k, n = (int(x) for x in dims.split("x"))
    kind = kind or "nn"
    g = torch.Generator(device="cuda").manual_seed(42)
    a = torch.rand(m, k, device="cuda", generator=g) - 0.5
    b = torch.rand(k, n, device="cuda", generator=g) - 0.5 if kind == "nn" else torch.rand(n, k, device="cuda", generator=g) - 0.5
    c = torch.empty(m, n, device="cuda")
    fn = (lambda: torch.matmul(a, b, out=c)) if kind == "nn" else (lambda: torch.matmul(a, b.t(), out=c))
    ms = time_ms(fn)
    gflops = 2.0 * m * n * k / (ms / 1e3) / 1e9
    print(f"torch fp32 (TF32 off) matmul M={m} K={k} N={n} B={'KxN' if kind == 'nn' else 'NxK'}: {ms:.3f} ms, GFLOP/s: {gflops:.1f}", flush=True)


def attention(spec):
    bsz, heads, t, d = (int(x) for x in spec.split(","))
    g = torch.Generator(device="cuda").manual_seed(7)
    q, k, v = (torch.randn(bsz, heads, t, d, device="cuda", generator=g) for _ in range(3))
    fwd = time_ms(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True))
    flop = 4.0 * bsz * heads * t * t * d * 0.5
    q.requires_grad_(True), k.requires_grad_(True), v.requires_grad_(True)
    o = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    do = torch.randn_like(o)
    bwd = time_ms(lambda: torch.autograd.grad(o, (q, k, v), do, retain_graph=True))
    print(f"torch fp32 sdpa causal B={bsz} H={heads} T={t} D={d}: forward {fwd:.3f} ms ({flop / (fwd / 1e3) / 1e9:.1f} GFLOP/s), "
          f"backward {bwd:.3f} ms", flush=True)


def main(argv):
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}, "
          f"allow_tf32={torch.backends.cuda.matmul.allow_tf32}", flush=True)
    i = 0
    while i < len(argv):
        if argv[i] == "--attention":
            attention(argv[i + 1])
            i += 2
        else:
            gemm(argv[i])
            i += 1


if __name__ == "__main__":
    main(sys.argv[1:])
