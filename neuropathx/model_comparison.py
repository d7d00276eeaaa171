"""Comparing two models over repeated cross-validation: the corrected resampled t-test.

Fold results of one CV share most of their training subjects, so their differences are
positively correlated and a plain paired t-test over folds (or over repeats x folds) is
anti-conservative. Nadeau & Bengio (2003) inflate the variance of the mean difference of
J = repeats x folds results from s²/J to s² (1/J + n_test/n_train), with t on J − 1 degrees
of freedom (Bouckaert & Frank 2004 for repeated CV). In K-fold CV every model is trained on
the non-test part of the fold (training + validation subjects), so n_test/n_train = 1/(K − 1).
The reference model is fixed in config (``evaluation.reference_model``) before the run, not
picked as the best after looking.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

TEST_NAME = "corrected resampled t-test (Nadeau & Bengio 2003), two-sided"


def corrected_resampled_ttest(differences: np.ndarray, test_train_ratio: float) -> float:
    """Two-sided p of mean(differences) = 0 with variance × (1/J + n_test/n_train)."""
    d = np.asarray(differences, dtype=float)
    j = len(d)
    if j < 2:
        return float("nan")
    var = d.var(ddof=1)
    if var == 0:
        return float("nan") if d.mean() == 0 else 0.0
    t = d.mean() / np.sqrt(var * (1.0 / j + test_train_ratio))
    return float(2 * stats.t.sf(abs(t), df=j - 1))


def compare_to_reference(
    folds: pd.DataFrame, metric: str, reference: str
) -> tuple[dict[str, float], dict[str, str]]:
    """Per model: corrected p against ``reference`` and 'won/compared' folds (model > ref)."""
    keyed = folds.set_index(["model", "repeat", "fold"])[metric]
    n_folds = int(folds["fold"].max())
    ratio = 1.0 / max(n_folds - 1, 1)
    pvals, won = {}, {}
    for model in dict.fromkeys(folds["model"]):
        if model == reference:
            pvals[model], won[model] = float("nan"), ""
            continue
        pair = pd.concat([keyed.loc[model], keyed.loc[reference]], axis=1).dropna()
        diff = (pair.iloc[:, 0] - pair.iloc[:, 1]).to_numpy()
        pvals[model] = corrected_resampled_ttest(diff, ratio)
        won[model] = f"{int((diff > 0).sum())}/{len(diff)}"
    return pvals, won
