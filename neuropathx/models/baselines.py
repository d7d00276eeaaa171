"""Baselines trained on the same folds as NeuroPathX (METHOD.md section 6).

- ``logreg_concat`` / ``logreg_imaging`` / ``logreg_genetics``: elastic-net logistic
  regression on standardised features of both / one modality.
- ``cca``: canonical correlation between pathway scores and regional features fitted on the
  training part, canonical variates of both sets -> logistic regression.

Covariate and site adjustment (neuropathx.adjust) and preprocessing are fitted on
training rows only; the regularisation strength is chosen on the
validation part (as NeuroPathX's epoch is), and the test part is scored once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cross_decomposition import CCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from neuropathx.adjust import adjust_fold
from neuropathx.cohort import CohortArrays
from neuropathx.io import write_json, write_tsv
from neuropathx.metrics import binary_metrics, rank_auc

BASELINES = ("logreg_concat", "logreg_imaging", "logreg_genetics", "cca")
C_GRID = (0.001, 0.01, 0.1, 1.0)
CCA_COMPONENTS = 5


@dataclass
class BaselineResult:
    """Predictions and metrics of one baseline on one fold."""

    name: str
    predictions: pd.DataFrame
    metrics: dict = field(default_factory=dict)


def _features(cohort: CohortArrays, name: str) -> np.ndarray:
    if name == "logreg_imaging":
        return cohort.imaging_flat
    if name == "logreg_genetics":
        return cohort.genetics
    return np.hstack([cohort.genetics, cohort.imaging_flat])


def _check_fold(cohort: CohortArrays, roles: np.ndarray) -> None:
    for role in ("train", "val", "test"):
        labels = cohort.labels[roles == role]
        if len(labels) == 0:
            raise ValueError(f"fold has no {role} subjects")
        if role != "test" and len(np.unique(labels)) < 2:
            raise ValueError(f"the {role} part of the fold holds a single class ({labels[0]})")


def _cca_variates(cohort: CohortArrays, train: np.ndarray) -> np.ndarray:
    """Canonical variates of genetics and imaging, CCA fitted on training rows (NIPALS:
    deterministic, no seed)."""
    gen = StandardScaler().fit(cohort.genetics[train])
    img = StandardScaler().fit(cohort.imaging_flat[train])
    g, i = gen.transform(cohort.genetics), img.transform(cohort.imaging_flat)
    k = min(CCA_COMPONENTS, g.shape[1], i.shape[1], int(train.sum()) - 1)
    cca = CCA(n_components=k, max_iter=1000).fit(g[train], i[train])
    u, v = cca.transform(g, i)
    return np.hstack([u, v])


def train_baseline_fold(
    cohort: CohortArrays, roles: np.ndarray, name: str, *, seed: int
) -> BaselineResult:
    """Fit baseline ``name`` on the fold's training part; choose C on validation AUC."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; expected one of {BASELINES}")
    roles = np.asarray(roles)
    _check_fold(cohort, roles)
    train, val, test = (roles == r for r in ("train", "val", "test"))
    cohort, adjustment = adjust_fold(cohort, train)  # covariates, site: fitted on train rows
    y = cohort.labels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if name == "cca":
            x = _cca_variates(cohort, train)
        else:
            x = _features(cohort, name)
        x = StandardScaler().fit(x[train]).transform(x)
        best = None
        for c in C_GRID:
            clf = LogisticRegression(
                C=c,
                l1_ratio=0.5,
                solver="saga",
                class_weight="balanced",
                max_iter=2000,
                random_state=seed,
            ).fit(x[train], y[train])
            auc = rank_auc(y[val], clf.predict_proba(x[val])[:, 1])
            if best is None or auc > best[0]:
                best = (auc, c, clf)
    _, c, clf = best
    prob = clf.predict_proba(x)[:, 1]
    used = roles != ""
    predictions = pd.DataFrame(
        {
            "participant_id": cohort.subjects[used],
            "split": roles[used],
            "label": y[used],
            "probability": prob[used],
        }
    )
    metrics = binary_metrics(y[test], prob[test])
    metrics.update(
        validation=binary_metrics(y[val], prob[val]),
        selected_C=c,
        adjustment=adjustment,
        n_train=int(train.sum()),
        n_val=int(val.sum()),
        n_test=int(test.sum()),
    )
    return BaselineResult(name, predictions, metrics)


def write_baseline_outputs(result: BaselineResult, out_dir: str | Path) -> None:
    """predictions.tsv and metrics.json, in the same layout as NeuroPathX folds."""
    out_dir = Path(out_dir)
    write_tsv(result.predictions, out_dir / "predictions.tsv")
    write_json(result.metrics, out_dir / "metrics.json")
