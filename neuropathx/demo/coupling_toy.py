"""A small planted pathway-region coupling, in memory, for the region-identity checks.

Pathway scores ``g`` (N, P) and measures ``m`` (N, R, F) are standard normal; diagnosis
``d`` is a fair coin independent of both. For each planted pair (j, r, f):

    m[:, r, f] += kappa (2d - 1) g[:, j]

the coupling of the demo's ``coupling`` scenario (``demo.scenarios``): neither the pathway
nor the region differs in mean between the groups, only the sign of their product does.
Used by ``tests/test_model_region.py`` and ``bench/region_identity.py``.
"""

from __future__ import annotations

import numpy as np

from neuropathx.cohort import CohortArrays
from neuropathx.metrics import rank_auc

MEASURES = ("GrayVol", "SurfArea", "ThickAvg", "ThickStd")
PAIRS = ((0, 3, 2), (1, 7, 2), (2, 12, 2))  # planted (pathway, region, measure) couplings


def coupling_cohort(
    n: int = 400,
    n_pathways: int = 8,
    n_regions: int = 16,
    pairs: tuple[tuple[int, int, int], ...] = PAIRS,
    kappa: float = 0.8,
    seed: int = 0,
) -> CohortArrays:
    """``n`` subjects (half patients, shuffled) with the couplings ``pairs`` (j, r, f)."""
    for j, r, f in pairs:
        if not (0 <= j < n_pathways and 0 <= r < n_regions and 0 <= f < len(MEASURES)):
            raise ValueError(f"pair {(j, r, f)} is outside {n_pathways} x {n_regions} x 4")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 2)
    genetics = rng.normal(size=(n, n_pathways))
    imaging = rng.normal(size=(n, n_regions, len(MEASURES)))
    for j, r, f in pairs:
        imaging[:, r, f] += kappa * (2 * labels - 1) * genetics[:, j]
    return CohortArrays(
        np.array([f"sub-{i:04d}" for i in range(n)]),
        labels,
        genetics,
        [f"path{j}" for j in range(n_pathways)],
        imaging,
        [f"reg{r}" for r in range(n_regions)],
        list(MEASURES),
    )


def split_roles(n: int, seed: int = 0, val: float = 0.15, test: float = 0.25) -> np.ndarray:
    """A random train/val/test assignment of ``n`` subjects (the ``roles`` of ``train_fold``)."""
    rng = np.random.default_rng(seed + 1000)
    n_val, n_test = round(n * val), round(n * test)
    roles = np.array(["test"] * n_test + ["val"] * n_val + ["train"] * (n - n_val - n_test))
    return roles[rng.permutation(n)]


def planted_pair_auroc(
    attention: np.ndarray, labels: np.ndarray, pairs: tuple[tuple[int, int, int], ...]
) -> float:
    """AUROC of the planted (pathway, region) pairs against all the other pairs, ranked by
    ``|mean attention in patients - mean in controls|`` (attention (N, P, R), labels (N,))."""
    labels = np.asarray(labels).astype(bool)
    if labels.all() or not labels.any():
        raise ValueError("planted_pair_auroc needs patients and controls")
    contrast = np.abs(attention[labels].mean(0) - attention[~labels].mean(0))  # (P, R)
    planted = np.zeros(contrast.shape, dtype=int)
    for j, r, _ in pairs:
        planted[j, r] = 1
    return rank_auc(planted.ravel(), contrast.ravel())


def compare_region_identity(
    seeds: list[int], region_dim: int, params: dict, **cohort_kw
) -> list[dict]:
    """Per seed: test AUC and planted-pair AUROC (test subjects' attention) of the paper's
    model (``region_dim`` 0) and of the region-identity variant, trained by ``train_fold``
    with ``params`` on ``coupling_cohort(**cohort_kw, seed=seed)``."""
    from neuropathx.training import train_fold

    pairs = cohort_kw.get("pairs", PAIRS)
    rows = []
    for seed in seeds:
        cohort = coupling_cohort(**cohort_kw, seed=seed)
        roles = split_roles(len(cohort.subjects), seed)
        for dim in (0, region_dim):
            result = train_fold(cohort, roles, {**params, "region_dim": dim}, seed=seed)
            rows.append(
                {
                    "seed": seed,
                    "model": "neuropathx" if dim == 0 else "neuropathx_region",
                    "region_dim": dim,
                    "auc": float(result.metrics["auc"]),
                    "pairs_auroc": planted_pair_auroc(result.attention, result.test_labels, pairs),
                    "best_epoch": int(result.metrics["best_epoch"]),
                }
            )
    return rows
