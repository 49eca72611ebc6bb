"""Oracle for a tiny T5 v1.1-style model (gated-GELU feed-forward with the tanh GELU, untied head without the d_model^-0.5
rescale, d_kv * heads != d_model), written from the T5 paper / Hugging Face's documented behaviour in plain PyTorch (float64).
Writes t5-v11-tiny/{config.json, model.safetensors, expected.safetensors, expected.json} in the layout of
../shared/fixtures-seq2seq (see its README). Run with /usr/bin/python3 (Debian's python3-torch)."""
import json, math, os, struct
import torch

torch.manual_seed(0)
V, C, DKV, H, F, L, NB, MD = 32, 16, 6, 2, 24, 2, 8, 20
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "t5-v11-tiny")
os.makedirs(out, exist_ok=True)
config = {"model_type": "t5", "architectures": ["T5ForConditionalGeneration"], "vocab_size": V, "d_model": C, "d_kv": DKV,
          "d_ff": F, "num_layers": L, "num_decoder_layers": L, "num_heads": H, "relative_attention_num_buckets": NB,
          "relative_attention_max_distance": MD, "layer_norm_epsilon": 1e-6, "feed_forward_proj": "gated-gelu",
          "tie_word_embeddings": False, "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0, "dropout_rate": 0.0}

W = {}
def p(name, *shape, std=0.3):
    # Rounded to float32 (what the file stores), computed in float64.
    W[name] = (torch.randn(*shape, dtype=torch.float64) * std).float().double().requires_grad_()
p("shared.weight", V, C, std=1.0)
for stack in ("encoder", "decoder"):
    for i in range(L):
        b = f"{stack}.block.{i}.layer."
        for m in "qkvo":
            p(b + f"0.SelfAttention.{m}.weight", *((H * DKV, C) if m != "o" else (C, H * DKV)))
        if i == 0: p(b + "0.SelfAttention.relative_attention_bias.weight", NB, H, std=0.5)
        p(b + "0.layer_norm.weight", C, std=0.2); W[b + "0.layer_norm.weight"].data += 1.0
        f = 1
        if stack == "decoder":
            for m in "qkvo":
                p(b + f"1.EncDecAttention.{m}.weight", *((H * DKV, C) if m != "o" else (C, H * DKV)))
            p(b + "1.layer_norm.weight", C, std=0.2); W[b + "1.layer_norm.weight"].data += 1
            f = 2
        p(b + f"{f}.DenseReluDense.wi_0.weight", F, C)
        p(b + f"{f}.DenseReluDense.wi_1.weight", F, C)
        p(b + f"{f}.DenseReluDense.wo.weight", C, F)
        p(b + f"{f}.layer_norm.weight", C, std=0.2); W[b + f"{f}.layer_norm.weight"].data += 1
    p(f"{stack}.final_layer_norm.weight", C, std=0.2); W[f"{stack}.final_layer_norm.weight"].data += 1
p("lm_head.weight", V, C)

def norm(x, w): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w
def gelu_new(x): return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))

def bucket(rel, bidirectional):
    n, r = NB, rel
    ret = torch.zeros_like(r)
    if bidirectional:
        n //= 2
        ret += (r > 0).long() * n
        r = r.abs()
    else:
        r = -torch.minimum(r, torch.zeros_like(r))
    exact = n // 2
    large = exact + (torch.log(r.float() / exact) / math.log(MD / exact) * (n - exact)).long()
    large = torch.minimum(large, torch.full_like(large, n - 1))
    return ret + torch.where(r < exact, r, large)

def pos_bias(table, tq, tk, bidirectional):
    rel = torch.arange(tk)[None, :] - torch.arange(tq)[:, None]
    return table[bucket(rel, bidirectional)].permute(2, 0, 1)[None]        # (1, H, Tq, Tk)

def attend(x, kv, pre, bias, key_mask, causal):
    B, T, _ = x.shape; S = kv.shape[1]
    q = (x @ W[pre + "q.weight"].T).view(B, T, H, DKV).transpose(1, 2)
    k = (kv @ W[pre + "k.weight"].T).view(B, S, H, DKV).transpose(1, 2)
    v = (kv @ W[pre + "v.weight"].T).view(B, S, H, DKV).transpose(1, 2)
    s = q @ k.transpose(-1, -2)                                            # no 1/sqrt(d)
    if bias is not None: s = s + bias
    if key_mask is not None: s = s.masked_fill(key_mask[:, None, None, :] == 0, float("-inf"))
    if causal: s = s.masked_fill(torch.ones(T, S).triu(1).bool(), float("-inf"))
    y = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H * DKV)
    return y @ W[pre + "o.weight"].T

