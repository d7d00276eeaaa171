"""Seed ensembles: train one fold with K seeds and average predictions and attention.

Training at this size is chaotic: a different seed (initial weights, batch order, dropout
masks) moves the early-stopping epoch and the fold's result. ``training.seeds: K`` trains
K members with seeds ``seed + SEED_STRIDE * k`` (k = 0 is the single-seed run, so K = 1
gives exactly :func:`~neuropathx.training.loop.train_fold`'s result), averages their patient
probabilities and test attention, and keeps what the spread needs: each member's test and
validation metrics and best epoch (``metrics.json`` ``seeds``), each member's sums of test
attention over patients and over controls (``attention.npz`` ``seed_patient_sum`` /
``seed_control_sum``, (K, P, R)), from which the report ranks links per seed
(neuropathx.reporting.seed_stability), and each member's test probabilities
(``seed_probability``, (K, n_test)).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from neuropathx.metrics import binary_metrics
from neuropathx.training.loop import FoldResult, train_fold

SEED_STRIDE = 1009  # members' seeds: seed, seed + 1009, ... (a prime: no overlap with folds)


@dataclass
class SeedEnsemble:
    """The averaged fold result and its members (one FoldResult per seed)."""

    result: FoldResult  # probabilities, attention and metrics of the average
    members: list[FoldResult]

    def attention_arrays(self) -> dict[str, np.ndarray]:
        """Per-seed class sums of test attention (K, P, R), test probabilities (K, n_test, in
        the order of ``participant_id``) and the seeds (K,)."""
        if self.result.attention is None:  # a model without attention (G-MIND)
            return {}
        labels = self.result.test_labels
        stacked = np.stack([m.attention.astype(np.float64) for m in self.members])
        test = [m.predictions[m.predictions["split"] == "test"] for m in self.members]
        return {
            "seeds": np.array([m.seed for m in self.members], dtype=np.int64),
            "seed_probability": np.stack([t["probability"].to_numpy() for t in test]),
            "seed_patient_sum": stacked[:, labels == 1].sum(axis=1).astype(np.float32),
            "seed_control_sum": stacked[:, labels == 0].sum(axis=1).astype(np.float32),
        }

    def checkpoint_extra(self) -> dict:
        """Every member's weights (``model.pt`` holds the first as its model)."""
        return {
            "seeds": [int(m.seed) for m in self.members],
            "seed_state_dicts": [m.state_dict for m in self.members],
        }


def member_seeds(seed: int, n_seeds: int) -> list[int]:
    """The seeds of the K members."""
    if n_seeds < 1:
        raise ValueError(f"training.seeds must be >= 1, got {n_seeds}")
    return [int(seed) + SEED_STRIDE * k for k in range(n_seeds)]


def train_seed_ensemble(cohort, roles: np.ndarray, params: dict, *, seed: int, **kwargs):
    """Train the fold once per member seed and average the members.

    ``params`` is train_fold's flat parameter dict plus ``seeds`` (K, default 1; a model's
    overrides may set it); ``train_fold``'s keyword arguments pass through."""
    params = dict(params)
    n_seeds = int(params.pop("seeds", 1))
    members = [
        train_fold(cohort, roles, params, seed=s, **kwargs) for s in member_seeds(seed, n_seeds)
    ]
    return SeedEnsemble(average_members(members), members)


def average_members(members: list[FoldResult]) -> FoldResult:
    """One FoldResult whose probabilities and attention are the members' means."""
    first = members[0]
    if len(members) == 1:
        spread = _seed_metrics(members)
        return replace(first, metrics={**first.metrics, "seeds": spread})
    for m in members[1:]:
        if not m.predictions["participant_id"].equals(first.predictions["participant_id"]):
            raise ValueError("seed ensemble members were trained on different subjects")
    probability = np.mean([m.predictions["probability"].to_numpy() for m in members], axis=0)
    predictions = first.predictions.assign(probability=probability)
    split = predictions["split"].to_numpy()
    metrics = {
        **first.metrics,
        **binary_metrics(first.test_labels, probability[split == "test"]),
        "validation": binary_metrics(
            predictions["label"].to_numpy()[split == "val"], probability[split == "val"]
        ),
        "best_epoch": int(np.median([m.metrics["best_epoch"] for m in members])),
        "seeds": _seed_metrics(members),
    }
    history = pd.concat([m.history.assign(seed=m.seed) for m in members], ignore_index=True)
    attention = None
    if first.attention is not None:
        attention = np.mean([m.attention.astype(np.float64) for m in members], axis=0)
        attention = attention.astype(np.float32)
    return replace(
        first,
        predictions=predictions,
        metrics=metrics,
        history=history[["seed", *first.history.columns]],
        attention=attention,
    )


def _seed_metrics(members: list[FoldResult]) -> dict[str, list]:
    """Per-member figures for the spread across seeds (metrics.json ``seeds``)."""
    names = ("auc", "accuracy", "sensitivity", "specificity")
    out: dict[str, list] = {"seed": [int(m.seed) for m in members]}
    out["best_epoch"] = [int(m.metrics["best_epoch"]) for m in members]
    for name in names:
        out[name] = [float(m.metrics[name]) for m in members]
    out["val_auc"] = [float(m.metrics["validation"]["auc"]) for m in members]
    return out
