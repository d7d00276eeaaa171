"""AdamW over one flat buffer holding every parameter and one holding every gradient.

The model is small (tens of thousands of numbers in ~20 tensors), so per-tensor overhead
dominates a step of ``torch.optim.AdamW``: its Python path and the one-off import of
``torch._dynamo`` it triggers (seconds per training job). Here the parameters become views
of one flat tensor and their gradients views of another, so that a step is a handful of
whole-buffer operations with exactly ``torch.optim.AdamW``'s arithmetic (decoupled weight
decay, bias-corrected moments, ``eps`` added after the square root).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class FlatAdamW:
    """AdamW for all parameters of ``model``; call after the model is on its device."""

    def __init__(
        self,
        model: nn.Module,
        lr: float,
        weight_decay: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ValueError("FlatAdamW: the model has no trainable parameters")
        dtypes = {(p.dtype, p.device) for p in params}
        if len(dtypes) != 1:
            found = sorted(map(str, dtypes))
            raise ValueError(f"FlatAdamW needs one dtype and device, got {found}")
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.flat = torch.cat([p.detach().reshape(-1) for p in params])
        self.grad = torch.zeros_like(self.flat)
        offset = 0
        for p in params:
            n = p.numel()
            p.data = self.flat[offset : offset + n].view_as(p)
            # autograd adds into an existing .grad in place, so gradients land in self.grad
            p.grad = self.grad[offset : offset + n].view_as(p)
            offset += n
        self.exp_avg = torch.zeros_like(self.flat)
        self.exp_avg_sq = torch.zeros_like(self.flat)
        self.steps = 0

    def zero_grad(self) -> None:
        self.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        beta1, beta2 = self.betas
        self.steps += 1
        self.flat.mul_(1.0 - self.lr * self.weight_decay)
        self.exp_avg.lerp_(self.grad, 1.0 - beta1)
        self.exp_avg_sq.mul_(beta2).addcmul_(self.grad, self.grad, value=1.0 - beta2)
        bias1 = 1.0 - beta1**self.steps
        bias2_sqrt = math.sqrt(1.0 - beta2**self.steps)
        denom = self.exp_avg_sq.sqrt().div_(bias2_sqrt).add_(self.eps)
        self.flat.addcdiv_(self.exp_avg, denom, value=-self.lr / bias1)
