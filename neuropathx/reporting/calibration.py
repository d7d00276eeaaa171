"""Null calibration of the link p-values on real NeuroPathX training runs.

A null cohort has labels drawn independently of genetics and imaging; every link is then
null, so the share of links with p < 0.05 should be 0.05 and the share of cohorts with any
max-T-adjusted p < 0.05 should be at most 0.05. ``null_calibration`` trains real (small,
short) NeuroPathX models on every fold of repeated stratified CV, stacks their test-subject
attention exactly as the report stage does, and runs the report's permutation code on it.
``bench/null_calibration.py`` is the command line; a small run is in the test suite.
"""

from __future__ import annotations

import numpy as np

from neuropathx.cohort import CohortArrays
from neuropathx.reporting.attention import AttentionStack
from neuropathx.reporting.contrasts import CONTRASTS, contrast_values
from neuropathx.reporting.permutation import permutation_test, subject_attention
from neuropathx.splits import make_splits

# small and short: the calibration is about the statistics, not about a good model
FAST_MODEL = {
    "d_q": 8,
    "d_qk": 8,
    "d_v": 4,
    "hidden": 8,
    "epochs": 4,
    "min_epochs": 1,
    "patience": 2,
    "lr": 1e-3,
    "batch_size": 64,
}
MEASURES = ["GrayVol", "SurfArea", "ThickAvg", "ThickStd"]


def null_cohort(n: int, n_pathways: int, n_regions: int, seed: int) -> CohortArrays:
    """Correlated pathway scores and regional measures, labels independent of both."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=(n, 1))  # some correlation, as real pathway scores have
    genetics = 0.4 * shared + rng.normal(size=(n, n_pathways))
    imaging = rng.normal(size=(n, n_regions, len(MEASURES))) + 0.5 * rng.normal(size=(n, 1, 1))
    return CohortArrays(
        np.array([f"sub-{i:04d}" for i in range(n)]),
        rng.permutation(np.arange(n) % 2),
        genetics,
        [f"PW{j:02d}" for j in range(n_pathways)],
        imaging,
        [f"region{r:02d}" for r in range(n_regions)],
        list(MEASURES),
    )


def cv_attention(
    cohort: CohortArrays, repeats: int, folds: int, seed: int, params: dict | None = None
) -> AttentionStack:
    """Train NeuroPathX on every (repeat, fold) and stack the test-subject attention."""
    from neuropathx.training.loop import train_fold

    splits = make_splits(cohort.subjects, cohort.labels, repeats, folds, 0.125, seed)
    mats, labels, subjects, fold_ids = [], [], [], []
    for i, ((_, _), part) in enumerate(splits.groupby(["repeat", "fold"], sort=True)):
        role = dict(zip(part["participant_id"], part["role"], strict=True))
        roles = np.array([role.get(s, "") for s in cohort.subjects])
        result = train_fold(
            cohort, roles, {**FAST_MODEL, **(params or {})}, seed=seed + i, device="cpu", threads=1
        )
        mats.append(result.attention)
        labels.append(result.test_labels)
        subjects.append(result.test_subjects)
        fold_ids.append(np.full(len(result.attention), i))
    return AttentionStack(
        np.concatenate(mats),
        np.concatenate(labels).astype(int),
        np.concatenate(subjects),
        np.concatenate(fold_ids),
        list(cohort.pathways),
        list(cohort.regions),
    )


def null_pvalues(stack: AttentionStack, n_permutations: int, seed: int) -> dict:
    """Per contrast, the (P·R,) p and max-T p of the report's test on one null stack."""
    subjects = subject_attention(stack)
    out = {}
    for contrast in CONTRASTS:
        res = permutation_test(
            contrast_values(subjects, contrast), subjects.labels, n_permutations, seed
        )
        out[contrast] = (res.p.ravel(), res.p_maxT.ravel())
    return out


def summarise_null(runs: list[dict], alpha: float = 0.05) -> dict:
    """fpr_p05 (pooled over runs) and fwer_maxT (share of runs with any p_maxT < alpha)."""
    out = {}
    for contrast in CONTRASTS:
        suffix = "" if contrast == "raw" else f"_{contrast}"
        p = np.concatenate([r[contrast][0] for r in runs])
        fwer = np.mean([(r[contrast][1] < alpha).any() for r in runs])
        out[f"fpr_p05{suffix}"] = float((p < alpha).mean())
        out[f"fwer_maxT{suffix}"] = float(fwer)
    n = len(runs)
    out["fwer_margin"] = float(1.96 * np.sqrt(alpha * (1 - alpha) / n))  # binomial, 95 %
    return out