def ff(x, pre):
    return (gelu_new(x @ W[pre + "wi_0.weight"].T) * (x @ W[pre + "wi_1.weight"].T)) @ W[pre + "wo.weight"].T

def encode(ids, mask):
    x = W["shared.weight"][ids]
    bias = pos_bias(W["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], ids.shape[1], ids.shape[1], True)
    for i in range(L):
        b = f"encoder.block.{i}.layer."
        x = x + attend(norm(x, W[b + "0.layer_norm.weight"]), norm(x, W[b + "0.layer_norm.weight"]), b + "0.SelfAttention.", bias, mask, False)
        x = x + ff(norm(x, W[b + "1.layer_norm.weight"]), b + "1.DenseReluDense.")
    return norm(x, W["encoder.final_layer_norm.weight"])

def decode(dec, enc, mask):
    x = W["shared.weight"][dec]
    bias = pos_bias(W["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], dec.shape[1], dec.shape[1], False)
    for i in range(L):
        b = f"decoder.block.{i}.layer."
        h = norm(x, W[b + "0.layer_norm.weight"])
        x = x + attend(h, h, b + "0.SelfAttention.", bias, None, True)
        x = x + attend(norm(x, W[b + "1.layer_norm.weight"]), enc, b + "1.EncDecAttention.", None, mask, False)
        x = x + ff(norm(x, W[b + "2.layer_norm.weight"]), b + "2.DenseReluDense.")
    return norm(x, W["decoder.final_layer_norm.weight"]) @ W["lm_head.weight"].T   # untied: no rescale

ids = torch.tensor([[5, 9, 13, 17, 21, 25, 29, 6, 1], [10, 14, 18, 22, 1, 0, 0, 0, 0]])
mask = (torch.arange(9)[None, :] < torch.tensor([[9], [5]])).long()
labels = torch.tensor([[7, 3, 11, 30, 2, 8, 1], [12, 19, 1, -100, -100, -100, -100]])
dec = torch.cat([torch.zeros(2, 1, dtype=torch.long), labels[:, :-1].clamp(min=0)], 1)
enc = encode(ids, mask)
logits = decode(dec, enc, mask)
loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100)
loss.backward()

greedy_src = [5, 9, 13, 17, 21, 25, 29, 6, 1]
with torch.no_grad():
    e = encode(torch.tensor([greedy_src]), torch.ones(1, 9, dtype=torch.long))
    seq = [0]
    for _ in range(8):
        row = decode(torch.tensor([seq]), e, torch.ones(1, 9, dtype=torch.long))[0, -1]
        top = row.topk(2).values
        assert top[0] - top[1] > 1e-3, f"greedy step {len(seq)}: the two best logits are {top.tolist()}, too close to be exact"
        nxt = int(row.argmax())
        seq.append(nxt)
        if nxt == 1: break

def save(path, tensors):
    header, blobs, off = {}, [], 0
    for name, (dtype, t) in tensors.items():
        data = t.contiguous().numpy().tobytes() if dtype != "I64" else t.to(torch.int64).contiguous().numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data); off += len(data)
    h = json.dumps(header).encode(); h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h); [f.write(b) for b in blobs]

save(os.path.join(out, "model.safetensors"), {n: ("F32", w.detach().float()) for n, w in W.items()})
exp = {"input_ids": ("I64", ids), "attention_mask": ("I64", mask), "decoder_input_ids": ("I64", dec), "labels": ("I64", labels),
       "encoder_last_hidden_state": ("F32", enc.detach().float()), "logits": ("F32", logits.detach().float()),
       "loss": ("F32", loss.detach().float().reshape(1))}
exp.update({"grad." + n: ("F32", w.grad.float()) for n, w in W.items()})
save(os.path.join(out, "expected.safetensors"), exp)
with open(os.path.join(out, "config.json"), "w") as f: json.dump(config, f, indent=2)
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({"model": "T5 v1.1-style (gated-gelu, untied), random weights; PyTorch float64 reference written from the paper",
               "loss": loss.item(), "greedy_source_ids": greedy_src, "greedy_new_ids": seq[1:]}, f, indent=2)
print("loss", loss.item(), "greedy", seq[1:])
