"""NeuroPathX: pathway-guided cross-attention between genetic pathways and brain regions.

Queries come from the pathway scores, keys and values from the regional imaging measures
(METHOD.md §2). The module is pure: no I/O, no training logic.

Where the released reference code (Wang et al., MICCAI 2025) differs from the paper:

* Its block meant to activate the key (``self.key_relu``) is applied to the *query* a second
  time (``query_matrix = self.key_relu(query_matrix)``), so the released model computes
  ``Q = LeakyReLU(LeakyReLU(BN(p W_q1)) W_q2)`` and ``K = BN(I W_k)`` with no activation.
  We follow the paper / METHOD.md by default (``Q = LeakyReLU(BN(p W_q1)) W_q2``,
  ``K = BN(I W_k)``); ``reference_query_activation=True`` adds the second activation on the
  query to reproduce the released behaviour, and ``key_activation=True`` applies it to the
  key as the block's name intends (``K = LeakyReLU(BN(I W_k))``; no low-rank factors then,
  the attention is computed in full).
* ``value_init="normal"`` draws the last value weight ``W_v2`` from N(0, 1) as the released
  code does (default: ``nn.Linear``'s initialisation).
* Batch normalisation of queries, keys and values follows the reference: one BatchNorm per
  channel shared by all pathways (queries, statistics over batch x pathways) or all regions
  (keys and values, statistics over batch x regions). Pathway scores are z-scored per
  pathway beforehand, so the shared statistics match the intent of one embedding shared
  across pathways.
* The query/key/value projections have no bias, as in the reference (a bias before a
  BatchNorm cancels anyway).

Variant with region identity (``region_dim > 0``, registry name ``neuropathx_region`` in
``config/config.yaml``; off by default, ``region_dim: 0`` is the paper's model bit for bit).
The paper's model has no region identity: keys and values are one map of a region's F
measures shared by all regions, and ``X_IGC`` sums over regions, so permuting the regions
permutes the attention columns and changes nothing else (README "Demo scenarios",
``coupling``). The variant adds a learned per-region key embedding, value gain and value offset::

    K_r = BN(I_r W_k) + W_e e_r,            e_r ∈ R^m (m = region_dim), W_e (d_qk, m)
    V_r = (1 + δ_r) · LeakyReLU(BN(I_r W_v1)) W_v2 + b_r,    δ_r, b_r ∈ R
    S_jr = Q_j K_rᵀ = Q_j BN(I_r W_k)ᵀ + (Q_j W_e) e_r

The scores keep the paper's bilinear term, a function of (p_j, I_r) that carries the
pathway × measure product; the offset ``b_r`` lets ``X_IGC_j = Σ_r A_jr V_r`` read each
region's attention with its own weight, ``Σ_r b_r A_jr`` (in the paper's model the only
weight is ``V(I_r)``, one function of the measures for all regions, so a coupled region's
product reaches the head summed with every decoy region's); ``δ_r`` turns a region's
measure-dependent value up or down, and ``(Q_j W_e) e_r`` gives each region its own offset
of the attention as a function of the pathway score (e.g. to open or close a region).
``e``, ``δ`` and ``b`` start at 0, so at initialisation the variant computes the paper's
model (its extra parameters are drawn after the paper's, so the shared ones are the same
for a seed). The scores stay exactly
low-rank: ``Qt = [Q W̃ | Q W_e]`` (B, P, F+1+m) and ``It = [I | 1 | e]ᵀ`` (B, F+1+m, R), so
the C kernels (``models.backend``) run the variant too, at rank F+1+m instead of F+1; the
value gain and offset are one elementwise step after the value MLP (kernel or PyTorch).

Scores are computed from exact low-rank factors (:meth:`NeuroPathX.score_factors`, keys are
an affine map of the F measures); :meth:`NeuroPathX.objective_terms` gives the training
objective's inputs without storing the (B, P, R) attention (``attention_core``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from neuropathx.models import backend, native_kernel
from neuropathx.models.attention_core import attention_terms, piecewise_leaky_mlp
from neuropathx.models.losses import LOG_CLAMP

VALUE_INITS = ("default", "normal")  # nn.Linear's default, or the released N(0, 1)


@dataclass
class NeuroPathXConfig:
    """Shape and width settings of :class:`NeuroPathX` (reference widths as defaults)."""

    n_pathways: int
    n_regions: int
    n_measures: int = 4
    d_q: int = 32
    d_qk: int = 32
    d_v: int = 8
    hidden: int = 24
    dropout: float = 0.5
    softsign_c: float = 0.5
    gamma: float = 1.0
    leaky_slope: float = 0.2
    reference_query_activation: bool = False
    key_activation: bool = False
    value_init: str = "default"
    region_dim: int = 0  # > 0: per-region key embedding (this width) and value gain

    def __post_init__(self) -> None:
        for name in ("n_pathways", "n_regions", "n_measures", "d_q", "d_qk", "d_v", "hidden"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"NeuroPathXConfig.{name} must be a positive int, got {value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"NeuroPathXConfig.dropout must be in [0, 1), got {self.dropout!r}")
        if isinstance(self.region_dim, bool) or not isinstance(self.region_dim, int):
            raise ValueError(f"NeuroPathXConfig.region_dim must be an int, got {self.region_dim!r}")
        if self.region_dim < 0:
            raise ValueError(
                f"NeuroPathXConfig.region_dim must be >= 0 (0 = the paper's model), "
                f"got {self.region_dim!r}"
            )
        if self.softsign_c <= 0 or self.gamma <= 0:
            raise ValueError("NeuroPathXConfig.softsign_c and gamma must be positive")
        if self.value_init not in VALUE_INITS:
            raise ValueError(
                f"NeuroPathXConfig.value_init must be one of {VALUE_INITS}, got {self.value_init!r}"
            )

    @property
    def attention_scale(self) -> float:
        """The divisor ``γ·√P/2`` applied to the query-key scores."""
        return self.gamma * math.sqrt(self.n_pathways) / 2.0

    def to_dict(self) -> dict:
        return asdict(self)


class NeuroPathX(nn.Module):
    """Cross-attention from pathway queries to region keys/values, then an MLP head.

    ``forward(genetics (B, P), imaging (B, R, F))`` returns ``(logits (B,), attention
    (B, P, R) in [0, 1), fused X_IGC (B, P))``.
    """

    def __init__(self, config: NeuroPathXConfig):
        super().__init__()
        self.config = config
        c = config
        self.query_in = nn.Linear(1, c.d_q, bias=False)  # W_q1, one pathway scalar -> d_q
        self.query_norm = nn.BatchNorm1d(c.d_q)
        self.query_out = nn.Linear(c.d_q, c.d_qk, bias=False)  # W_q2
        self.key = nn.Linear(c.n_measures, c.d_qk, bias=False)  # W_k
        self.key_norm = nn.BatchNorm1d(c.d_qk)
        self.value_in = nn.Linear(c.n_measures, c.d_v, bias=False)  # W_v1
        self.value_norm = nn.BatchNorm1d(c.d_v)
        self.value_out = nn.Linear(c.d_v, 1, bias=False)  # W_v2
        self.fused_norm = nn.BatchNorm1d(c.n_pathways)
        self.head_hidden = nn.Linear(c.n_pathways, c.hidden)
        self.head_norm = nn.BatchNorm1d(c.hidden)
        self.head_out = nn.Linear(c.hidden, 1)
        self.dropout = nn.Dropout(c.dropout)
        for layer in (self.query_in, self.query_out, self.key, self.value_in, self.head_hidden):
            nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(self.head_hidden.bias)
        if c.value_init == "normal":  # the released code's init of the last value weight
            nn.init.normal_(self.value_out.weight)
        if c.region_dim > 0:  # region identity (drawn last: the paper's weights are unchanged)
            self.region_embedding = nn.Parameter(torch.zeros(c.n_regions, c.region_dim))  # e
            self.region_key = nn.Parameter(torch.empty(c.d_qk, c.region_dim))  # W_e
            nn.init.xavier_uniform_(self.region_key)
            self.region_gain = nn.Parameter(torch.zeros(c.n_regions))  # δ
            self.region_value = nn.Parameter(torch.zeros(c.n_regions))  # b

    @property
    def has_region_identity(self) -> bool:
        """Whether this is the region-identity variant (``region_dim > 0``)."""
        return self.config.region_dim > 0

    def region_keys(self) -> torch.Tensor:
        """The per-region key offsets ``W_e e_r``, (R, d_qk) (variant only)."""
        return self.region_embedding @ self.region_key.T

    def _leaky(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.config.leaky_slope)

    def keys(self, imaging: torch.Tensor) -> torch.Tensor:
        """K = BN(I W_k), (B, R, d_qk); statistics over batch x regions (used in tests)."""
        b, r, _ = imaging.shape
        k = self.key_norm(self.key(imaging).reshape(b * r, -1)).view(b, r, -1)
        k = self._leaky(k) if self.config.key_activation else k
        return k + self.region_keys() if self.has_region_identity else k

    def values(self, imaging: torch.Tensor, moments: Moments | None = None) -> torch.Tensor:
        """V = LeakyReLU(BN(I W_v1)) W_v2, (B, R); ``(1 + δ_r) V + b_r`` in the variant.

        With the C kernels (``models.backend``) the norm is folded into the first layer
        from the batch moments of the measures (as for the keys) and one pass evaluates
        the small MLP per region; otherwise PyTorch layers. Same values and statistics.
        """
        b, r, _ = imaging.shape
        if backend.native_for(imaging) and not imaging.requires_grad:
            moments = moments or measure_moments(imaging)
            w = self.value_in.weight  # (d_v, F)
            scale, shift = _norm_affine(self.value_norm, *_linear_stats(w, moments), b * r)
            weight = (w * scale[:, None]).T  # (F, d_v)
            out = _ValueMLP.apply(
                moments[0], weight, shift, self.value_out.weight[0], self.config.leaky_slope
            ).view(b, r)
        else:
            v = self.value_norm(self.value_in(imaging).reshape(b * r, -1)).view(b, r, -1)
            out = self.value_out(self._leaky(v)).squeeze(-1)
        if not self.has_region_identity:
            return out
        return torch.addcmul(self.region_value, out, 1.0 + self.region_gain)

    def queries(self, genetics: torch.Tensor) -> torch.Tensor:
        """Q (B, P, d_qk), computed directly (used in tests)."""
        b, p = genetics.shape
        h = self.query_norm(self.query_in(genetics.reshape(b * p, 1)))
        q = self.query_out(self._leaky(h)).view(b, p, -1)
        if self.config.reference_query_activation:
            q = self._leaky(q)
        return q

    def score_factors(
        self, genetics: torch.Tensor, imaging: torch.Tensor, moments: Moments | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact low-rank factors of the scores: ``Q Kᵀ = Qt It``, Qt (B, P, F+1), It (B, F+1, R)
        (F+1+m for the region-identity variant: ``Qt = [Q W̃ | Q W_e]``, ``It = [I | 1 | e]ᵀ``).

        BatchNorm is a per-channel affine map, so ``K = I W_k diag(s) + 1 bᵀ`` with the
        scale ``s`` and shift ``b`` of the key norm (batch statistics of ``I W_k`` obtained
        from the mean and covariance of I, differentiably). Likewise the query norm acts on
        ``p w`` whose statistics are ``w`` times those of the pathway scores.
        """
        b, p = genetics.shape
        _, r, nf = imaging.shape
        moments = moments or measure_moments(imaging)
        w_k = self.key.weight  # (d_qk, F)
        key_scale, key_shift = _norm_affine(self.key_norm, *_linear_stats(w_k, moments), b * r)
        w_tilde = torch.cat([w_k * key_scale[:, None], key_shift[:, None]], 1)  # (d_qk, F+1)
        if self.has_region_identity:  # Q W_e as m more columns of Qt
            w_tilde = torch.cat([w_tilde, self.region_key], 1)  # (d_qk, F+1+m)
        # query: BN(p w) has mean w·mean(p) and variance w²·var(p)
        scores = genetics.reshape(-1)
        mean_p = scores.mean()
        centred_p = scores - mean_p
        var_p = torch.dot(centred_p, centred_p) / len(scores)  # (var_mean is 3x slower on CPU)
        w_q = self.query_in.weight[:, 0]  # (d_q,)
        q_scale, q_shift = _norm_affine(self.query_norm, w_q * mean_p, w_q * w_q * var_p, b * p)
        a, c = w_q * q_scale, q_shift  # BN(p w) = p a + c per channel
        if self.config.reference_query_activation:
            h = self._leaky(torch.addcmul(c, scores[:, None], a))  # (B·P, d_q)
            qt = self._leaky(h @ self.query_out.weight.T) @ w_tilde
        else:  # Qt = leaky(p a + c) W_q2ᵀ W̃ is piecewise linear in the pathway score p
            m = self.query_out.weight.T @ w_tilde
            qt = piecewise_leaky_mlp(scores, a, c, m, self.config.leaky_slope)
        it = image_factors(imaging)  # (B, F+1, R)
        if self.has_region_identity:  # e as m more rows of It, the same for every subject
            it = torch.cat([it, self.region_embedding.T.unsqueeze(0).expand(b, -1, -1)], 1)
        return qt.view(b, p, it.shape[1]), it

    def attention(
        self, genetics: torch.Tensor, imaging: torch.Tensor, moments: Moments | None = None
    ) -> torch.Tensor:
        """A = S / (|S| + c) with S = ReLU(Q Kᵀ) / (γ√P/2), shape (B, P, R)."""
        if self.config.key_activation:  # K is no longer affine in I: no low-rank factors
            scores = torch.bmm(self.queries(genetics), self.keys(imaging).transpose(1, 2))
            return _softsign_attention(scores, self.softsign_k)
        qt, it = self.score_factors(genetics, imaging, moments)
        return _softsign_attention(torch.bmm(qt, it), self.softsign_k)

    @property
    def softsign_k(self) -> float:
        """``c·γ√P/2``: A = r / (r + k) with r = ReLU(Q Kᵀ)."""
        return self.config.softsign_c * self.config.attention_scale

    def head(self, fused: torch.Tensor) -> torch.Tensor:
        """Logits (B,) from the fused representation X_IGC (B, P)."""
        x = self._dropout(self._leaky(self.fused_norm(fused)))
        x = self._dropout(self._leaky(self.head_norm(self.head_hidden(x))))
        return self.head_out(x).squeeze(-1)

    def _dropout(self, x: torch.Tensor) -> torch.Tensor:
        """Dropout; with the C kernels the mask comes from a vectorised counter-based hash
        seeded from torch's global generator (torch's CPU Bernoulli is slow)."""
        if not self.training or self.config.dropout == 0.0 or not backend.native_for(x):
            return self.dropout(x)
        seed = int(torch.randint(0, 2**62, (1,)))
        return x * native_kernel.dropout_mask(x, self.config.dropout, seed)

    def forward(
        self, genetics: torch.Tensor, imaging: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits (B,), attention (B, P, R) and the fused representation X_IGC (B, P)."""
        moments = measure_moments(imaging)
        attention = self.attention(genetics, imaging, moments)
        values = self.values(imaging, moments)
        fused = torch.bmm(attention, values.unsqueeze(-1)).squeeze(-1)  # (B, P)
        return self.head(fused), attention, fused

    def objective_terms(
        self, genetics: torch.Tensor, imaging: torch.Tensor, rho: float, eps: float = LOG_CLAMP
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """What the losses need, without storing A: logits (B,), row sums ``A 1_R`` (B, P)
        and the sparsity KL summed over the batch (scalar). Same parameters and random
        draws as :meth:`forward`."""
        if self.config.key_activation:  # the factored path needs affine keys
            logits, attention, _ = self.forward(genetics, imaging)
            clamped = attention.clamp(eps, 1.0 - eps)
            kl = (
                attention * (clamped / rho).log()
                + (1 - attention) * ((1 - clamped) / (1 - rho)).log()
            )
            return logits, attention.sum(-1), kl.sum()
        moments = measure_moments(imaging)
        qt, it = self.score_factors(genetics, imaging, moments)
        rows, fused, kl_sum = attention_terms(
            qt, it, self.values(imaging, moments), self.softsign_k, rho, eps
        )
        return self.head(fused), rows, kl_sum


Moments = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def measure_moments(imaging: torch.Tensor) -> Moments:
    """The measures as (B·R, F) rows, their batch mean (F,) and biased covariance (F, F):
    all the batch statistics of any linear map of them (keys, values) follow."""
    b, r, nf = imaging.shape
    flat = imaging.reshape(b * r, nf)
    mean = flat.mean(0)
    if backend.native_for(flat) and not imaging.requires_grad:
        centred = native_kernel.centre(flat, mean)  # the same bits, 15x faster on the CPU
    else:
        centred = flat - mean
    return flat, mean, centred.T @ centred / (b * r)


def image_factors(imaging: torch.Tensor) -> torch.Tensor:
    """The image factors It (B, F+1, R) of the scores: the measures by region, then a row
    of ones (the key's shift)."""
    if backend.native_for(imaging) and not imaging.requires_grad:
        return native_kernel.image_factors(imaging)  # one copy instead of a transpose and a cat
    b, r, _ = imaging.shape
    return torch.cat([imaging.transpose(1, 2), imaging.new_ones(b, 1, r)], 1)


def _linear_stats(weight: torch.Tensor, moments: Moments) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch mean and biased variance of each output channel of ``x ↦ weight x`` over the
    measure rows, from their moments (what a BatchNorm after that layer normalises by)."""
    _, mean, cov = moments
    return weight @ mean, ((weight @ cov) * weight).sum(1)


class _ValueMLP(torch.autograd.Function):
    """Per-row ``LeakyReLU(flat weight + shift) w_out`` by the C kernel (no input gradient:
    the measures are data)."""

    @staticmethod
    def forward(ctx, flat, weight, shift, w_out, slope: float):
        ctx.save_for_backward(flat, weight, shift, w_out)
        ctx.slope = slope
        return native_kernel.value_mlp(flat, weight, shift, w_out, slope)

    @staticmethod
    def backward(ctx, g_out):
        flat, weight, shift, w_out = ctx.saved_tensors
        grads = native_kernel.value_mlp_backward(flat, weight, shift, w_out, ctx.slope, g_out)
        return None, *grads, None


def _norm_affine(
    norm: nn.BatchNorm1d, mean: torch.Tensor, var: torch.Tensor, n: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale and shift equal to ``norm`` applied to an input with batch ``mean`` and biased
    ``var`` over ``n`` rows; updates the running statistics exactly as BatchNorm1d does."""
    return _norm_affine_parts(norm, mean, var, n)[1:]


def _norm_affine_parts(
    norm: nn.BatchNorm1d, mean: torch.Tensor, var: torch.Tensor, n: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`_norm_affine` and ``(var + ε)^-½`` first (for a hand-written backward)."""
    if norm.training or norm.running_mean is None:
        if norm.training and norm.track_running_stats:
            with torch.no_grad():
                norm.num_batches_tracked.add_(1)
                m = norm.momentum
                m = 1.0 / float(norm.num_batches_tracked) if m is None else m
                norm.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
                norm.running_var.mul_(1 - m).add_(var.detach(), alpha=m * n / max(n - 1, 1))
    else:
        mean, var = norm.running_mean, norm.running_var
    inv = scale = torch.rsqrt(var + norm.eps)
    if norm.weight is not None:
        scale = scale * norm.weight
    shift = -mean * scale
    if norm.bias is not None:
        shift = shift + norm.bias
    return inv, scale, shift


def _softsign_attention(scores: torch.Tensor, c_scaled: float) -> torch.Tensor:
    """ReLU, scale and soft-sign in one step: ``A = r / (r + c·scale)`` with r = ReLU(scores).

    Equal to ``S / (|S| + c)`` with ``S = r / scale``; fused to save passes over (B, P, R).
    """
    return _SoftsignAttention.apply(scores, c_scaled)


class _SoftsignAttention(torch.autograd.Function):
    """A = r/(r + k), r = ReLU(x); dA/dx = (1 - A)² / k where x > 0, computed from A alone."""

    @staticmethod
    def forward(ctx, scores: torch.Tensor, k: float) -> torch.Tensor:
        r = scores.clamp_min(0.0)
        a = r / (r + k)
        ctx.save_for_backward(a)
        ctx.k = k
        return a

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (a,) = ctx.saved_tensors
        g = torch.rsub(a, 1.0).square_().mul_(grad).masked_fill_(a <= 0, 0.0)
        return g.mul_(1.0 / ctx.k), None
