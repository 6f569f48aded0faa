"""The masked per-task loss of our trainer, and its HL-Gauss soft targets for continuous actions."""
import torch
import torch.nn.functional as F


def soft_continuous_cross_entropy(logits, targets, config, sigma):
    """Continuous-bin targets become a Gaussian of width sigma bins over the bins (truncated to the
    bin range, renormalised); every other target stays one-hot. logits (N, V) fp32, targets (N)."""
    off, bins = config["continuous_offset"], config["continuous_bins"]
    if off + bins > logits.shape[1]:
        return F.cross_entropy(logits, targets, reduction="none")
    log_probs = F.log_softmax(logits, dim=1)
    hard = -log_probs.gather(1, targets.unsqueeze(1)).squeeze(1)
    bin_ = targets - off
    is_bin = (bin_ >= 0) & (bin_ < bins)
    centre = bin_.clamp(0, bins - 1).float().unsqueeze(1)
    distance = torch.arange(bins, dtype=torch.float32, device=logits.device).unsqueeze(0) - centre
    labels = torch.exp(distance.square() * (-0.5 / (sigma * sigma)))
    labels = labels / labels.sum(1, keepdim=True)
    soft = -(labels * log_probs[:, off:off + bins]).sum(1)
    return torch.where(is_bin, soft, hard)


def masked_loss(logits, batch, task_count, config, sigma=0.0):
    """Mean cross-entropy over loss-mask tokens, and per-task sums and counts (index_add by task id)."""
    flat = logits.reshape(-1, logits.shape[-1]).float()  # fp32 even under bf16 autocast
    targets = batch["targets"].reshape(-1)
    per_token = (soft_continuous_cross_entropy(flat, targets, config, sigma) if sigma > 0
                 else F.cross_entropy(flat, targets, reduction="none"))
    mask = batch["loss_mask"].reshape(-1).float()
    masked = per_token * mask
    total, count = masked.sum(), mask.sum()
    loss = total / count.clamp_min(1.0)
    ids = batch["task_ids"].reshape(-1)
    zeros = torch.zeros(task_count, dtype=torch.float32, device=flat.device)
    task_sums = zeros.index_add(0, ids, masked.detach())
    task_counts = zeros.index_add(0, ids, mask)
    return loss, task_sums, task_counts
