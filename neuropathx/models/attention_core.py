"""The (B, P, R) part of NeuroPathX as low-rank factors and one fused autograd function.

Keys are a per-channel affine map of the imaging measures (BatchNorm after a linear layer),
so the scores factor exactly: ``Q Kᵀ = Qt It`` with ``Qt = Q [diag(γ/σ) W_k | b']`` of shape
(B, P, F+1) and ``It = [I | 1]ᵀ`` of shape (B, F+1, R). Everything the training objective
needs from the attention ``A`` reduces over regions: the row sums ``s = A 1_R``, the fused
representation ``A V`` and the summed sparsity KL. :class:`AttentionTerms` returns those
three without storing any (B, P, R) tensor; its backward recomputes ``A`` from the factors.
Three backends (``models.backend``) compute the same maths: ``native``, the C kernel of
``csrc/attention.c`` (one fused loop forward and one backward, recomputing ``A``);
``compile``, the pure tensor passes below through ``torch.compile``; ``eager``, the same
passes in eager PyTorch (chunked, keeping ``A`` and ∂KL/∂A for the backward).
"""

from __future__ import annotations

import ctypes
import math
import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F

from neuropathx.models import backend, native_kernel

EAGER_CHUNK = 32  # subjects per chunk of the eager passes (temporaries of ~1.5 MB each)
_COMPILED: dict[str, Callable] = {}


def _run(name: str, pure: Callable, eager: Callable) -> Callable:
    """The compiled ``pure`` when compiling is on (eager if compiling fails), else ``eager``."""
    if backend.chosen() != "compile":
        return eager
    if name not in _COMPILED:
        _COMPILED[name] = torch.compile(pure, fullgraph=True, dynamic=None)
    compiled = _COMPILED[name]

    def call(*args):
        try:
            return compiled(*args)
        except Exception as error:  # noqa: BLE001 (any compiler failure: fall back)
            warnings.warn(
                f"torch.compile of the attention passes failed ({type(error).__name__}: "
                f"{error}); using eager PyTorch",
                RuntimeWarning,
                stacklevel=2,
            )
            backend.use_backend("eager")
            return eager(*args)

    return call


def scores_from_factors(qt: torch.Tensor, it: torch.Tensor) -> torch.Tensor:
    """S = Qt It, (B, P, R), as a sum of F+1 broadcast products (fuses when compiled)."""
    s = qt[..., 0:1] * it[:, None, 0, :]
    for f in range(1, qt.shape[-1]):
        s = s + qt[..., f : f + 1] * it[:, None, f, :]
    return s


def piecewise_leaky_mlp(
    x: torch.Tensor, a: torch.Tensor, c: torch.Tensor, m: torch.Tensor, slope: float
) -> torch.Tensor:
    """``LeakyReLU(x a + c) m`` for every scalar x (N,), exactly, through its linear pieces.

    The map x ↦ Σ_j leaky(a_j x + c_j) m_j is linear between the kinks ``-c_j / a_j``: on
    each of the d+1 intervals (and at each kink) it is ``x (α a) m + (α c) m`` with
    α_j ∈ {1, slope} fixed, α_j = slope where a_j x + c_j ≤ 0 as in LeakyReLU's gradient.
    Costs a search per x instead of an (N, d) hidden layer; gradients reach a, c and m.
    """
    kinks, _, _, table = query_table(a, c, m, slope)
    width = m.shape[1]
    if backend.native_for(x, table):
        return _QueryRows.apply(x.contiguous(), kinks, table)
    with torch.no_grad():
        x = x.contiguous()
        piece = torch.searchsorted(kinks, x)  # x in (kinks[i-1], kinks[i]]
        on_kink = kinks[piece.clamp_max(len(kinks) - 1)] == x
        piece = torch.where(on_kink, piece + len(kinks) + 1, piece)
    if table.is_cuda:  # embedding's backward is deterministic on CUDA, index_add is not
        rows = F.embedding(piece, table)
    else:  # index_select's backward (index_add) is deterministic on CPU and much faster
        rows = table.index_select(0, piece)
    return torch.addcmul(rows[:, width:], x[:, None], rows[:, :width])


def query_table(a: torch.Tensor, c: torch.Tensor, m: torch.Tensor, slope: float):
    """The pieces of :func:`piecewise_leaky_mlp`: sorted kinks (d,), the LeakyReLU factors α
    of each piece (2d+1, d), the stacked ``[α a; α c]`` (2(2d+1), d) and the table
    (2d+1, 2(F+1)) of each piece's slopes then offsets (``[α a; α c] m`` side by side)."""
    with torch.no_grad():
        kinks = torch.where(a != 0, -c / torch.where(a != 0, a, 1.0), 0.0).sort().values
        inner = (kinks[1:] + kinks[:-1]) / 2
        # one probe per open interval, then the kinks themselves (LeakyReLU'(0) = slope)
        probes = torch.cat([kinks[:1] - 1.0, inner, kinks[-1:] + 1.0, kinks])
        alpha = torch.where(probes[:, None] * a + c > 0, a.new_ones(()), a.new_full((), slope))
    lhs = torch.cat([alpha * a, alpha * c], 0)
    table = lhs @ m  # slopes then offsets, (2(2d+1), F+1)
    table = torch.cat([table[: len(alpha)], table[len(alpha) :]], 1)  # (2d+1, 2(F+1))
    return kinks, alpha, lhs, table


