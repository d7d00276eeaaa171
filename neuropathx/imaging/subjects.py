"""Read the FreeSurfer stats of many subjects, in parallel, into compact per-subject records.

A worker never raises across the process boundary: it returns a :class:`LoadProblem`
(missing input, or a malformed file) that the caller turns into an exclusion or an
InputError, so one bad subject is reported with its file and the reason.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from neuropathx.errors import InputError
from neuropathx.imaging.freesurfer import intracranial_volume, parse_aseg_stats, parse_parc_stats
from neuropathx.imaging.stats_paths import (  # noqa: F401  (re-exported)
    HEMISPHERES,
    PARCELLATION_ALIASES,
    stats_file,
    subject_folder,
)


@dataclass(frozen=True)
class HemisphereStats:
    """One hemisphere's parcels: names (file order), selected measure values, ``# Measure``s."""

    path: str
    regions: tuple[str, ...]
    values: list[list[float]]  # one row per region, one value per requested measure
    measures: dict[str, float]


@dataclass(frozen=True)
class SubjectStats:
    """Both hemispheres of one subject and its intracranial volume (NaN when unavailable)."""

    subject: str
    hemispheres: dict[str, HemisphereStats]
    etiv: float


@dataclass(frozen=True)
class LoadProblem:
    """Why a subject could not be read. ``missing``: absent input (may be dropped by config)."""

    subject: str
    path: str
    problem: str
    missing: bool


def _read_hemisphere(path: str, hemi: str, measures: tuple[str, ...]) -> HemisphereStats:
    table = parse_parc_stats(path, hemi=hemi)
    missing = [m for m in measures if m not in table.columns]
    if missing:
        raise InputError(
            path, f"no column(s) {missing} in '# ColHeaders' (found {list(table.columns)})"
        )
    idx = [table.columns.index(m) for m in measures]
    values = [[row[j] for j in idx] for row in table.rows]
    return HemisphereStats(str(path), table.names, values, table.measures)


def _not_found(folder: str, parcellation: str) -> str:
    """'stats file not found' with the parcellations that the folder does hold."""
    stats = os.path.join(folder, "stats")
    names = sorted(
        {
            f[3 : -len(".stats")]
            for f in (os.listdir(stats) if os.path.isdir(stats) else [])
            if f[:3] in ("lh.", "rh.") and f.endswith(".stats")
        }
    )
    held = f"parcellations found there: {names}" if names else "no ?h.*.stats files there"
    return f"stats file not found ({held}; set imaging.parcellation to one of them)"


def load_subject(
    subjects_dir: str,
    subject: str,
    parcellation: str,
    measures: tuple[str, ...],
    id_prefix: str = "sub-",
) -> SubjectStats | LoadProblem:
    """Read ``lh``/``rh`` ``<parcellation>.stats`` of one subject (and ``aseg.stats`` for eTIV
    when the aparc files predate FreeSurfer 6 and carry none)."""
    # os.path on strings: pathlib's per-call overhead shows at 10,000 files
    folder = subject_folder(subjects_dir, subject, id_prefix)
    if not os.path.isdir(folder):
        return LoadProblem(subject, folder, "FreeSurfer subject folder not found", True)
    hemispheres = {}
    for hemi in HEMISPHERES:
        path = stats_file(folder, hemi, parcellation)
        if not os.path.isfile(path):
            return LoadProblem(subject, path, _not_found(folder, parcellation), True)
        try:
            hemispheres[hemi] = _read_hemisphere(path, hemi, measures)
        except InputError as exc:
            return LoadProblem(subject, str(path), exc.problem, False)
    etiv = intracranial_volume(hemispheres["lh"].measures)
    aseg = os.path.join(folder, "stats", "aseg.stats")
    if math.isnan(etiv) and os.path.isfile(aseg):
        try:
            etiv = intracranial_volume(parse_aseg_stats(aseg).measures)
        except InputError as exc:
            return LoadProblem(subject, aseg, exc.problem, False)
    return SubjectStats(subject, hemispheres, etiv)


def _load_task(task: tuple) -> SubjectStats | LoadProblem:
    return load_subject(*task)


def load_subjects(
    subjects_dir: str | Path,
    subjects: list[str],
    parcellation: str,
    measures: tuple[str, ...],
    threads: int = 1,
    id_prefix: str = "sub-",
) -> list[SubjectStats | LoadProblem]:
    """Load every subject (input order kept) with ``threads`` worker processes."""
    tasks = [(str(subjects_dir), s, parcellation, tuple(measures), id_prefix) for s in subjects]
    if threads <= 1 or len(tasks) < 2:
        return [_load_task(t) for t in tasks]
    # Large chunks: per-file work is ~0.1 ms, so inter-process traffic must stay small.
    chunksize = max(1, len(tasks) // (threads * 4))
    with ProcessPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(_load_task, tasks, chunksize=chunksize))
