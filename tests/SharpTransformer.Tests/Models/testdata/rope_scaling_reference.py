"""Reference RoPE frequencies for RopeScalingTests: Hugging Face transformers' modeling_rope_utils formulas
(_compute_{linear_scaling,dynamic_ntk,yarn,llama3}_parameters) re-derived in plain float64 Python, no torch.
Run: python3 rope_scaling_reference.py > rope_scaling_reference.json"""
import json, math


def default_inv_freq(base, dim):
    return [1.0 / base ** (i / dim) for i in range(0, dim, 2)]


def compute(theta, dim, max_pos, rs, seq_len):
    kind = rs.get("rope_type", rs.get("type"))
    factor = rs["factor"]
    if kind == "linear":
        return [f / factor for f in default_inv_freq(theta, dim)], 1.0
    if kind == "dynamic":
        s = seq_len if seq_len > max_pos else max_pos
        base = theta * ((factor * s / max_pos) - (factor - 1)) ** (dim / (dim - 2))
        return default_inv_freq(base, dim), 1.0
    if kind == "llama3":
        inv = default_inv_freq(theta, dim)
        old = rs["original_max_position_embeddings"]
        lo, hi = rs["low_freq_factor"], rs["high_freq_factor"]
        out = []
        for f in inv:
            wl = 2 * math.pi / f
            g = f / factor if wl > old / lo else f
            if not (wl < old / hi) and not (wl > old / lo):
                sm = (old / wl - lo) / (hi - lo)
                g = (1 - sm) * g / factor + sm * g
            out.append(g)
        return out, 1.0
    if kind == "yarn":
        if "original_max_position_embeddings" in rs:
            orig = rs["original_max_position_embeddings"]
            factor = max_pos / orig
        else:
            orig = max_pos
        def get_mscale(scale, m=1.0):
            return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0
        att = rs.get("attention_factor")
        if att is None:
            m, ma = rs.get("mscale"), rs.get("mscale_all_dim")
            att = get_mscale(factor, m) / get_mscale(factor, ma) if (m and ma) else get_mscale(factor)
        beta_fast, beta_slow = rs.get("beta_fast") or 32, rs.get("beta_slow") or 1
        truncate = rs.get("truncate", True)
        def corr_dim(rot):
            return (dim * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(theta))
        low, high = corr_dim(beta_fast), corr_dim(beta_slow)
        if truncate:
            low, high = math.floor(low), math.ceil(high)
        low, high = max(low, 0), min(high, dim - 1)
        if low == high:
            high += 0.001
        pos = [theta ** (i / dim) for i in range(0, dim, 2)]
        out = []
        for j, p in enumerate(pos):
            ramp = min(max((j - low) / (high - low), 0.0), 1.0)
            extra = 1 - ramp
            out.append((1.0 / (factor * p)) * (1 - extra) + (1.0 / p) * extra)
        return out, att
    raise ValueError(kind)


cases = [
    ("linear", 10000.0, 16, 64, {"type": "linear", "factor": 4.0}, 0),
    ("dynamic-beyond", 10000.0, 16, 64, {"rope_type": "dynamic", "factor": 2.0}, 200),
    ("dynamic-within", 10000.0, 16, 64, {"rope_type": "dynamic", "factor": 2.0}, 50),
    ("yarn", 10000.0, 32, 256, {"rope_type": "yarn", "factor": 4.0}, 0),
    ("yarn-original-mscale", 10000.0, 32, 1024, {"type": "yarn", "factor": 40.0, "original_max_position_embeddings": 64,
                                                  "mscale": 0.707, "mscale_all_dim": 0.707, "beta_fast": 32, "beta_slow": 1}, 0),
    ("yarn-untruncated", 500000.0, 64, 512, {"rope_type": "yarn", "factor": 8.0, "truncate": False, "beta_fast": 16, "beta_slow": 2}, 0),
    ("yarn-attention-factor", 10000.0, 16, 128, {"rope_type": "yarn", "factor": 2.0, "attention_factor": 0.5}, 0),
    ("llama3", 500000.0, 64, 1024, {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                    "original_max_position_embeddings": 64}, 0),
]
out = []
for name, theta, dim, max_pos, rs, seq in cases:
    inv, att = compute(theta, dim, max_pos, rs, seq)
    out.append({"name": name, "rope_theta": theta, "head_dim": dim, "max_position_embeddings": max_pos, "rope_scaling": rs,
                "seq_len": seq, "inv_freq": inv, "attention_factor": att})
print(json.dumps(out, indent=1))