class _QueryRows(torch.autograd.Function):
    """``table[piece(x)] · [x, 1]`` by the C kernel: a count of kinks below x, then 2W
    numbers per x."""

    @staticmethod
    def forward(ctx, x, kinks, table):
        out, piece = native_kernel.query_rows(x, kinks, table)
        ctx.save_for_backward(x, piece, table)
        return out

    @staticmethod
    def backward(ctx, g_out):
        x, piece, table = ctx.saved_tensors
        g_table = native_kernel.query_rows_backward(x, piece, g_out, len(table))
        g_x = None
        if ctx.needs_input_grad[0]:
            g_x = (g_out * table[piece, : g_out.shape[1]]).sum(1)
        return g_x, None, g_table


_LN2_HI, _LN2_LO = 6.9313812256e-01, 9.0580006145e-06
_LG1, _LG2, _LG3, _LG4 = 0.66666662693, 0.40000972152, 0.28498786688, 0.24279078841


def fused_log(x: torch.Tensor) -> torch.Tensor:
    """Natural log of positive normal float32 values as plain arithmetic (the FreeBSD/musl
    ``logf`` reduction and polynomial, < 1 ulp) so that a compiled loop fuses it; about
    twice as fast there as the library call. Other dtypes use ``torch.log``."""
    if x.dtype != torch.float32:
        return torch.log(x)
    bits = x.view(torch.int32) + 0x4AFB0D  # exponent so that the mantissa is in [√½, √2)
    exponent = ((bits >> 23) - 0x7F).to(torch.float32)
    f = ((bits & 0x007FFFFF) + 0x3F3504F3).view(torch.float32) - 1.0
    s = f / (f + 2.0)
    z = s * s
    w = z * z
    r = z * (_LG1 + w * _LG3) + w * (_LG2 + w * _LG4)
    half_f2 = 0.5 * f * f
    return s * (half_f2 + r) + exponent * _LN2_LO - half_f2 + f + exponent * _LN2_HI


def _u_bounds(eps: float) -> tuple[float, float]:
    """A in [eps, 1-eps] ⇔ u = A/(1-A) = r/k in [eps/(1-eps), (1-eps)/eps]."""
    return eps / (1.0 - eps), (1.0 - eps) / eps


def _forward_terms(qt, it, v, k: float, rho: float, eps: float):
    """Row sums (B, P), fused A V (B, P), per-row sparsity KL (B, P), A and ∂KL/∂A."""
    r = scores_from_factors(qt, it).clamp_min(0.0)
    a = r / (r + k)
    lo, hi = _u_bounds(eps)
    u = (r * (1.0 / k)).clamp(lo, hi)  # A_c/(1-A_c) with A_c = clamp(A, eps, 1-eps)
    d = fused_log(u) - (math.log(rho) - math.log1p(-rho))  # logit(A_c) - logit(ρ) = ∂KL/∂A
    # KL entry = A (logit A_c - logit ρ) + log(1 - A_c) - log(1 - ρ); log(1-A_c) = -log(1+u)
    kl_rows = (a * d - fused_log(u + 1.0)).sum(-1)
    return a.sum(-1), (a * v[:, None, :]).sum(-1), kl_rows, a, d


def _backward_scores(a, d, v, g_rows, g_fused, g_kl, it, k: float):
    """∂L/∂S (B, P, R) and ∂L/∂Qt (B, P, F+1) from the saved A and ∂KL/∂A."""
    g_a = g_fused[..., None] * v[:, None, :] + g_rows[..., None] + g_kl * d
    not_a = 1.0 - a
    g_s = torch.where(a > 0, g_a * not_a * not_a * (1.0 / k), 0.0)  # dA/dS = (1-A)²/k
    g_qt = torch.stack([(g_s * it[:, None, f, :]).sum(-1) for f in range(it.shape[1])], -1)
    return g_s, g_qt


def _forward_eager(qt, it, v, k: float, rho: float, eps: float):
    """Eager version of :func:`_forward_terms` with batched matmuls and in-place ops."""
    r = torch.bmm(qt, it).clamp_min_(0.0)
    a = r.add(k)
    a = torch.div(r, a, out=a)
    lo, hi = _u_bounds(eps)
    u = r.mul_(1.0 / k).clamp_(lo, hi)
    d = torch.log(u).sub_(math.log(rho) - math.log1p(-rho))
    kl_rows = torch.mul(a, d).sub_(u.add_(1.0).log_()).sum(-1)
    return a.sum(-1), torch.bmm(a, v.unsqueeze(-1)).squeeze(-1), kl_rows, a, d


