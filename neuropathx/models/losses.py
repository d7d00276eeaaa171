"""NeuroPathX losses (METHOD.md §3): weighted BCE, attention sparsity, pathway similarity.

All vectorised over the batch. Where the reference code differs: sparsity is averaged over
every subject of the batch (reference: 2 random subjects) and the pathway-similarity loss
averages over all (or ``n_pairs`` sampled) patient-control pairs (reference: a loop bug kept
only the last of its 10 pairs).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F

from neuropathx.models import backend, native_kernel

PATH_METRICS = ("l1", "l2", "cosine")
LOG_CLAMP = 1e-6  # attention is clamped to [eps, 1 - eps] inside the logs only


class LossTerms(NamedTuple):
    """The total loss and its unweighted components (regularisers 0 when not applied)."""

    total: torch.Tensor
    bce: torch.Tensor
    sparsity: torch.Tensor
    pathway: torch.Tensor


def classification_loss(
    logits: torch.Tensor, labels: torch.Tensor, pos_weight: float
) -> torch.Tensor:
    """Mean BCE on logits, patients weighted by ``pos_weight`` (n_controls / n_patients)."""
    weight = torch.as_tensor(pos_weight, dtype=logits.dtype, device=logits.device)
    return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype), pos_weight=weight)


def sparsity_loss(attention: torch.Tensor, rho: float, eps: float = LOG_CLAMP) -> torch.Tensor:
    """Mean over subjects of ½ Σ_ij KL(Bernoulli(ρ) target ‖ A_ij) as written in METHOD.md.

    Per entry ``A log(A/ρ) + (1-A) log((1-A)/(1-ρ))``; A is clamped to [eps, 1-eps] inside
    the logs only, so entries at exactly 0 contribute ``-log(1-ρ)`` and stay finite.
    """
    return _SparsityKL.apply(attention, rho, eps)


class _SparsityKL(torch.autograd.Function):
    """Fused forward/backward: with d = logit(A_c) - logit(ρ) and lb = log(1 - A_c),
    Σ KL = Σ A·d + Σ lb - N log(1-ρ), and ∂/∂A = d (the clamp's terms cancel)."""

    @staticmethod
    def forward(ctx, attention: torch.Tensor, rho: float, eps: float) -> torch.Tensor:
        clamped = attention.clamp(eps, 1.0 - eps)
        log_not = torch.rsub(clamped, 1.0).log_()  # log(1 - A_c); log1p is slower on CPU
        d = clamped.log_().sub_(log_not).sub_(math.log(rho) - math.log1p(-rho))
        n_subjects = attention.shape[0]
        kl = torch.vdot(attention.reshape(-1), d.reshape(-1)) + log_not.sum()
        kl = kl - attention.numel() * math.log1p(-rho)
        ctx.save_for_backward(d)
        ctx.scale = 0.5 / n_subjects
        return kl * ctx.scale

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (d,) = ctx.saved_tensors
        return d * (grad * ctx.scale), None, None


def pathway_similarity_loss(
    attention: torch.Tensor,
    labels: torch.Tensor,
    metric: str = "l1",
    n_pairs: int = 0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Mean distance between pathway representations ``s = A 1_R`` of patient-control pairs.

    ``n_pairs = 0`` uses every patient-control pair of the batch; otherwise that many pairs
    drawn with replacement using ``generator``. Metric: l1, l2 (Euclidean) or cosine
    distance (1 - cosine similarity).
    """
    return pathway_rows_loss(attention.sum(dim=-1), labels, metric, n_pairs, generator)


def pathway_rows_loss(
    rows: torch.Tensor,
    labels: torch.Tensor,
    metric: str = "l1",
    n_pairs: int = 0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """:func:`pathway_similarity_loss` from the row sums ``s = A 1_R`` (B, P)."""
    if metric not in PATH_METRICS:
        raise ValueError(f"path_metric must be one of {PATH_METRICS}, got {metric!r}")
    is_patient = labels == 1
    n_patients = int(is_patient.sum())
    if n_patients == 0 or n_patients == len(labels):
        raise ValueError("pathway_similarity_loss needs both patients and controls in the batch")
    if metric == "l1" and n_pairs == 0:
        if backend.native_for(rows):
            return _PairL1.apply(rows, is_patient)
        return _pair_l1_by_sorting(rows, labels)
    patients, controls = rows[is_patient], rows[~is_patient]
    if n_pairs > 0:
        i = torch.randint(len(patients), (n_pairs,), generator=generator, device="cpu")
        j = torch.randint(len(controls), (n_pairs,), generator=generator, device="cpu")
        a, b = patients[i.to(rows.device)], controls[j.to(rows.device)]
        if metric == "cosine":
            return (1.0 - F.cosine_similarity(a, b, dim=1, eps=1e-8)).mean()
        return torch.linalg.vector_norm(a - b, ord=1 if metric == "l1" else 2, dim=1).mean()
    if metric == "cosine":
        a = F.normalize(patients, dim=1, eps=1e-8)
        b = F.normalize(controls, dim=1, eps=1e-8)
        return 1.0 - (a.sum(0) @ b.sum(0)) / (len(patients) * len(controls))
    return _pair_euclidean(patients, controls).mean()  # l2


class _PairL1(torch.autograd.Function):
    """All-pairs L1 by the C kernel: value and gradient in one O(n_pat·n_ctrl·P) pass."""

    @staticmethod
    def forward(ctx, rows, is_patient):
        value, grad = native_kernel.pair_l1(rows, is_patient)
        ctx.save_for_backward(grad)
        return rows.new_tensor(value)

    @staticmethod
    def backward(ctx, g):
        (grad,) = ctx.saved_tensors
        return grad * g, None


def _pair_l1_by_sorting(rows: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean over patient-control pairs of ``‖s_n - s_m‖_1`` in O(B log B · P).

    Per pathway, with values sorted, ``Σ_pairs |s_n - s_m| = Σ_k s_k c_k`` where ``c_k`` is
    (opposite-class values strictly below s_k) - (those strictly above); ties count zero,
    like the zero subgradient of ``|0|``, so value and gradient equal the all-pairs sum.
    """
    values, order = rows.T.contiguous().sort(dim=1)  # (P, B)
    patient = (labels == 1).to(rows.dtype)[order]
    n_pat = patient[0].sum()
    n_ctrl = len(labels) - n_pat
    zero = values.new_zeros(values.shape[0], 1)
    pat_before = torch.cat([zero, patient.cumsum(1)], 1)  # patients among the first i
    if bool((values[:, 1:] == values[:, :-1]).any()):  # ties: count only strict inequalities
        first = torch.searchsorted(values, values, side="left")
        after_last = torch.searchsorted(values, values, side="right")
    else:  # no ties: the sorted position is both
        first = torch.arange(values.shape[1], device=values.device).expand_as(values)
        after_last = first + 1
    pat_below, pat_upto = pat_before.gather(1, first), pat_before.gather(1, after_last)
    ctrl_below = first.to(rows.dtype) - pat_below
    ctrl_upto = after_last.to(rows.dtype) - pat_upto
    coef = torch.where(
        patient > 0,
        ctrl_below - (n_ctrl - ctrl_upto),
        pat_below - (n_pat - pat_upto),
    )
    return (values * coef).sum() / (n_pat * n_ctrl)


def _pair_euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """All pairwise Euclidean distances with a zero (not NaN) gradient at zero distance."""
    diff = a.unsqueeze(1) - b.unsqueeze(0)
    sq = diff.square().sum(-1)
    return torch.where(sq > 0, sq.clamp_min(1e-30).sqrt(), torch.zeros_like(sq))


def neuropathx_loss(
    logits: torch.Tensor,
    attention: torch.Tensor,
    labels: torch.Tensor,
    *,
    pos_weight: float,
    lambda_sp: float,
    lambda_path: float,
    rho: float,
    path_metric: str = "l1",
    path_pairs: int = 0,
    min_batch_for_reg: int = 2,
    generator: torch.Generator | None = None,
) -> LossTerms:
    """``L = L_BCE + λ_sp L_sp + λ_path L_path``; regularisers only on batches with both
    classes and at least ``min_batch_for_reg`` subjects (and a nonzero weight)."""
    return loss_from_terms(
        logits,
        attention.sum(dim=-1),
        lambda: 2.0 * len(labels) * sparsity_loss(attention, rho),
        labels,
        pos_weight=pos_weight,
        lambda_sp=lambda_sp,
        lambda_path=lambda_path,
        path_metric=path_metric,
        path_pairs=path_pairs,
        min_batch_for_reg=min_batch_for_reg,
        generator=generator,
    )


def loss_from_terms(
    logits: torch.Tensor,
    rows: torch.Tensor,
    kl_sum: torch.Tensor | Callable[[], torch.Tensor],
    labels: torch.Tensor,
    *,
    pos_weight: float,
    lambda_sp: float,
    lambda_path: float,
    path_metric: str = "l1",
    path_pairs: int = 0,
    min_batch_for_reg: int = 2,
    generator: torch.Generator | None = None,
) -> LossTerms:
    """:func:`neuropathx_loss` from the row sums (B, P) and the batch's summed sparsity KL
    (a tensor, or a callable evaluated only when the regulariser applies)."""
    bce = classification_loss(logits, labels, pos_weight)
    zero = bce.new_zeros(())
    n_pat = int(labels.sum())
    use_reg = 0 < n_pat < len(labels) and len(labels) >= min_batch_for_reg
    sp = path = zero
    if use_reg and lambda_sp > 0:
        sp = (kl_sum() if callable(kl_sum) else kl_sum) * (0.5 / len(labels))
    if use_reg and lambda_path > 0:
        path = pathway_rows_loss(rows, labels, path_metric, path_pairs, generator)
    return LossTerms(bce + lambda_sp * sp + lambda_path * path, bce, sp, path)
