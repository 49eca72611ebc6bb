"""Makes alignment-oracle.json: DPO (sigmoid, cDPO, IPO) and GRPO losses, their gradients and metrics, computed by PyTorch
in float64 from float32-representable inputs, following TRL's DPOTrainer.dpo_loss and GRPOTrainer._compute_loss.

Run from this folder: /usr/bin/python3 make_oracle.py   (PyTorch 1.13 CPU, Debian's python3-torch)
"""
import json
import torch
import torch.nn.functional as F

torch.manual_seed(1234)


def f32(t):
    # Values exactly representable in float32, held in float64.
    return t.to(torch.float32).to(torch.float64)


def dpo_case(name, loss_type, beta, label_smoothing, b=6):
    pc = f32(torch.randn(b, dtype=torch.float64) * 3 - 20)
    pr = f32(torch.randn(b, dtype=torch.float64) * 3 - 22)
    rc = f32(pc + torch.randn(b, dtype=torch.float64) * 2)
    rr = f32(pr + torch.randn(b, dtype=torch.float64) * 2)
    pc.requires_grad_(True)
    pr.requires_grad_(True)
    logits = (pc - pr) - (rc - rr)
    if loss_type == "sigmoid":
        losses = -F.logsigmoid(beta * logits) * (1 - label_smoothing) - F.logsigmoid(-beta * logits) * label_smoothing
    elif loss_type == "ipo":
        losses = (logits - 1 / (2 * beta)) ** 2
    else:
        raise ValueError(loss_type)
    loss = losses.mean()
    loss.backward()
    chosen_rewards = beta * (pc - rc).detach()
    rejected_rewards = beta * (pr - rr).detach()
    return {
        "name": name, "loss_type": loss_type, "beta": beta, "label_smoothing": label_smoothing,
        "policy_chosen": pc.tolist(), "policy_rejected": pr.tolist(), "reference_chosen": rc.tolist(), "reference_rejected": rr.tolist(),
        "loss": loss.item(), "grad_policy_chosen": pc.grad.tolist(), "grad_policy_rejected": pr.grad.tolist(),
        "rewards_chosen": chosen_rewards.tolist(), "rewards_rejected": rejected_rewards.tolist(),
        "rewards_accuracies": (chosen_rewards > rejected_rewards).double().mean().item(),
        "rewards_margins": (chosen_rewards - rejected_rewards).mean().item(),
    }


def grpo_case(name, loss_type, beta, eps_low, eps_high, group, b=8, t=6, spread=0.3):
    logps = f32(-torch.rand(b, t, dtype=torch.float64) * 4 - 0.05)
    old = f32(logps + torch.randn(b, t, dtype=torch.float64) * spread)
    ref = f32(logps + torch.randn(b, t, dtype=torch.float64) * 0.5)
    lengths = torch.randint(1, t + 1, (b,))
    mask = (torch.arange(t)[None, :] < lengths[:, None]).double()
    rewards = torch.randint(0, 3, (b,)).double()
    rewards[:group] = 1.0                                       # one group with zero spread: advantages 0
    mean = rewards.view(-1, group).mean(dim=1).repeat_interleave(group)
    std = rewards.view(-1, group).std(dim=1).repeat_interleave(group)
    advantages = (rewards - mean) / (std + 1e-4)
    adv32 = f32(advantages)
    logps = logps * mask                                        # 0 off the completion, as SequenceLogProbs gives
    old = old * mask
    ref = ref * mask
    x = logps.clone().requires_grad_(True)
    coef_1 = torch.exp(x - old)
    coef_2 = torch.clamp(coef_1, 1 - eps_low, 1 + eps_high)
    per_token_loss1 = coef_1 * adv32.unsqueeze(1)
    per_token_loss2 = coef_2 * adv32.unsqueeze(1)
    per_token_loss = -torch.min(per_token_loss1, per_token_loss2)
    per_token_kl = torch.exp(ref - x) - (ref - x) - 1
    if beta != 0.0:
        per_token_loss = per_token_loss + beta * per_token_kl
    if loss_type == "grpo":
        loss = ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    elif loss_type == "bnpo":
        loss = (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0)
    else:
        raise ValueError(loss_type)
    loss.backward()
    is_low = (coef_1 < 1 - eps_low) & (adv32.unsqueeze(1) < 0)
    is_high = (coef_1 > 1 + eps_high) & (adv32.unsqueeze(1) > 0)
    clip_ratio = ((is_low | is_high).double() * mask).sum() / mask.sum()
    kl = (per_token_kl.detach() * mask).sum() / mask.sum() if beta != 0.0 else torch.tensor(0.0)
    return {
        "name": name, "loss_type": loss_type, "beta": beta, "epsilon": eps_low, "epsilon_high": eps_high, "group_size": group,
        "batch": b, "length": t, "log_probs": logps.flatten().tolist(), "old_log_probs": old.flatten().tolist(),
        "reference_log_probs": ref.flatten().tolist(), "mask": mask.flatten().tolist(), "rewards": rewards.tolist(),
        "advantages": advantages.tolist(), "loss": loss.item(), "grad_log_probs": x.grad.flatten().tolist(),
        "kl": kl.item(), "clip_ratio": clip_ratio.item(),
    }


oracle = {
    "source": "make_oracle.py, PyTorch " + torch.__version__ + ", float64",
    "dpo": [
        dpo_case("sigmoid beta 0.1", "sigmoid", 0.1, 0.0),
        dpo_case("sigmoid beta 0.5 cDPO 0.1", "sigmoid", 0.5, 0.1),
        dpo_case("ipo beta 0.1", "ipo", 0.1, 0.0),
    ],
    "grpo": [
        grpo_case("grpo beta 0.04 eps 0.2", "grpo", 0.04, 0.2, 0.2, group=4),
        grpo_case("bnpo beta 0 eps 0.2/0.28", "bnpo", 0.0, 0.2, 0.28, group=2),
        grpo_case("grpo beta 0.1 eps 0.1 wide ratios", "grpo", 0.1, 0.1, 0.1, group=4, spread=0.6),
    ],
}
with open("alignment-oracle.json", "w") as f:
    json.dump(oracle, f, indent=1)
print("wrote alignment-oracle.json")
