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
from neuropathx.reporting.contrasts import CONTRASTS, contrast_table
from neuropathx.reporting.permutation import subject_attention, tested_repeat
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
    """Train NeuroPathX on every (repeat, fold) and stack the test-subject attention.

    ``params`` may set ``seeds`` (K): each fold is then a K-seed ensemble, as
    ``training.seeds`` trains it in the workflow (its averaged attention)."""
    from neuropathx.training.ensemble import train_seed_ensemble

    splits = make_splits(cohort.subjects, cohort.labels, repeats, folds, 0.125, seed)
    mats, labels, subjects, fold_ids, repeat_ids = [], [], [], [], []
    for i, ((repeat, _), part) in enumerate(splits.groupby(["repeat", "fold"], sort=True)):
        role = dict(zip(part["participant_id"], part["role"], strict=True))
        roles = np.array([role.get(s, "") for s in cohort.subjects])
        result = train_seed_ensemble(
            cohort, roles, {**FAST_MODEL, **(params or {})}, seed=seed + i, device="cpu", threads=1
        ).result
        mats.append(result.attention)
        labels.append(result.test_labels)
        subjects.append(result.test_subjects)
        fold_ids.append(np.full(len(result.attention), i))
        repeat_ids.append(np.full(len(result.attention), repeat))
    return AttentionStack(
        np.concatenate(mats),
        np.concatenate(labels).astype(int),
        np.concatenate(subjects),
        np.concatenate(fold_ids),
        np.concatenate(repeat_ids),
        list(cohort.pathways),
        list(cohort.regions),
    )


def null_pvalues(stack: AttentionStack, n_permutations: int, seed: int) -> dict:
    """Per contrast, the (P·R,) p and max-T p of the report's test on one null stack.

    ``raw`` / ``pair``: the report's design (estimates from all repeats, permutation test on
    the first repeat's test attention, through ``contrast_table``). With repeats, also
    ``raw_pooled`` / ``pair_pooled``: the replaced design that tested the subjects'
    attention averaged over all repeats, kept to show why it was replaced.
    """
    everyone = subject_attention(stack)
    first = subject_attention(stack, repeat=tested_repeat(stack))
    designs = {"": first, "_pooled": everyone} if stack.n_repeats > 1 else {"": first}
    names = [f"P{j}" for j in range(stack.attention.shape[1])]
    regions = [f"R{r}" for r in range(stack.attention.shape[2])]
    out = {}
    for suffix, tested in designs.items():
        for contrast in CONTRASTS:
            table = contrast_table(
                everyone, names, regions, contrast, n_permutations, seed, 0.05, tested=tested
            )
            out[contrast + suffix] = (table["p"].to_numpy(), table["p_maxT"].to_numpy())
    return out


def summarise_null(runs: list[dict], alpha: float = 0.05) -> dict:
    """fpr_p05 (pooled over runs) and fwer_maxT (share of runs with any p_maxT < alpha) of
    every design in the runs: ``fpr_p05`` (raw), ``fpr_p05_pair``, ``fpr_p05_pooled``, ..."""
    out = {}
    for key in runs[0]:
        suffix = "" if key == "raw" else "_" + key.removeprefix("raw_")
        p = np.concatenate([r[key][0] for r in runs])
        fwer = np.mean([(r[key][1] < alpha).any() for r in runs])
        out[f"fpr_p05{suffix}"] = float((p < alpha).mean())
        out[f"fwer_maxT{suffix}"] = float(fwer)
    n = len(runs)
    out["fwer_margin"] = float(1.96 * np.sqrt(alpha * (1 - alpha) / n))  # binomial, 95 %
    return out
