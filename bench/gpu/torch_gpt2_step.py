"""PyTorch reference for `sharpt bench train-step --backend ilgpu:cuda`: the GPT-2 124M training step (forward, backward,
AdamW) of ../shared/peers/torch_gpt.py's model on CUDA in fp32 with TF32 off, timed with synchronisation.
Usage: python3 torch_gpt2_step.py [--batch 4] [--seq 64] [--steps 20]"""
import argparse, math, statistics, time
import torch, torch.nn as nn, torch.nn.functional as F

class Block(nn.Module):
    def __init__(s, C, H):
        super().__init__(); s.H = H
        s.ln_1 = nn.LayerNorm(C); s.ln_2 = nn.LayerNorm(C)
        s.c_attn = nn.Linear(C, 3 * C); s.c_proj = nn.Linear(C, C); s.c_fc = nn.Linear(C, 4 * C); s.mlp_proj = nn.Linear(4 * C, C)
    def forward(s, x):
        B, T, C = x.shape
        q, k, v = [t.view(B, T, s.H, C // s.H).transpose(1, 2) for t in s.c_attn(s.ln_1(x)).split(C, dim=2)]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True) if hasattr(F, 'scaled_dot_product_attention') else None
        x = x + s.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + s.mlp_proj(F.gelu(s.c_fc(s.ln_2(x)), approximate='tanh'))

class GPT(nn.Module):
    def __init__(s, V=50257, T=1024, L=12, H=12, C=768):
        super().__init__()
        s.wte = nn.Embedding(V, C); s.wpe = nn.Embedding(T, C)
        s.h = nn.ModuleList([Block(C, H) for _ in range(L)]); s.ln_f = nn.LayerNorm(C)
    def forward(s, idx):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1], device=idx.device))
        for b in s.h: x = b(x)
        return s.ln_f(x) @ s.wte.weight.t()

ap = argparse.ArgumentParser(); ap.add_argument('--batch', type=int, default=4); ap.add_argument('--seq', type=int, default=64)
ap.add_argument('--steps', type=int, default=20); a = ap.parse_args()
torch.backends.cuda.matmul.allow_tf32 = False; torch.backends.cudnn.allow_tf32 = False
torch.manual_seed(0); dev = 'cuda'
m = GPT().to(dev); opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
idx = torch.randint(0, 50257, (a.batch, a.seq), device=dev); tgt = torch.randint(0, 50257, (a.batch, a.seq), device=dev)
ts = []
for i in range(a.steps + 3):
    torch.cuda.synchronize(); t0 = time.perf_counter()
    loss = F.cross_entropy(m(idx).view(-1, 50257), tgt.view(-1))
    opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    torch.cuda.synchronize()
    if i >= 3: ts.append((time.perf_counter() - t0) * 1000)
print(f'torch {torch.__version__} {torch.cuda.get_device_name()} fp32 (TF32 off), GPT-2 124M, batch {a.batch}, seq {a.seq}')
print(f'ms/step: {statistics.median(ts):.2f} (min {min(ts):.2f}, max {max(ts):.2f}, {len(ts)} steps)')
