"""One NeuroPathX training step with a hand-written backward (C kernels, no autograd graph).

At the widths of the model the work per batch is a handful of (B, P, R) passes in the C
kernels and ~200 small tensor operations; recorded by autograd, the small ones cost more
than the kernels (a graph of ~150 nodes per batch, and the engine's bookkeeping for each).
:func:`train_step` computes the same forward as :meth:`NeuroPathX.objective_terms` and
:func:`~neuropathx.models.losses.loss_from_terms` with the same operations (same bits, same
random draws, same running statistics), then the gradient of the total loss in every
parameter by the chain rule written out below, and writes it into the parameters' ``.grad``
(one flat buffer with :class:`~neuropathx.training.optim.FlatAdamW`). The batch norms and
activations of the head use ATen's own backward operators, as autograd does; the
parameter-side maps (batch-norm folding, the query's piecewise table) are differentiated
by hand. Gradients agree with autograd's to float32 rounding (tests/test_train_step.py).

Only the default model and objective take this path (:func:`applies`); every other
configuration, and the ``compile`` and ``eager`` backends, go through autograd.
"""

from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from neuropathx.models import backend, native_kernel
from neuropathx.models.attention_core import _native_constants, query_table
from neuropathx.models.losses import LOG_CLAMP, LossTerms
from neuropathx.models.neuropathx import (
    NeuroPathX,
    _norm_affine_parts,
    image_factors,
    measure_moments,
)

if TYPE_CHECKING:
    from neuropathx.training.config import LossParams

_NORMS = ("query_norm", "key_norm", "value_norm", "fused_norm", "head_norm")


def applies(model: NeuroPathX, loss: LossParams, genetics: torch.Tensor) -> bool:
    """Whether :func:`train_step` covers this model, objective and data: native kernels on
    CPU float32, training mode, the paper's query and key (no extra activation, no region
    identity: the ``neuropathx_region`` variant keeps autograd), dropout,
    affine batch norms with running statistics and a fixed momentum, the default losses
    (all-pairs L1 pathway term, METHOD.md's sparsity)."""
    c = model.config
    norms_ok = all(
        getattr(model, name).affine
        and getattr(model, name).track_running_stats
        and getattr(model, name).momentum is not None
        for name in _NORMS
    )
    params_ok = all(p.requires_grad and p.grad is not None for _, p in _named(model))
    return (
        model.training
        and backend.native_for(genetics)
        and not c.key_activation
        and not c.reference_query_activation
        and not model.has_region_identity
        and c.dropout > 0.0
        and norms_ok
        and params_ok
        and not loss.released_style
        and loss.path_metric == "l1"
        and loss.path_pairs == 0
    )


def _f32(x: float) -> np.float32:
    return np.float32(x)


def _affine_backward(inv, gamma, mean, scale, g_scale, g_shift):
    """Gradients of ``scale = inv·γ, shift = β - mean·scale`` with ``inv = (var+ε)^-½`` in
    γ, β, mean and var, given those of scale and shift."""
    g_scale = g_scale + g_shift * -mean
    g_mean = -(g_shift * scale)
    g_gamma = g_scale * inv
    g_var = -0.5 * (g_scale * gamma) * (inv * inv * inv)  # rsqrt's backward
    return g_gamma, g_shift, g_mean, g_var


def _stats_backward(g_weight, weight, wc, mu, cov, g_mean, g_var):
    """``g_weight`` plus the gradient in ``weight`` of ``mean = weight mu`` and
    ``var = Σ_f (weight cov ∘ weight)``, added in autograd's order (same bits)."""
    g_var = g_var[:, None]
    g_weight = g_weight + g_var * wc
    g_weight = g_weight + (g_var * weight).mm(cov.T)
    return g_weight + torch.outer(g_mean, mu)


