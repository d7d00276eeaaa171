"""How much of a result is the seed: link ranks and fold metrics across ensemble members.

A seed ensemble (``training.seeds: K``, neuropathx.training.ensemble) stores, per fold, each
member's sums of test attention over patients and over controls (``attention.npz``
``seed_patient_sum`` / ``seed_control_sum``, (K, P, R)) and each member's test metrics
(``metrics.json`` ``seeds``). Pooled over folds, the sums give every member's Ā_PAT − Ā_ND
exactly as the report computes it for the ensemble, so each member ranks the links itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.errors import InputError
from neuropathx.metrics import rank_auc

SEED_ARRAYS = ("seed_patient_sum", "seed_control_sum")


def seed_differences(attention_files: list[str | Path]) -> np.ndarray | None:
    """Each member's Ā_PAT − Ā_ND over the test subjects of all folds, (K, P, R); None when
    the files hold no per-seed sums (written before seed ensembles existed)."""
    pat_sum = ctl_sum = None
    n_pat = n_ctl = 0
    for path in attention_files:
        with np.load(path, allow_pickle=False) as data:
            if not set(SEED_ARRAYS) <= set(data.files):
                return None
            pat, ctl, labels = data[SEED_ARRAYS[0]], data[SEED_ARRAYS[1]], data["label"]
        if pat_sum is None:
            pat_sum, ctl_sum = pat.astype(np.float64), ctl.astype(np.float64)
        elif pat.shape != pat_sum.shape:
            raise InputError(
                path,
                f"per-seed attention of shape {pat.shape}, but {attention_files[0]} has "
                f"{pat_sum.shape}: every fold must be trained with the same training.seeds",
            )
        else:
            pat_sum, ctl_sum = pat_sum + pat, ctl_sum + ctl
        n_pat += int((labels == 1).sum())
        n_ctl += int((labels == 0).sum())
    if pat_sum is None or n_pat == 0 or n_ctl == 0:
        return None
    return pat_sum / n_pat - ctl_sum / n_ctl


def top_link_sets(differences: np.ndarray, top_k: int) -> list[set[int]]:
    """Each member's top_k links by |Ā_PAT − Ā_ND|, as flat (pathway, region) indices."""
    flat = np.abs(differences.reshape(len(differences), -1))
    return [set(np.argsort(-row, kind="stable")[:top_k].tolist()) for row in flat]


def jaccard(a: set, b: set) -> float:
    """|a ∩ b| / |a ∪ b| (1 for two empty sets)."""
    return len(a & b) / len(a | b) if a | b else 1.0


def seed_link_shares(
    attention_files: list[str | Path],
    links: pd.DataFrame,
    pathways,
    regions,
    top_k: int,
    contrast: str = "raw",
) -> pd.Series:
    """For each row of ``links`` (pathway, region), the share of seeds in whose own top_k
    the link is; NaN with fewer than two seeds. ``contrast``: rank each seed's Ā_PAT − Ā_ND
    as it is (``raw``) or double-centred (``pair``: row and column means removed)."""
    diffs = seed_differences(attention_files)
    if diffs is None or len(diffs) < 2:
        return pd.Series(np.nan, index=links.index, name="seed_stability")
    if contrast == "pair":
        diffs = (
            diffs
            - diffs.mean(axis=2, keepdims=True)
            - diffs.mean(axis=1, keepdims=True)
            + diffs.mean(axis=(1, 2), keepdims=True)
        )
    counts = np.zeros(diffs.shape[1] * diffs.shape[2])
    for top in top_link_sets(diffs, top_k):
        counts[list(top)] += 1
    p_index = {p: i for i, p in enumerate(pathways)}
    r_index = {r: i for i, r in enumerate(regions)}
    flat = [
        p_index[p] * len(regions) + r_index[r]
        for p, r in zip(links["pathway"], links["region"], strict=True)
    ]
    return pd.Series(counts[flat] / len(diffs), index=links.index, name="seed_stability")


