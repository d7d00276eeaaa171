"""Region-pathway associations from NeuroPathX attention matrices of test subjects.

Each fold's ``attention.npz`` holds the (n_test, P, R) attention of its test subjects. The
association of a link (pathway j, region r) is the difference between the mean attention
of patients and of controls, Ā_PAT − Ā_ND. We add what the paper lacks: stability of each
link across folds and a permutation p-value (labels permuted within folds, since each fold
has its own model), with Benjamini-Hochberg q-values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.errors import InputError


@dataclass
class AttentionStack:
    """Test-subject attention of all folds of one model, stacked."""

    attention: np.ndarray  # (N, P, R) float32, N = test subjects over all folds
    labels: np.ndarray  # (N,) 1 = patient
    subjects: np.ndarray  # (N,)
    fold: np.ndarray  # (N,) index of the file each row came from
    pathways: list[str]
    regions: list[str]

    @property
    def n_folds(self) -> int:
        return int(self.fold.max()) + 1 if len(self.fold) else 0


def load_attention(paths: list[str | Path]) -> AttentionStack:
    """Stack the attention files of all folds; they must share pathways and regions."""
    if not paths:
        raise ValueError("no attention files given")
    mats, labels, subjects, folds = [], [], [], []
    pathways = regions = None
    for i, path in enumerate(paths):
        with np.load(path, allow_pickle=False) as data:
            missing = {"attention", "label", "participant_id", "pathways", "regions"} - set(
                data.files
            )
            if missing:
                raise InputError(path, f"attention file lacks {sorted(missing)}")
            p, r = data["pathways"].tolist(), data["regions"].tolist()
            if pathways is None:
                pathways, regions = p, r
            elif p != pathways or r != regions:
                raise InputError(path, f"pathways/regions differ from {paths[0]}")
            att = data["attention"].astype(np.float32)
            if att.shape[1:] != (len(p), len(r)):
                raise InputError(path, f"attention shape {att.shape} does not match names")
            mats.append(att)
            labels.append(data["label"].astype(int))
            subjects.append(data["participant_id"].astype(str))
            folds.append(np.full(len(att), i))
    return AttentionStack(
        np.concatenate(mats),
        np.concatenate(labels),
        np.concatenate(subjects),
        np.concatenate(folds),
        pathways,
        regions,
    )


def class_means(stack: AttentionStack) -> tuple[np.ndarray, np.ndarray]:
    """Mean attention of patients and of controls, each (P, R)."""
    pat, ctl = stack.labels == 1, stack.labels == 0
    if not pat.any() or not ctl.any():
        raise ValueError("attention of both patients and controls is needed for the report")
    return stack.attention[pat].mean(axis=0), stack.attention[ctl].mean(axis=0)


def _contrast_weights(labels: np.ndarray) -> np.ndarray:
    """Row weights w such that w @ X = mean(X[patients]) - mean(X[controls])."""
    n1, n0 = (labels == 1).sum(), (labels == 0).sum()
    return np.where(labels == 1, 1.0 / n1, -1.0 / n0)


def permutation_pvalues(
    stack: AttentionStack, n_permutations: int, seed: int, chunk: int = 100
) -> np.ndarray:
    """Two-sided permutation p-values of every link's patient-control difference, (P, R).

    Labels are shuffled within each fold; p = (1 + #|null| >= |observed|) / (1 + n).
    """
    flat = stack.attention.reshape(len(stack.labels), -1)
    observed = np.abs(_contrast_weights(stack.labels) @ flat)
    if n_permutations == 0:
        return np.full(stack.attention.shape[1:], np.nan)
    rng = np.random.default_rng(seed)
    exceed = np.zeros_like(observed)
    groups = [np.flatnonzero(stack.fold == f) for f in range(stack.n_folds)]
    done = 0
    while done < n_permutations:
        size = min(chunk, n_permutations - done)
        weights = np.empty((size, len(stack.labels)))
        for k in range(size):
            labels = stack.labels.copy()
            for idx in groups:
                labels[idx] = rng.permutation(labels[idx])
            weights[k] = _contrast_weights(labels)
        null = np.abs(weights @ flat)
        exceed += (null >= observed - 1e-12).sum(axis=0)
        done += size
    return ((1 + exceed) / (1 + n_permutations)).reshape(stack.attention.shape[1:])


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH false-discovery-rate q-values of an array of p-values (NaN stays NaN)."""
    flat = p.ravel()
    q = np.full_like(flat, np.nan, dtype=float)
    ok = np.flatnonzero(~np.isnan(flat))
    if len(ok):
        order = ok[np.argsort(flat[ok])]
        ranked = flat[order] * len(ok) / np.arange(1, len(ok) + 1)
        q[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return q.reshape(p.shape)


def fold_stability(stack: AttentionStack, top_k: int) -> np.ndarray:
    """Share of folds in which each link is among that fold's top_k by |difference|, (P, R)."""
    counts = np.zeros(stack.attention.shape[1:])
    used = 0
    for f in range(stack.n_folds):
        rows = stack.fold == f
        labels = stack.labels[rows]
        if len(np.unique(labels)) < 2:
            continue
        diff = np.abs(_contrast_weights(labels) @ stack.attention[rows].reshape(rows.sum(), -1))
        top = np.argsort(-diff, kind="stable")[:top_k]
        counts.ravel()[top] += 1
        used += 1
    return counts / max(used, 1)


def link_table(stack: AttentionStack, n_permutations: int, top_k: int, seed: int) -> pd.DataFrame:
    """Every link with class means, difference, rank, stability, p and q (ranked)."""
    pat, ctl = class_means(stack)
    diff = pat - ctl
    p = permutation_pvalues(stack, n_permutations, seed)
    table = pd.DataFrame(
        {
            "pathway": np.repeat(stack.pathways, len(stack.regions)),
            "region": np.tile(stack.regions, len(stack.pathways)),
            "mean_patients": pat.ravel(),
            "mean_controls": ctl.ravel(),
            "difference": diff.ravel(),
            "stability": fold_stability(stack, top_k).ravel(),
            "p_perm": p.ravel(),
            "q_bh": benjamini_hochberg(p).ravel(),
        }
    )
    table = table.sort_values("difference", key=np.abs, ascending=False, kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)
