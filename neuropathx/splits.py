"""Repeated stratified K-fold splits with a stratified validation part per fold.

Splits are a plain long table (repeat, fold, participant_id, role) with role in
{train, val, test}: every subject is tested exactly once per repeat.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.errors import InputError
from neuropathx.io import read_tsv

ROLES = ("train", "val", "test")


def make_splits(
    subjects: np.ndarray,
    labels: np.ndarray,
    repeats: int,
    folds: int,
    val_fraction: float,
    seed: int,
) -> pd.DataFrame:
    """Long table of roles for ``repeats`` x ``folds`` stratified splits (seeded)."""
    # imported here: scikit-learn takes seconds to import, and training jobs read splits only
    from sklearn.model_selection import StratifiedKFold, train_test_split

    labels = np.asarray(labels)
    counts = np.bincount(labels, minlength=2)
    if counts.min() < folds:
        raise ValueError(
            f"stratified {folds}-fold CV needs at least {folds} subjects per class; "
            f"found {counts[0]} controls and {counts[1]} patients"
        )
    rows = []
    for repeat in range(1, repeats + 1):
        skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
        for fold, (train_idx, test_idx) in enumerate(skf.split(subjects, labels), start=1):
            fit_idx, val_idx = train_test_split(
                train_idx,
                test_size=val_fraction,
                stratify=labels[train_idx],
                random_state=seed + 1000 * repeat + fold,
            )
            for role, idx in (("train", fit_idx), ("val", val_idx), ("test", test_idx)):
                rows.extend((repeat, fold, subjects[i], role) for i in np.sort(idx))
    return pd.DataFrame(rows, columns=["repeat", "fold", "participant_id", "role"])


def fold_roles(splits_tsv: str | Path, subjects: np.ndarray, repeat: int, fold: int) -> np.ndarray:
    """Role of each subject (in ``subjects`` order) in one fold; '' where it has none."""
    splits = read_tsv(
        splits_tsv,
        required=["repeat", "fold", "participant_id", "role"],
        dtype={"participant_id": str},
    )
    part = splits[(splits["repeat"] == repeat) & (splits["fold"] == fold)]
    if part.empty:
        raise InputError(splits_tsv, f"no rows for repeat {repeat}, fold {fold}")
    bad = sorted(set(part["role"]) - set(ROLES))
    if bad:
        raise InputError(splits_tsv, f"unknown role(s) {bad}; expected {list(ROLES)}")
    if part["participant_id"].duplicated().any():
        dup = part["participant_id"][part["participant_id"].duplicated()].tolist()
        raise InputError(
            splits_tsv, f"subject(s) with two roles in repeat {repeat} fold {fold}: {dup[:5]}"
        )
    role_of = dict(zip(part["participant_id"], part["role"], strict=True))
    unknown = sorted(set(role_of) - set(subjects))
    if unknown:
        raise InputError(splits_tsv, f"subject(s) not in the cohort: {unknown[:5]}")
    return np.array([role_of.get(s, "") for s in subjects], dtype=object)
