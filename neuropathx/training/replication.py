"""The released training's loss scales and data handling, as switches (config/replication.yaml).

Our defaults follow METHOD.md; each switch below restores one behaviour of the authors'
released training (every default is ours, the released value in brackets):

* ``standardise_genetics`` true [false]: the released runs fed raw pathway scores into the
  query's shared BatchNorm (:func:`keep_raw_genetics`).
* ``sp_subjects`` 0 = all [2]: the sparsity term on that many distinct subjects drawn at
  random from the batch; ``sp_scale`` 0.5 [1.0]: the factor on each subject's summed KL.
  Released: ``(KL_1 + KL_2) / 2``, twice our ``½ mean_n KL_n`` (so its λ_sp is not ours).
  ``sp_log_eps`` 0 [1e-10]: the released KL takes ``log(x + 1e-10)`` where ours clamps the
  attention to [1e-6, 1 - 1e-6] inside the logs.
* ``path_pairs`` 0 = all [1] and ``path_scale`` 1.0 [0.1]: the released loop kept only the
  last of its pairs and divided it by 10.
* ``skip_single_class_batches`` false [true] and ``min_batch_for_reg`` 2 [20].
* ``value_init``, ``reference_query_activation``, ``key_activation``: see the model module.

:func:`released_loss_terms` computes the objective with the full attention matrix (the
fused kernels sum the sparsity over every subject); the default path never comes here.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch

from neuropathx.models.losses import (
    LossTerms,
    classification_loss,
    pathway_rows_loss,
    sparsity_loss,
)
from neuropathx.training.config import LossParams
from neuropathx.training.preprocess import Standardiser


def keep_raw_genetics(scaler: Standardiser) -> Standardiser:
    """``scaler`` with the pathway scores passed through unchanged (mean 0, SD 1)."""
    return replace(
        scaler,
        genetics_mean=np.zeros_like(scaler.genetics_mean),
        genetics_sd=np.ones_like(scaler.genetics_sd),
    )


def released_loss_terms(
    model: torch.nn.Module,
    genetics: torch.Tensor,
    imaging: torch.Tensor,
    labels: torch.Tensor,
    loss: LossParams,
    *,
    pos_weight: float,
    generator: torch.Generator | None,
) -> LossTerms:
    """The training objective with the released switches of ``loss`` applied.

    Random draws with ``generator``, in order: the ``sp_subjects`` distinct subjects (the
    first of ``torch.randperm``), then the pathway pairs (as :func:`pathway_rows_loss`).
    """
    logits, attention, _ = model(genetics, imaging)
    bce = classification_loss(logits, labels, pos_weight)
    zero = bce.new_zeros(())
    n, n_pat = len(labels), int(labels.sum())
    use_reg = 0 < n_pat < n and n >= loss.min_batch_for_reg
    sp = path = zero
    if use_reg and loss.lambda_sp > 0:
        chosen = attention
        if loss.sp_subjects > 0:
            if loss.sp_subjects > n:
                raise ValueError(f"sp_subjects = {loss.sp_subjects} exceeds the batch of {n}")
            idx = torch.randperm(n, generator=generator, device="cpu")[: loss.sp_subjects]
            chosen = attention[idx.to(attention.device)]
        if loss.sp_log_eps > 0:
            sp = _kl_log_eps(chosen, loss.rho, loss.sp_log_eps) * loss.sp_scale
        else:  # sparsity_loss is ½ · mean over subjects of the summed KL
            sp = sparsity_loss(chosen, loss.rho) * (loss.sp_scale / 0.5)
    if use_reg and loss.lambda_path > 0:
        rows = attention.sum(dim=-1)
        path = loss.path_scale * pathway_rows_loss(
            rows, labels, loss.path_metric, loss.path_pairs, generator
        )
    return LossTerms(bce + loss.lambda_sp * sp + loss.lambda_path * path, bce, sp, path)


def _kl_log_eps(attention: torch.Tensor, rho: float, eps: float) -> torch.Tensor:
    """Mean over subjects of Σ_ij KL with ``log(x + eps)`` in place of ``log(x)``."""
    a = attention
    kl = a * (torch.log(a + eps) - math.log(rho + eps))
    kl = kl + (1 - a) * (torch.log(1 - a + eps) - math.log(1 - rho + eps))
    return kl.sum() / len(a)


def skip_batch(loss: LossParams, labels: torch.Tensor) -> bool:
    """Whether the released training would take no step on this batch (one class only)."""
    if not loss.skip_single_class_batches:
        return False
    n_pat = int(labels.sum())
    return n_pat == 0 or n_pat == len(labels)