def _backward_eager(a, d, v, g_rows, g_fused, g_kl, it, k: float):
    """Eager version of :func:`_backward_scores` with batched matmuls and in-place ops."""
    g_s = d * g_kl
    g_s.add_(g_rows[..., None]).addcmul_(g_fused[..., None], v[:, None, :])
    not_a = torch.rsub(a, 1.0)
    # (1-A)²/k where A > 0, else 0: ceil(A) is that mask as A is in [0, 1) (and fast on CPU)
    g_s.mul_(not_a).mul_(not_a.mul_(torch.ceil(a)).mul_(1.0 / k))
    return g_s, torch.bmm(g_s, it.transpose(1, 2))


class AttentionTerms(torch.autograd.Function):
    """(qt, it, v) → (row sums, fused A V, sparsity KL summed over the batch).

    Native: the C kernel, one pass forward and one backward that recomputes A. PyTorch:
    forward is one pass over (B, P, R) that keeps A and ∂KL/∂A for the backward; the
    backward is one pass for ∂L/∂S and ∂L/∂Qt plus two batched matmuls. Compiled, each pass
    is one loop over the batch; eager, the batch goes in chunks of ``EAGER_CHUNK`` subjects
    so that the temporaries of each chain of operations stay in cache.
    """

    @staticmethod
    def forward(ctx, qt, it, v, k: float, rho: float, eps: float):
        ctx.save_for_backward(qt, it, v)
        ctx.k, ctx.rho, ctx.eps = k, rho, eps
        ctx.backend = backend.backend_for(qt, it, v)
        constant = qt.shape[0] * qt.shape[1] * it.shape[2] * math.log1p(-rho)
        if ctx.backend == "native":
            consts = _native_constants(rho, eps)
            if any(ctx.needs_input_grad[:3]):  # keep A and ∂KL/∂A for the backward
                rows, fused, kl_rows, ctx.saved = native_kernel.forward(
                    qt, it, v, k, *consts, save=True
                )
            else:
                rows, fused, kl_rows = native_kernel.forward(qt, it, v, k, *consts)
            return rows, fused, kl_rows.sum() - constant
        step = len(qt) if ctx.backend == "compile" else EAGER_CHUNK
        fn = _run("forward", _forward_terms, _forward_eager)
        parts = [
            fn(qt[i : i + step], it[i : i + step], v[i : i + step], k, rho, eps)
            for i in range(0, len(qt), step)
        ]
        rows, fused, kl_rows = (torch.cat([p[j] for p in parts]) for j in range(3))
        ctx.saved = [(p[3], p[4]) for p in parts]  # A and ∂KL/∂A per chunk
        ctx.step = step
        return rows, fused, kl_rows.sum() - constant

    @staticmethod
    def backward(ctx, g_rows, g_fused, g_kl):
        qt, it, v = ctx.saved_tensors
        g_rows = torch.zeros_like(qt[..., 0]) if g_rows is None else g_rows.contiguous()
        g_fused = torch.zeros_like(qt[..., 0]) if g_fused is None else g_fused.contiguous()
        g_kl = torch.zeros((), dtype=qt.dtype, device=qt.device) if g_kl is None else g_kl
        if ctx.backend == "native":
            constants = _native_constants(ctx.rho, ctx.eps)
            grads = native_kernel.backward(
                qt, it, v, ctx.k, *constants, g_rows, g_fused, g_kl, ctx.needs_input_grad[1],
                saved=getattr(ctx, "saved", None),
            )  # fmt: skip
            ctx.saved = None
            return (*grads, None, None, None)
        fn = _run("backward", _backward_scores, _backward_eager)
        grads = []
        for n, (a, d) in enumerate(ctx.saved):
            part = slice(n * ctx.step, (n + 1) * ctx.step)
            g_s, g_qt = fn(a, d, v[part], g_rows[part], g_fused[part], g_kl, it[part], ctx.k)
            g_it = torch.bmm(qt[part].transpose(1, 2), g_s)
            g_v = torch.bmm(g_fused[part, None, :], a).squeeze(1)
            grads.append((g_qt, g_it, g_v))
        ctx.saved = None
        g_qt, g_it, g_v = (torch.cat([g[j] for g in grads]) for j in range(3))
        return g_qt, g_it, g_v, None, None, None


def _native_constants(rho: float, eps: float) -> tuple[float, float, float]:
    """logit(ρ) and the bounds of u = A/(1-A), as the C kernel takes them."""
    return (math.log(rho) - math.log1p(-rho), *_u_bounds(eps))


def attention_terms(qt, it, v, k: float, rho: float, eps: float):
    """Row sums (B, P), fused representation (B, P) and summed KL of A from the factors."""
    return AttentionTerms.apply(qt, it, v, k, rho, eps)


def retain_freed_memory() -> bool:
    """Ask glibc to keep freed large blocks for reuse instead of unmapping them.

    Every (B, P, R) buffer is otherwise a fresh mmap whose page faults cost as much as a
    pass over it. Process-wide, harmless elsewhere; False where not glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(-3, 32 * 1024 * 1024)  # M_MMAP_THRESHOLD: glibc's maximum
        return bool(ok and libc.mallopt(-1, 512 * 1024 * 1024))  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        return False
