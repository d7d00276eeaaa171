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

MEASURES = ("GrayVol", "SurfArea", "ThickAvg", "ThickStd")


def coupling_cohort(
    n: int = 400,
    n_pathways: int = 8,
    n_regions: int = 16,
    pairs: tuple[tuple[int, int, int], ...] = ((0, 3, 2), (1, 7, 2), (2, 12, 2)),
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
