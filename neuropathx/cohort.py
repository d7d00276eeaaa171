"""The aligned cohort: subjects, labels, pathway scores and regional imaging features."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuropathx.errors import InputError
from neuropathx.features import feature_column, split_feature_columns
from neuropathx.io import read_tsv

ID = "participant_id"


@dataclass
class CohortArrays:
    """All modalities of one cohort, rows in the same subject order.

    genetics: (N, P) pathway scores; imaging: (N, R, F) regional measures.
    """

    subjects: np.ndarray  # (N,) str
    labels: np.ndarray  # (N,) int, 1 = patient
    genetics: np.ndarray  # (N, P)
    pathways: list[str]
    imaging: np.ndarray  # (N, R, F)
    regions: list[str]
    measures: list[str]

    def __post_init__(self) -> None:
        n = len(self.subjects)
        if self.labels.shape != (n,) or self.genetics.shape[0] != n or self.imaging.shape[0] != n:
            raise ValueError("CohortArrays: modalities hold different numbers of subjects")
        if self.genetics.shape[1] != len(self.pathways):
            raise ValueError("CohortArrays: genetics columns do not match pathway names")
        if self.imaging.shape[1:] != (len(self.regions), len(self.measures)):
            raise ValueError("CohortArrays: imaging shape does not match region/measure names")

    def subset(self, mask: np.ndarray) -> CohortArrays:
        """The cohort restricted to the rows where ``mask`` is true (or to index array)."""
        return CohortArrays(
            self.subjects[mask],
            self.labels[mask],
            self.genetics[mask],
            list(self.pathways),
            self.imaging[mask],
            list(self.regions),
            list(self.measures),
        )

    @property
    def imaging_flat(self) -> np.ndarray:
        """(N, R*F) imaging features, region-major (matches ``imaging_columns``)."""
        return self.imaging.reshape(len(self.subjects), -1)

    @property
    def imaging_columns(self) -> list[str]:
        return [feature_column(r, m) for r in self.regions for m in self.measures]


def load_cohort(subjects_tsv: str | Path, genetics_tsv: str | Path, imaging_tsv: str | Path) -> CohortArrays:
    """Read the cohort stage's three aligned tables into arrays.

    The tables must list the same subjects in the same order (the cohort stage writes them
    so); anything else is an error naming the file.
    """
    subjects = read_tsv(subjects_tsv, required=[ID, "label"], dtype={ID: str})
    genetics = read_tsv(genetics_tsv, required=[ID], dtype={ID: str})
    imaging = read_tsv(imaging_tsv, required=[ID], dtype={ID: str})
    ids = subjects[ID].to_numpy()
    for path, table in ((genetics_tsv, genetics), (imaging_tsv, imaging)):
        if not np.array_equal(table[ID].to_numpy(), ids):
            raise InputError(path, f"subject IDs differ from {subjects_tsv} (order or content)")
    regions, measures = split_feature_columns([c for c in imaging.columns if c != ID])
    cols = [feature_column(r, m) for r in regions for m in measures]
    img = imaging[cols].to_numpy(dtype=float).reshape(len(ids), len(regions), len(measures))
    pathways = [c for c in genetics.columns if c != ID]
    return CohortArrays(
        subjects=ids.astype(str),
        labels=subjects["label"].to_numpy(dtype=int),
        genetics=genetics[pathways].to_numpy(dtype=float),
        pathways=pathways,
        imaging=img,
        regions=regions,
        measures=measures,
    )
