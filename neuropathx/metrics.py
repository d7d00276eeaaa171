"""Binary classification metrics used for every model (NeuroPathX and baselines)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import cohen_kappa_score, f1_score, roc_auc_score

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
        "auc": float(roc_auc_score(y_true, prob)) if both else float("nan"),
        "f1": float(f1_score(y_true, pred, zero_division=0.0)),
        "kappa": float(cohen_kappa_score(y_true, pred)) if both else float("nan"),
    }
