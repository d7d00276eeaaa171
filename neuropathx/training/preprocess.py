"""Fold checks and z-scoring with statistics of the training rows only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuropathx.cohort import CohortArrays
from neuropathx.errors import InputError

ROLES = ("train", "val", "test", "")
MAX_NAMED = 10  # how many columns / subjects an error message lists


@dataclass
class Standardiser:
    """Per-column mean and SD of the training rows: genetics (P,), imaging (R, F)."""

    genetics_mean: np.ndarray
    genetics_sd: np.ndarray
    imaging_mean: np.ndarray
    imaging_sd: np.ndarray

    @classmethod
    def fit(cls, cohort: CohortArrays, rows: np.ndarray) -> Standardiser:
        """Fit on ``rows`` (bool mask or indices); constant columns are an error naming them."""
        genetics, imaging = cohort.genetics[rows], cohort.imaging[rows]
        constant = [
            p for p, c in zip(cohort.pathways, np.ptp(genetics, axis=0) == 0, strict=True) if c
        ]
        flat_const = (np.ptp(imaging, axis=0) == 0).reshape(-1)
        constant += [c for c, bad in zip(cohort.imaging_columns, flat_const, strict=True) if bad]
        if constant:
            raise InputError(
                None,
                f"{len(constant)} feature column(s) are constant in the training rows "
                f"(cannot be standardised): {_names(constant)}",
            )
        return cls(
            genetics.mean(axis=0),
            genetics.std(axis=0),
            imaging.mean(axis=0),
            imaging.std(axis=0),
        )

    def transform(self, genetics: np.ndarray, imaging: np.ndarray) -> tuple[np.ndarray, ...]:
        """Z-scored copies of genetics (N, P) and imaging (N, R, F)."""
        if genetics.shape[1:] != self.genetics_mean.shape:
            raise ValueError(
                f"genetics has {genetics.shape[1]} columns, standardiser {self.genetics_mean.shape}"
            )
        if imaging.shape[1:] != self.imaging_mean.shape:
            raise ValueError(
                f"imaging has shape {imaging.shape[1:]}, standardiser {self.imaging_mean.shape}"
            )
        return (
            (genetics - self.genetics_mean) / self.genetics_sd,
            (imaging - self.imaging_mean) / self.imaging_sd,
        )

    def to_dict(self) -> dict[str, np.ndarray]:
        return {
            "genetics_mean": self.genetics_mean,
            "genetics_sd": self.genetics_sd,
            "imaging_mean": self.imaging_mean,
            "imaging_sd": self.imaging_sd,
        }


def fold_masks(cohort: CohortArrays, roles: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean masks of the train/val/test subjects after checking the fold is usable.

    Errors: roles of the wrong length or with unknown values; an empty part; a training or
    validation part with a single class; missing values in any used subject (naming the
    subjects, the modality and the columns).
    """
    roles = np.asarray(roles).astype(str)
    if roles.shape != (len(cohort.subjects),):
        raise InputError(
            None,
            f"split roles have shape {roles.shape}, cohort has {len(cohort.subjects)} subjects",
        )
    unknown = sorted(set(roles.tolist()) - set(ROLES))
    if unknown:
        raise InputError(None, f"unknown split role(s) {unknown}; allowed: {list(ROLES)}")
    masks = {part: roles == part for part in ("train", "val", "test")}
    for part, mask in masks.items():
        if not mask.any():
            raise InputError(None, f"the fold has no {part} subjects")
    for part in ("train", "val"):
        classes = np.unique(cohort.labels[masks[part]])
        if len(classes) < 2:
            raise InputError(
                None,
                f"the {part} part of the fold holds a single class (label {classes.tolist()}, "
                f"{int(masks[part].sum())} subjects); both patients and controls are needed",
            )
    _check_missing(cohort, roles != "")
    return masks


def _check_missing(cohort: CohortArrays, used: np.ndarray) -> None:
    problems = []
    for modality, values, columns in (
        ("genetics", cohort.genetics, cohort.pathways),
        ("imaging", cohort.imaging_flat, cohort.imaging_columns),
    ):
        missing = np.isnan(values) & used[:, None]
        if missing.any():
            subjects = cohort.subjects[missing.any(axis=1)].tolist()
            cols = [c for c, bad in zip(columns, missing.any(axis=0), strict=True) if bad]
            problems.append(
                f"{len(subjects)} subject(s) with missing {modality} values: {_names(subjects)} "
                f"in column(s) {_names(cols)}"
            )
    if problems:
        raise InputError(None, "; ".join(problems))


def _names(items: list[str]) -> str:
    shown = ", ".join(map(str, items[:MAX_NAMED]))
    return shown + (f" ... ({len(items) - MAX_NAMED} more)" if len(items) > MAX_NAMED else "")
