"""Test-subject attention matrices of all folds of one model, loaded and stacked.

Each fold's ``attention.npz`` holds the (n_test, P, R) attention of its test subjects. Any
model whose explanation is a pathway x region matrix per subject can write this layout and
use the report machinery (``permutation``, ``contrasts``, ``truth``): nothing here depends
on the model's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuropathx.errors import InputError


@dataclass
class AttentionStack:
    """Test-subject attention of all folds of one model, stacked."""

    attention: np.ndarray  # (N, P, R) float32, N = test subjects over all folds
    labels: np.ndarray  # (N,) 1 = patient
    subjects: np.ndarray  # (N,)
    fold: np.ndarray  # (N,) index of the file each row came from
    repeat: np.ndarray  # (N,) CV repeat of the file each row came from
    pathways: list[str]
    regions: list[str]

    @property
    def n_folds(self) -> int:
        return int(self.fold.max()) + 1 if len(self.fold) else 0

    @property
    def n_repeats(self) -> int:
        return len(np.unique(self.repeat))


_REPEAT = re.compile(r"repeat(?P<repeat>\d+)/fold\d+/[^/]+$")


def file_repeat(path: str | Path) -> int:
    """The CV repeat named by ``.../repeat<r>/fold<k>/<file>``; 0 for a path that names none
    (then every such file counts as one repeat, and a subject may be in only one of them)."""
    match = _REPEAT.search(Path(path).as_posix())
    return int(match["repeat"]) if match else 0


def load_attention(paths: list[str | Path]) -> AttentionStack:
    """Stack the attention files of all folds; they must share pathways and regions."""
    if not paths:
        raise ValueError("no attention files given")
    mats, labels, subjects, folds, repeats = [], [], [], [], []
    pathways = regions = None
    for i, path in enumerate(paths):
        with np.load(path, allow_pickle=False) as data:
            missing = {"attention", "label", "participant_id", "pathways", "regions"} - set(
                data.files
            )
            if missing:
                raise InputError(path, f"attention file lacks {sorted(missing)}")
            p, r = data["pathways"].tolist(), data["regions"].tolist()
            if pathways is None:
                pathways, regions = p, r
            elif p != pathways or r != regions:
                raise InputError(path, f"pathways/regions differ from {paths[0]}")
            att = data["attention"].astype(np.float32)
            if att.shape[1:] != (len(p), len(r)):
                raise InputError(path, f"attention shape {att.shape} does not match names")
            mats.append(att)
            labels.append(data["label"].astype(int))
            subjects.append(data["participant_id"].astype(str))
            folds.append(np.full(len(att), i))
            repeats.append(np.full(len(att), file_repeat(path)))
    return AttentionStack(
        np.concatenate(mats),
        np.concatenate(labels),
        np.concatenate(subjects),
        np.concatenate(folds),
        np.concatenate(repeats),
        pathways,
        regions,
    )


def class_means(stack: AttentionStack) -> tuple[np.ndarray, np.ndarray]:
    """Mean attention of patients and of controls, each (P, R)."""
    pat, ctl = stack.labels == 1, stack.labels == 0
    if not pat.any() or not ctl.any():
        raise ValueError("attention of both patients and controls is needed for the report")
    return stack.attention[pat].mean(axis=0), stack.attention[ctl].mean(axis=0)


_FOLD_FILE = re.compile(r"(?P<model>[^/]+)/repeat\d+/fold\d+/attention\.npz$")


def group_by_model(paths: list[str | Path]) -> dict[str, list[str]]:
    """``.../<model>/repeat<r>/fold<k>/attention.npz`` paths grouped by model, in order."""
    groups: dict[str, list[str]] = {}
    for path in paths:
        match = _FOLD_FILE.search(Path(path).as_posix())
        if not match:
            raise InputError(
                path, "path is not of the form <model>/repeat<r>/fold<k>/attention.npz"
            )
        groups.setdefault(match["model"], []).append(str(path))
    return groups
