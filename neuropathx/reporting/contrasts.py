"""Link contrasts of class-mean attention: the raw difference and a pair-specific one.

The raw contrast of link (pathway j, region r) is D_jr = Ā_PAT − Ā_ND. A region whose
measures differ by diagnosis on their own shifts its whole column of D, and a pathway its
whole row; on the demo D is 63-69 % rank one, so the top raw links are a few regions paired
with almost every pathway. The pair-specific contrast removes those main effects by double
centring, D_jr − D̄_j· − D̄_·r + D̄_··: it is large only where that pathway-region pairing
differs beyond what its pathway and its region differ on their own. Double centring is
linear, so centring every subject's matrix first gives the same class-mean contrast and
lets the same permutation test run on it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neuropathx.reporting.permutation import (
    SubjectAttention,
    benjamini_hochberg,
    contrast_weights,
    permutation_test,
    subject_attention,
)

CONTRASTS = ("raw", "pair")


def double_centre(matrices: np.ndarray) -> np.ndarray:
    """Remove row and column means of the last two axes (…, P, R), adding the grand mean back."""
    rows = matrices.mean(axis=-1, keepdims=True)
    cols = matrices.mean(axis=-2, keepdims=True)
    grand = matrices.mean(axis=(-2, -1), keepdims=True)
    return matrices - rows - cols + grand


def contrast_values(subjects: SubjectAttention, contrast: str) -> np.ndarray:
    """Per-subject (N, P, R) matrices whose class-mean difference is the named contrast."""
    if contrast == "raw":
        return subjects.attention
    if contrast == "pair":
        return double_centre(subjects.attention)
    raise ValueError(f"contrast must be one of {CONTRASTS}; got {contrast!r}")


def contrast_table(
    subjects: SubjectAttention,
    pathways: list[str],
    regions: list[str],
    contrast: str,
    n_permutations: int,
    seed: int,
    alpha: float,
    call_on: str = "p_maxT",
    tested: SubjectAttention | None = None,
) -> pd.DataFrame:
    """Every link of one contrast: effect, t, p, max-T p, BH q, called; ranked by |t|.

    ``effect`` and ``t`` (the ranking) come from ``subjects`` (all repeats), ``p``, ``p_maxT``,
    ``q_bh`` and ``called`` from the permutation test of ``tested`` (default ``subjects``; the
    report passes the first repeat's attention, see neuropathx.reporting.permutation).
    ``called``: ``call_on`` (p_maxT or q_bh) < ``alpha``. Rank 1 = largest |t| (ties: |effect|).
    """
    values = contrast_values(subjects, contrast)
    effect = np.tensordot(contrast_weights(subjects.labels), values, axes=1)
    t = permutation_test(values, subjects.labels, 0, seed).t
    tested = subjects if tested is None else tested
    result = permutation_test(
        contrast_values(tested, contrast), tested.labels, n_permutations, seed
    )
    table = pd.DataFrame(
        {
            "pathway": np.repeat(pathways, len(regions)),
            "region": np.tile(regions, len(pathways)),
            "contrast": contrast,
            "effect": effect.ravel(),
            "t": t.ravel(),
            "p": result.p.ravel(),
            "p_maxT": result.p_maxT.ravel(),
            "q_bh": benjamini_hochberg(result.p).ravel(),
        }
    )
    if call_on not in ("p_maxT", "q_bh"):
        raise ValueError(f"report.call_on must be p_maxT or q_bh; got {call_on!r}")
    table["called"] = table[call_on] < alpha
    order = np.lexsort((-table["effect"].abs().to_numpy(), -table["t"].abs().to_numpy()))
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def score_matrix(table: pd.DataFrame, pathways: list[str], regions: list[str]) -> np.ndarray:
    """(P, R) |t| of a contrast table, for rankings that need a matrix."""
    wide = table.pivot(index="pathway", columns="region", values="t")
    return np.abs(wide.loc[pathways, regions].to_numpy())


def fold_stability(stack, contrast: str, top_k: int) -> np.ndarray:
    """Share of folds in which each link is among that fold's top_k by |contrast|, (P, R)."""
    counts = np.zeros(stack.attention.shape[1:])
    used = 0
    for f in range(stack.n_folds):
        rows = stack.fold == f
        labels = stack.labels[rows]
        if len(np.unique(labels)) < 2:
            continue
        att = stack.attention[rows].astype(np.float64)
        if contrast == "pair":
            att = double_centre(att)
        diff = np.abs(np.tensordot(contrast_weights(labels), att, axes=1)).ravel()
        counts.ravel()[np.argsort(-diff, kind="stable")[:top_k]] += 1
        used += 1
    return counts / max(used, 1)


def repeat_stability(stack, contrast: str, top_k: int) -> np.ndarray:
    """Share of CV repeats in which each link is among that repeat's top_k by |t|, (P, R).

    Each repeat tests every subject once, so each gives a full ranking of its own (models
    trained on other splits); with one repeat this is 1 for the top_k links and 0 elsewhere.
    """
    counts = np.zeros(stack.attention.shape[1:])
    repeats = np.unique(stack.repeat)
    for r in repeats:
        subjects = subject_attention(stack, repeat=int(r))
        values = contrast_values(subjects, contrast)
        t = np.abs(permutation_test(values, subjects.labels, 0, 0).t).ravel()
        counts.ravel()[np.argsort(-t, kind="stable")[:top_k]] += 1
    return counts / len(repeats)