def seed_stability_markdown(links: pd.DataFrame, top_k: int) -> str:
    """A report section: how often each top link is in the top_k of the individual seeds."""
    if "seed_stability" not in links or links["seed_stability"].isna().all():
        return (
            "Seed stability: one seed per fold (`training.seeds: 1`); train a seed ensemble "
            "to see how much of the ranking is the seed.\n"
        )
    lines = [
        f"## Seed stability of the top {top_k} links",
        "",
        f"Share of the ensemble's seeds in whose own top {top_k} each link is (each seed's",
        "Ā_PAT − Ā_ND over the test subjects of all folds, double-centred when the headline",
        "contrast is the pair-specific one).",
        "",
        "| rank | pathway | region | seed stability |",
        "|---|---|---|---|",
    ]
    for _, r in links.head(top_k).iterrows():
        lines.append(
            f"| {r['rank']} | {r['pathway']} | {r['region']} | {r['seed_stability']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def seed_spread(metrics: dict) -> dict[str, float]:
    """Spread across the seeds of one fold (metrics.json ``seeds``): the SD (ddof 1) of the
    members' test AUC and their number; NaN SD with one seed."""
    aucs = [a for a in (metrics.get("seeds") or {}).get("auc", []) if a is not None]
    n = len(aucs)
    sd = float(np.std(aucs, ddof=1)) if n >= 2 else float("nan")
    return {"n_seeds": n or 1, "auc_seed_sd": sd}


def seed_spread_markdown(folds: pd.DataFrame) -> str:
    """A sentence per seed-ensemble model: mean over folds of the within-fold SD of test AUC."""
    if "auc_seed_sd" not in folds:
        return ""
    lines = []
    for model, rows in folds.groupby("model", sort=False):
        sd = rows["auc_seed_sd"].dropna()
        if len(sd):
            lines.append(
                f"Seed spread of `{model}`: test AUC SD across its {int(rows['n_seeds'].max())} "
                f"seeds {sd.mean():.3f} (mean over {len(sd)} folds; range {sd.min():.3f}-"
                f"{sd.max():.3f}); the table shows the seed ensemble."
            )
    return "\n".join(lines) + "\n" if lines else ""


def disjoint_groups(n_members: int, size: int) -> list[list[int]]:
    """Members 0..n-1 cut into consecutive groups of ``size`` (independent sub-ensembles)."""
    return [list(range(i, i + size)) for i in range(0, n_members - size + 1, size)]


def ensemble_size_spread(attention_files: list[str | Path], size: int, top_k: int) -> dict:
    """What a seed ensemble of ``size`` members buys, from the members of a larger one:
    the SD of each fold's test AUC across independent sub-ensembles (mean over folds) and
    the mean Jaccard overlap of the top_k links between two independent sub-ensembles."""
    sds = []
    for path in attention_files:
        with np.load(path, allow_pickle=False) as data:
            prob, labels = data["seed_probability"], data["label"]
        groups = disjoint_groups(len(prob), size)
        if len(groups) >= 2:
            aucs = [rank_auc(labels, prob[g].mean(axis=0)) for g in groups]
            sds.append(float(np.std(aucs, ddof=1)))
    diffs = seed_differences(attention_files)
    groups = disjoint_groups(len(diffs), size)
    tops = top_link_sets(np.stack([diffs[g].mean(axis=0) for g in groups]), top_k)
    pairs = [(tops[i], tops[i + 1]) for i in range(0, len(tops) - 1, 2)]
    return {
        "ensemble_size": size,
        "independent_ensembles": len(groups),
        "fold_auc_sd": float(np.mean(sds)) if sds else float("nan"),
        "top_links_jaccard": float(np.mean([jaccard(a, b) for a, b in pairs]))
        if pairs
        else float("nan"),
        "jaccard_pairs": len(pairs),
    }
