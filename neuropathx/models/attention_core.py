"""The (B, P, R) part of NeuroPathX as low-rank factors and one fused autograd function.

Keys are a per-channel affine map of the imaging measures (BatchNorm after a linear layer),
so the scores factor exactly: ``Q Kᵀ = Qt It`` with ``Qt = Q [diag(γ/σ) W_k | b']`` of shape
(B, P, F+1) and ``It = [I | 1]ᵀ`` of shape (B, F+1, R). Everything the training objective
needs from the attention ``A`` reduces over regions: the row sums ``s = A 1_R``, the fused
representation ``A V`` and the summed sparsity KL. :class:`AttentionTerms` returns those
three without storing any (B, P, R) tensor; its backward recomputes ``A`` from the factors.
Both passes are pure tensor functions; ``use_compiled(True)`` runs them through
``torch.compile`` (one fused loop each), eager PyTorch otherwise (same maths).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

_COMPILED: dict[str, Callable] = {}
_STATE = {"compile": False}


def use_compiled(enabled: bool) -> None:
    """Run the fused passes through ``torch.compile`` (True) or eager PyTorch (False)."""
    _STATE["compile"] = bool(enabled)


def compiled_enabled() -> bool:
    """Whether the fused passes currently run compiled."""
    return _STATE["compile"]


def _kernel(name: str, fn: Callable) -> Callable:
    if not _STATE["compile"]:
        return fn
    if name not in _COMPILED:
        _COMPILED[name] = torch.compile(fn, fullgraph=True, dynamic=None)
    return _COMPILED[name]


def scores_from_factors(qt: torch.Tensor, it: torch.Tensor) -> torch.Tensor:
    """S = Qt It, (B, P, R), as a sum of F+1 broadcast products (fuses when compiled)."""
    s = qt[..., 0:1] * it[:, None, 0, :]
    for f in range(1, qt.shape[-1]):
        s = s + qt[..., f : f + 1] * it[:, None, f, :]
    return s


def _u_bounds(eps: float) -> tuple[float, float]:
    """A in [eps, 1-eps] ⇔ u = A/(1-A) = r/k in [eps/(1-eps), (1-eps)/eps]."""
    return eps / (1.0 - eps), (1.0 - eps) / eps


def _forward_terms(qt, it, v, k: float, rho: float, eps: float):
    """Row sums (B, P), fused A V (B, P) and the summed sparsity KL (scalar)."""
    r = scores_from_factors(qt, it).clamp_min(0.0)
    a = r / (r + k)
    lo, hi = _u_bounds(eps)
    u = (r * (1.0 / k)).clamp(lo, hi)  # A_c/(1-A_c) with A_c = clamp(A, eps, 1-eps)
    logit_rho = math.log(rho) - math.log1p(-rho)
    # KL entry = A (logit A_c - logit ρ) + log(1 - A_c) - log(1 - ρ); log(1-A_c) = -log1p(u)
    kl = (a * (torch.log(u) - logit_rho) - torch.log1p(u)).sum()
    kl = kl - a.numel() * math.log1p(-rho)
    return a.sum(-1), (a * v[:, None, :]).sum(-1), kl


def _backward_terms(qt, it, v, g_rows, g_fused, g_kl, k: float, rho: float, eps: float):
    """Gradients of (rows, fused, kl) with respect to (qt, it, v), recomputing A."""
    s = scores_from_factors(qt, it)
    r = s.clamp_min(0.0)
    denom = r + k
    a = r / denom
    lo, hi = _u_bounds(eps)
    d = torch.log((r * (1.0 / k)).clamp(lo, hi)) - (math.log(rho) - math.log1p(-rho))
    g_a = g_fused[..., None] * v[:, None, :] + g_rows[..., None] + g_kl * d
    # dA/dS = k / (r + k)² where S > 0, else 0
    g_s = torch.where(s > 0, g_a * (k / (denom * denom)), 0.0)
    g_qt = torch.stack([(g_s * it[:, None, f, :]).sum(-1) for f in range(qt.shape[-1])], -1)
    g_it = torch.stack([(g_s * qt[..., f : f + 1]).sum(1) for f in range(qt.shape[-1])], 1)
    g_v = (a * g_fused[..., None]).sum(1)
    return g_qt, g_it, g_v


def _forward_eager(qt, it, v, k: float, rho: float, eps: float):
    """Eager version of :func:`_forward_terms` with batched matmuls and in-place ops."""
    r = torch.bmm(qt, it).clamp_min_(0.0)
    a = r.add(k)
    a = torch.div(r, a, out=a)
    lo, hi = _u_bounds(eps)
    u = r.mul_(1.0 / k).clamp_(lo, hi)
    log_not = torch.log1p(u)
    d = u.log_().sub_(math.log(rho) - math.log1p(-rho))
    kl = torch.vdot(a.reshape(-1), d.reshape(-1)) - log_not.sum()
    kl = kl - a.numel() * math.log1p(-rho)
    return a.sum(-1), torch.bmm(a, v.unsqueeze(-1)).squeeze(-1), kl


def _backward_eager(qt, it, v, g_rows, g_fused, g_kl, k: float, rho: float, eps: float):
    """Eager version of :func:`_backward_terms` with batched matmuls and in-place ops."""
    s = torch.bmm(qt, it)
    positive = s > 0
    r = s.clamp_min_(0.0)
    inv = r.add(k).reciprocal_()  # 1 / (r + k); A = 1 - k / (r + k)
    g_v = g_fused.sum(1, keepdim=True) - k * torch.bmm(g_fused[:, None, :], inv).squeeze(1)
    lo, hi = _u_bounds(eps)
    g_a = r.mul_(1.0 / k).clamp_(lo, hi).log_()
    g_a.sub_(math.log(rho) - math.log1p(-rho)).mul_(g_kl)
    g_a.add_(g_rows[..., None]).baddbmm_(g_fused[..., None], v[:, None, :])
    g_s = g_a.mul_(inv).mul_(inv).mul_(k).mul_(positive)
    g_qt = torch.bmm(g_s, it.transpose(1, 2))
    g_it = torch.bmm(qt.transpose(1, 2), g_s)
    return g_qt, g_it, g_v


class AttentionTerms(torch.autograd.Function):
    """(qt, it, v) → (row sums, fused A V, summed sparsity KL) with A never stored."""

    @staticmethod
    def forward(ctx, qt, it, v, k: float, rho: float, eps: float):
        fn = _kernel("forward", _forward_terms) if _STATE["compile"] else _forward_eager
        rows, fused, kl = fn(qt, it, v, k, rho, eps)
        ctx.save_for_backward(qt, it, v)
        ctx.consts = (k, rho, eps)
        return rows, fused, kl

    @staticmethod
    def backward(ctx, g_rows, g_fused, g_kl):
        qt, it, v = ctx.saved_tensors
        g_rows = torch.zeros_like(qt[..., 0]) if g_rows is None else g_rows.contiguous()
        g_fused = torch.zeros_like(qt[..., 0]) if g_fused is None else g_fused.contiguous()
        g_kl = torch.zeros((), dtype=qt.dtype, device=qt.device) if g_kl is None else g_kl
        fn = _kernel("backward", _backward_terms) if _STATE["compile"] else _backward_eager
        g_qt, g_it, g_v = fn(qt, it, v, g_rows, g_fused, g_kl, *ctx.consts)
        return g_qt, g_it, g_v, None, None, None


def attention_terms(qt, it, v, k: float, rho: float, eps: float):
    """Row sums (B, P), fused representation (B, P) and summed KL of A from the factors."""
    return AttentionTerms.apply(qt, it, v, k, rho, eps)