@torch.inference_mode()  # no graph at all, and less dispatch per operation than no_grad
def train_step(
    model: NeuroPathX,
    genetics: torch.Tensor,
    imaging: torch.Tensor,
    labels: torch.Tensor,
    loss: LossParams,
    *,
    pos_weight: float,
) -> LossTerms:
    """Forward and backward of one batch; writes every parameter's gradient into its
    ``.grad`` (replacing what was there) and returns the loss terms (no graph)."""
    c = model.config
    slope = c.leaky_slope
    b, p = genetics.shape
    _, r, nf = imaging.shape
    eps = LOG_CLAMP

    # ---- keys and queries as the exact low-rank factors (NeuroPathX.score_factors) ----
    moments = measure_moments(imaging)
    flat, mu, cov = moments
    w_k = model.key.weight
    wc_k = w_k @ cov
    mean_k, var_k = w_k @ mu, (wc_k * w_k).sum(1)
    inv_k, key_scale, key_shift = _norm_affine_parts(model.key_norm, mean_k, var_k, b * r)
    w_tilde = torch.cat([w_k * key_scale[:, None], key_shift[:, None]], 1)
    scores = genetics.reshape(-1)
    mean_p = scores.mean()
    centred_p = scores - mean_p
    var_p = torch.dot(centred_p, centred_p) / len(scores)
    w_q = model.query_in.weight[:, 0]
    mean_q, var_q = w_q * mean_p, w_q * w_q * var_p
    inv_q, q_scale, q_shift = _norm_affine_parts(model.query_norm, mean_q, var_q, b * p)
    a = w_q * q_scale
    w_q2 = model.query_out.weight
    m = w_q2.T @ w_tilde
    kinks, alpha, lhs, table = query_table(a, q_shift, m, slope)
    x = scores.contiguous()
    qt, piece = native_kernel.query_rows(x, kinks, table)
    qt = qt.view(b, p, nf + 1)
    it = image_factors(imaging)

    # ---- values (NeuroPathX.values, native path) ----
    w_v = model.value_in.weight
    wc_v = w_v @ cov
    mean_v, var_v = w_v @ mu, (wc_v * w_v).sum(1)
    inv_v, v_scale, v_shift = _norm_affine_parts(model.value_norm, mean_v, var_v, b * r)
    v_weight = (w_v * v_scale[:, None]).T
    w_out = model.value_out.weight[0]
    values = native_kernel.value_mlp(flat, v_weight, v_shift, w_out, slope).view(b, r)

    # ---- attention terms and the head ----
    k = model.softsign_k
    constants = _native_constants(loss.rho, eps)
    rows, fused, kl_rows, saved_a = native_kernel.forward(qt, it, values, k, *constants, save=True)
    kl_sum = kl_rows.sum() - b * p * r * math.log1p(-loss.rho)
    head = [
        (model.fused_norm, None),
        (model.head_norm, model.head_hidden),
    ]
    saved = []
    h = fused
    for norm, linear in head:
        if linear is not None:
            h_in = h
            h = F.linear(h, linear.weight, linear.bias)
        else:
            h_in = None
        norm.num_batches_tracked.add_(1)
        z = h
        h, save_mean, save_invstd = torch.native_batch_norm(
            z, norm.weight, norm.bias, norm.running_mean, norm.running_var, True,
            norm.momentum, norm.eps,
        )  # fmt: skip
        bn = h
        seed = int(torch.randint(0, 2**62, (1,)))  # as NeuroPathX._dropout draws it
        h, mask = native_kernel.leaky_dropout(bn, slope, c.dropout, seed)
        saved.append((norm, linear, h_in, z, save_mean, save_invstd, bn, mask))
    logits = F.linear(h, model.head_out.weight, model.head_out.bias).squeeze(-1)

    # ---- loss (loss_from_terms) ----
    weight = torch.as_tensor(pos_weight, dtype=logits.dtype, device=logits.device)
    labels = labels.to(logits.dtype)
    bce = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=weight)
    zero = bce.new_zeros(())
    n_pat = int(labels.sum())
    use_reg = 0 < n_pat < b and b >= loss.min_batch_for_reg
    sp = path = zero
    g_kl = 0.0
    g_rows = None
    if use_reg and loss.lambda_sp > 0:
        sp = kl_sum * (0.5 / b)
        g_kl = float(_f32(loss.lambda_sp) * _f32(0.5 / b))
    if use_reg and loss.lambda_path > 0:
        value, grad_rows = native_kernel.pair_l1(rows, labels == 1)
        path = rows.new_tensor(value)
        g_rows = grad_rows.mul_(_f32(loss.lambda_path))
    if g_rows is None:
        g_rows = torch.zeros_like(rows)
    total = bce + loss.lambda_sp * sp + loss.lambda_path * path

    # ---- backward: head ----
    t = weight * labels
    g_logits = (t + 1 - labels).mul_(torch.sigmoid(logits)).sub_(t).div_(b)
    g_out = g_logits[:, None]
    grads = {
        "head_out.weight": g_out.t().mm(h),
        "head_out.bias": g_out.sum(0),
    }
    g_h = g_out.mm(model.head_out.weight)
    for norm, linear, h_in, z, save_mean, save_invstd, bn, mask in reversed(saved):
        g_h = native_kernel.leaky_dropout_backward(g_h, bn, mask, slope)
        g_h, g_gamma, g_beta = torch.ops.aten.native_batch_norm_backward(
            g_h, z, norm.weight, norm.running_mean, norm.running_var, save_mean, save_invstd,
            True, norm.eps, [True, True, True],
        )  # fmt: skip
        name = "fused_norm" if linear is None else "head_norm"
        grads[f"{name}.weight"], grads[f"{name}.bias"] = g_gamma, g_beta
        if linear is not None:
            grads["head_hidden.weight"] = g_h.t().mm(h_in)
            grads["head_hidden.bias"] = g_h.sum(0)
            g_h = g_h.mm(linear.weight)
    g_fused = g_h

    # ---- backward: attention, values, queries, keys ----
    g_qt, _, g_values = native_kernel.backward(
        qt, it, values, k, *constants, g_rows, g_fused.contiguous(), g_kl, need_it=False,
        saved=saved_a,
    )  # fmt: skip
    g_vw, g_v_shift, g_w_out = native_kernel.value_mlp_backward(
        flat, v_weight, v_shift, w_out, slope, g_values.reshape(-1)
    )
    grads["value_out.weight"] = g_w_out[None, :]
    g_vw = g_vw.T
    g_v_scale = (g_vw * w_v).sum(1)
    g_gamma, g_beta, g_mean, g_var = _affine_backward(
        inv_v, model.value_norm.weight, mean_v, v_scale, g_v_scale, g_v_shift
    )
    grads["value_norm.weight"], grads["value_norm.bias"] = g_gamma, g_beta
    grads["value_in.weight"] = _stats_backward(
        g_vw * v_scale[:, None], w_v, wc_v, mu, cov, g_mean, g_var
    )

    g_lhs_out = native_kernel.query_rows_backward(  # [slopes; offsets] as lhs @ m
        x, piece, g_qt.view(b * p, nf + 1), len(table), stacked=True
    )
    g_lhs = g_lhs_out.mm(m.T)
    g_m = lhs.T.mm(g_lhs_out)
    n_alpha = len(alpha)
    g_a = (g_lhs[:n_alpha] * alpha).sum(0)
    g_q_shift = (g_lhs[n_alpha:] * alpha).sum(0)
    grads["query_out.weight"] = w_tilde.mm(g_m.T)
    g_w_tilde = w_q2.mm(g_m)
    g_wk = g_w_tilde[:, :nf]
    g_key_scale = (g_wk * w_k).sum(1)
    g_gamma, g_beta, g_mean, g_var = _affine_backward(
        inv_k, model.key_norm.weight, mean_k, key_scale, g_key_scale, g_w_tilde[:, nf]
    )
    grads["key_norm.weight"], grads["key_norm.bias"] = g_gamma, g_beta
    grads["key.weight"] = _stats_backward(
        g_wk * key_scale[:, None], w_k, wc_k, mu, cov, g_mean, g_var
    )
    g_gamma, g_beta, g_mean, g_var = _affine_backward(
        inv_q, model.query_norm.weight, mean_q, q_scale, g_a * w_q, g_q_shift
    )
    grads["query_norm.weight"], grads["query_norm.bias"] = g_gamma, g_beta
    g_var = g_var * var_p  # then w_q * w_q: one gradient per factor, added in turn
    g_wq = g_a * q_scale + g_var * w_q
    g_wq = g_wq + g_var * w_q
    g_wq = g_wq + g_mean * mean_p
    grads["query_in.weight"] = g_wq[:, None]

    _write_grads(model, grads)
    return LossTerms(total, bce, sp, path)


_NAMED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _named(model: NeuroPathX) -> list[tuple[str, torch.nn.Parameter]]:
    """``model.named_parameters()`` as a list, kept per model (walking the module tree costs
    more per batch than some of the kernels)."""
    named = _NAMED.get(model)
    if named is None:
        named = _NAMED[model] = list(model.named_parameters())
    return named


def _write_grads(model: NeuroPathX, grads: dict[str, torch.Tensor]) -> None:
    """Copy the gradients into the parameters' ``.grad`` (views of FlatAdamW's buffer) in
    one foreach copy: one dispatch instead of one per parameter."""
    named = _named(model)
    if len(grads) != len(named):
        missing = sorted({n for n, _ in named} - set(grads))
        raise RuntimeError(f"train_step: no gradient for {missing}")
    targets = [param.grad for _, param in named]
    sources = [grads[name] for name, _ in named]
    sources = [
        s if s.shape == t.shape else s.reshape(t.shape)
        for s, t in zip(sources, targets, strict=True)
    ]
    torch._foreach_copy_(targets, sources)
