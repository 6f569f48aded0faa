"""Our AdamW (src/Generalist.Training/Optim/AdamW.cs over libtorch's _fused_adamw_), written out.

- Weight decay only on 2-D weights (nanoGPT's rule; the token embedding exempt when the run config
  says optimizer.decay_token_embedding false), every other parameter in a group with 0.
- A parameter without a gradient this step still gets an update with a zero gradient (the fused
  kernel is handed zeros_like(p)), so its moments decay and momentum keeps moving it.
- The global clip: total = ||(||g_i||)_i||, g *= min(1, max_norm / (total + 1e-6)), over the
  parameters that have a gradient; the norm before clipping is returned.
- Per parameter, in this order: p *= 1 - lr*wd; m = lerp(m, g, 1 - b1); v = b2 v + (1 - b2) g^2;
  p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps), with t the step after incrementing.
"""
import math

import torch


class AdamW:
    def __init__(self, named_params, lr_unused=None, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, decay_token_embedding=True):
        self.params = [(n, p) for n, p in named_params if p.requires_grad]
        self.beta1, self.beta2, self.eps, self.weight_decay = beta1, beta2, eps, weight_decay
        self.decay_token_embedding = decay_token_embedding
        self.exp_avg = {n: torch.zeros_like(p) for n, p in self.params}
        self.exp_avg_sq = {n: torch.zeros_like(p) for n, p in self.params}
        self.step_count = 0

    def load_state(self, tensors, steps):
        """Moments saved as exp_avg.NAME / exp_avg_sq.NAME, and the applied-update count."""
        for n, p in self.params:
            for prefix, store in (("exp_avg.", self.exp_avg), ("exp_avg_sq.", self.exp_avg_sq)):
                saved = tensors.get(prefix + n)
                if saved is None:
                    raise KeyError(f"optimizer state lacks '{prefix + n}'")
                if tuple(saved.shape) != tuple(p.shape):
                    raise ValueError(f"optimizer tensor '{prefix + n}' has shape {tuple(saved.shape)}, expected {tuple(p.shape)}")
                store[n] = saved.to(p.device, p.dtype).clone()
        self.step_count = steps

    @torch.no_grad()
    def clip(self, max_norm):
        grads = [p.grad for _, p in self.params if p.grad is not None]
        if not grads:
            return torch.zeros(())
        total = torch.stack([g.norm() for g in grads]).norm()
        coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
        for g in grads:
            g.mul_(coef)
        return total

    @torch.no_grad()
    def step(self, lr):
        self.step_count += 1
        t = float(self.step_count)
        bias1 = 1 - self.beta1 ** t
        bias2_sqrt = math.sqrt(1 - self.beta2 ** t)
        for n, p in self.params:
            g = p.grad if p.grad is not None else torch.zeros_like(p)
            exempt = n == "token_embedding.weight" and not self.decay_token_embedding
            wd = self.weight_decay if p.dim() == 2 and not exempt else 0.0
            m, v = self.exp_avg[n], self.exp_avg_sq[n]
            p.mul_(1 - lr * wd)
            m.lerp_(g, 1 - self.beta1)
            v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
            denom = (v.sqrt() / bias2_sqrt).add_(self.eps)
            p.addcdiv_(m, denom, value=-lr / bias1)

    def zero_grad(self):
        for _, p in self.params:
            p.grad = None
