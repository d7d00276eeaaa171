"""Binary classification metrics used for every model (NeuroPathX and baselines).

Plain numpy (equal to scikit-learn's, tested): every training job imports this module, and
``sklearn.metrics`` alone takes seconds to import.
"""

from __future__ import annotations

import numpy as np

METRIC_NAMES = ("accuracy", "sensitivity", "specificity", "auc", "f1", "kappa")


def binary_metrics(y_true: np.ndarray, prob: np.ndarray, threshold: float = 0.5) -> dict:
    """Accuracy, sensitivity, specificity, AUC, F1 and Cohen's kappa of probabilities.

    AUC is NaN when ``y_true`` holds one class only (it is undefined there).
    """
    y_true = np.asarray(y_true).astype(int)
    prob = np.asarray(prob, dtype=float)
    if y_true.shape != prob.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but prob has shape {prob.shape}")
    if not np.all(np.isfinite(prob)):
        raise ValueError("prob contains NaN or infinite values")
    pred = (prob >= threshold).astype(int)
    tp = int(np.sum((pred == 1) & (y_true == 1)))
    tn = int(np.sum((pred == 0) & (y_true == 0)))
    fp = int(np.sum((pred == 1) & (y_true == 0)))
    fn = int(np.sum((pred == 0) & (y_true == 1)))
    both = len(np.unique(y_true)) == 2
    return {
        "accuracy": (tp + tn) / len(y_true),
        "sensitivity": tp / (tp + fn) if tp + fn else float("nan"),
        "specificity": tn / (tn + fp) if tn + fp else float("nan"),
        "auc": rank_auc(y_true, prob),
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        "kappa": _cohen_kappa(tp, tn, fp, fn) if both else float("nan"),
    }


def rank_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, tied scores counted half; NaN when
    ``y_true`` holds one class or a score is not finite."""
    y_true = np.asarray(y_true).astype(int)
    score = np.asarray(score, dtype=float)
    n_pos = int(y_true.sum())
    n_neg = len(y_true) - n_pos
    if n_pos == 0 or n_neg == 0 or not np.all(np.isfinite(score)):
        return float("nan")
    _, tie_group, counts = np.unique(score, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)
    ranks = (last - (counts - 1) / 2.0)[tie_group]  # 1-based, ties share their mean rank
    return float((ranks[y_true == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _cohen_kappa(tp: int, tn: int, fp: int, fn: int) -> float:
    """Cohen's kappa of a 2 x 2 confusion table (NaN when chance agreement is 1)."""
    n = tp + tn + fp + fn
    observed = (tp + tn) / n
    chance = ((tp + fp) * (tp + fn) + (tn + fn) * (tn + fp)) / (n * n)
    return (observed - chance) / (1 - chance) if chance < 1 else float("nan")
