"""Model-free rankings of region-pathway links from the cohort tables, for fair truth checks.

A fusion model's explanation is only worth its cost if it ranks planted pairs better than
rankings any analyst gets without it. Two are built here, both (P, R) score matrices:

- ``univariate_product``: |d(pathway score)| x max over measures |d(region measure)|, with d
  the standardised patient-control mean difference on all cohort subjects (a descriptive
  ranking, no fitted model, so no held-out rows are needed). It finds the right pathways and
  the right regions but cannot tell which pathway goes with which region.
- ``elastic_net_interaction``: a linear elastic net of the label on the z-scored main
  effects and every pathway x region-measure product, fitted on the training rows of each
  fold of the first CV repeat (z-scoring with training statistics); a link's score is the
  root sum of squares of its F interaction coefficients, averaged over folds. The penalty
  is chosen by inner 3-fold CV on the training rows. A linear (not logistic) elastic net:
  coordinate descent on ~10^4 columns is seconds, and only the ranking of coefficients is
  used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neuropathx.cohort import CohortArrays, load_cohort
from neuropathx.io import read_tsv

L1_RATIO = 0.5


def standardised_difference(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Cohen's d (pooled SD) of every column of x (N, ...) between patients and controls."""
    pat, ctl = x[labels == 1], x[labels == 0]
    n1, n0 = len(pat), len(ctl)
    pooled = ((n1 - 1) * pat.var(axis=0, ddof=1) + (n0 - 1) * ctl.var(axis=0, ddof=1)) / (
        n1 + n0 - 2
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (pat.mean(axis=0) - ctl.mean(axis=0)) / np.sqrt(pooled)
    return np.nan_to_num(d)


def univariate_product(cohort: CohortArrays) -> np.ndarray:
    """(P, R) |d pathway| x max_f |d region measure f|."""
    d_path = np.abs(standardised_difference(cohort.genetics, cohort.labels))
    d_region = np.abs(standardised_difference(cohort.imaging, cohort.labels)).max(axis=1)
    return np.outer(d_path, d_region)


def _zscore(train: np.ndarray, x: np.ndarray) -> np.ndarray:
    mean, sd = train.mean(axis=0), train.std(axis=0)
    return (x - mean) / np.where(sd > 0, sd, 1.0)


def interaction_design(genetics: np.ndarray, imaging: np.ndarray) -> np.ndarray:
    """[pathways, region measures, pathway x region-measure products] (N, P + RF + P·R·F)."""
    n = len(genetics)
    flat = imaging.reshape(n, -1)
    products = (genetics[:, :, None] * flat[:, None, :]).reshape(n, -1)
    return np.hstack([genetics, flat, products])


def elastic_net_interaction(
    cohort: CohortArrays, train_masks: list[np.ndarray], seed: int
) -> np.ndarray:
    """(P, R) fold-averaged norm of each link's interaction coefficients (training rows only)."""
    from sklearn.linear_model import ElasticNetCV

    n_p, n_r, n_f = len(cohort.pathways), len(cohort.regions), len(cohort.measures)
    scores = np.zeros((n_p, n_r))
    for mask in train_masks:
        g = _zscore(cohort.genetics[mask], cohort.genetics[mask])
        img = _zscore(cohort.imaging[mask], cohort.imaging[mask])
        x = interaction_design(g, img)
        x = _zscore(x, x)
        y = cohort.labels[mask].astype(float)
        fit = ElasticNetCV(
            l1_ratio=L1_RATIO, alphas=12, cv=3, max_iter=2000, tol=1e-3, random_state=seed
        ).fit(x, y - y.mean())
        inter = fit.coef_[n_p + n_r * n_f :].reshape(n_p, n_r, n_f)
        scores += np.sqrt((inter**2).sum(axis=2))
    return scores / max(len(train_masks), 1)


def align(score: np.ndarray, cohort: CohortArrays, pathways: list[str], regions: list[str]):
    """Reorder a cohort-ordered (P, R) score to the attention's pathways and regions."""
    p_index = {p: i for i, p in enumerate(cohort.pathways)}
    r_index = {r: i for i, r in enumerate(cohort.regions)}
    missing = [p for p in pathways if p not in p_index] + [r for r in regions if r not in r_index]
    if missing:
        raise ValueError(f"attention names not in the cohort tables: {missing[:5]}")
    return score[np.ix_([p_index[p] for p in pathways], [r_index[r] for r in regions])]


def training_masks(splits_tsv: str | Path, subjects: np.ndarray, repeat: int = 1) -> list:
    """Boolean training-row masks (cohort order) of every fold of one CV repeat."""
    from neuropathx.splits import fold_roles

    splits = read_tsv(splits_tsv, required=["repeat", "fold", "role"])
    folds = sorted(splits.loc[splits["repeat"] == repeat, "fold"].unique())
    return [fold_roles(splits_tsv, subjects, repeat, int(f)) == "train" for f in folds]


def model_free_rankings(
    cohort_files: dict, pathways: list[str], regions: list[str], seed: int
) -> dict[str, np.ndarray]:
    """Both model-free (P, R) rankings, in the attention's pathway and region order."""
    cohort = load_cohort(cohort_files["subjects"], cohort_files["genetics"],
                         cohort_files["imaging"])  # fmt: skip
    masks = training_masks(cohort_files["splits"], cohort.subjects)
    return {
        "univariate_product": align(univariate_product(cohort), cohort, pathways, regions),
        "elastic_net_interaction": align(
            elastic_net_interaction(cohort, masks, seed), cohort, pathways, regions
        ),
    }
