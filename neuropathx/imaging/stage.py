"""Entry point of the ``imaging_features`` stage: FreeSurfer stats or NIfTI images → tables.

Outputs in ``out_dir``:

- ``regional_features.tsv``: ``participant_id`` + ``<region>__<measure>`` columns
  (FreeSurfer: ``lh_<parcel>`` regions in file order, then ``rh_``; measures as configured).
- ``global_measures.tsv``: ``participant_id``, ``eTIV``, ``lh_``/``rh_`` surface measures
  (``MeanThickness``, ``WhiteSurfArea``, ``NumVert``), whole-brain ``# Measure`` values.
- ``aparcstats2table/<hemi>.<parc>.<meas>.tsv``: FreeSurfer ``aparcstats2table`` layout
  (empty folder for volumetric input).
- ``imaging_qc.tsv``: flagged values (``nan``, ``non_positive``, ``robust_outlier``) and
  subjects without eTIV (``missing_eTIV``, region ``global``).
- ``excluded_subjects.tsv``: ``participant_id``, ``reason`` (header only when none).
- ``excluded_regions.tsv``: non-cortical rows dropped by ``exclude_regions``, with counts.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from neuropathx.errors import InputError
from neuropathx.imaging.aparcstats2table import write_aparcstats2tables
from neuropathx.imaging.freesurfer import PARC_MEASURES
from neuropathx.imaging.parcellations import NON_CORTICAL_ROWS
from neuropathx.imaging.regional_table import (
    build_regional_table,
    flag_missing_etiv,
    flag_regional_values,
)
from neuropathx.imaging.subjects import load_subjects
from neuropathx.imaging.volumetric import extract_volumetric_features, read_atlas_labels
from neuropathx.io import check_subject_id, read_tsv, write_id_float_tsv, write_tsv

log = logging.getLogger(__name__)

DEFAULT_SETTINGS: dict = {
    "input": "freesurfer",
    "parcellation": "aparc",
    "measures": ["GrayVol", "SurfArea", "ThickAvg", "ThickStd"],
    "exclude_regions": list(NON_CORTICAL_ROWS),
    "missing": "error",
    "outlier_z": 4.0,
    "images": None,
    "atlas": None,
    "atlas_labels": None,
}
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_EXCLUDED_COLUMNS = ["participant_id", "reason"]


def resolve_settings(settings: dict | None) -> dict:
    """Settings with defaults filled in; ValueError naming the key and the value when invalid."""
    out = {**DEFAULT_SETTINGS, **(settings or {})}
    unknown = sorted(set(out) - set(DEFAULT_SETTINGS))
    if unknown:
        log.warning("imaging settings: ignoring unknown key(s) %s", unknown)
    if out["input"] not in {"freesurfer", "volumetric"}:
        raise ValueError(
            f"imaging setting 'input' must be freesurfer or volumetric: {out['input']!r}"
        )
    if out["missing"] not in {"error", "drop"}:
        raise ValueError(f"imaging setting 'missing' must be error or drop: {out['missing']!r}")
    if not isinstance(out["parcellation"], str) or not _SAFE_NAME.match(out["parcellation"]):
        raise ValueError(
            f"imaging setting 'parcellation' is not a file-name part: {out['parcellation']!r}"
        )
    measures = list(out["measures"])
    bad = [m for m in measures if m not in PARC_MEASURES]
    if out["input"] == "freesurfer" and (
        bad or not measures or len(set(measures)) != len(measures)
    ):
        raise ValueError(
            "imaging setting 'measures' must be distinct names from "
            f"{list(PARC_MEASURES)}: {measures}"
        )
    out["measures"] = measures
    out["exclude_regions"] = list(out["exclude_regions"] or [])
    if not float(out["outlier_z"]) > 0:
        raise ValueError(f"imaging setting 'outlier_z' must be > 0: {out['outlier_z']!r}")
    if out["input"] == "volumetric":
        absent = [k for k in ("images", "atlas", "atlas_labels") if not out[k]]
        if absent:
            raise ValueError(f"volumetric imaging input needs setting(s) {absent}")
    return out


def read_participant_ids(path: str | Path) -> list[str]:
    """Participant IDs in table order: present, unique and safe as path components."""
    table = read_tsv(path, required=["participant_id"], dtype={"participant_id": str})
    if table["participant_id"].isna().any():
        rows = (table.index[table["participant_id"].isna()] + 2).tolist()
        raise InputError(path, f"empty participant_id on line(s) {rows[:10]}")
    ids = table["participant_id"].str.strip().tolist()
    dup = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
    if dup:
        raise InputError(path, f"duplicate participant_id(s) {dup[:10]}")
    for subject in ids:
        check_subject_id(subject, path)
    return ids


def _read_image_table(
    path: str | Path, subjects: list[str]
) -> tuple[dict[str, Path], list[tuple[str, str]]]:
    """Image path per subject (relative paths are relative to the table's folder) and the
    subjects that have no row."""
    table = read_tsv(path, dtype=str)
    col = next((c for c in ("image", "path") if c in table.columns), None)
    if "participant_id" not in table.columns or col is None:
        raise InputError(
            path, f"needs columns participant_id and image; found {list(table.columns)}"
        )
    if table["participant_id"].duplicated().any():
        raise InputError(path, "duplicate participant_id rows")
    base = Path(path).parent
    rows = {r.participant_id: r[col] for _, r in table.iterrows() if isinstance(r[col], str)}
    found, absent = {}, []
    for s in subjects:
        if s not in rows:
            absent.append((s, f"{path}: no image row for this subject"))
        elif not (base / rows[s]).is_file():
            absent.append((s, f"{base / rows[s]}: image not found"))
        else:
            found[s] = base / rows[s]
    return found, absent


def _volumetric(participants: str | Path, subjects: list[str], cfg: dict) -> tuple:
    images, missing = _read_image_table(cfg["images"], subjects)
    if missing and cfg["missing"] == "error":
        subject, reason = missing[0]
        raise InputError(cfg["images"], f"subject {subject}: {reason}")
    labels = read_atlas_labels(cfg["atlas_labels"])
    features, not_found = extract_volumetric_features(images, cfg["atlas"], labels)
    missing += not_found
    if features.empty:
        raise InputError(participants, "no subject has an image")
    excluded = pd.DataFrame(missing, columns=_EXCLUDED_COLUMNS)
    glob = features[["participant_id"]].copy()
    regions = pd.DataFrame(columns=["hemisphere", "region", "n_subjects", "reason"])
    return features, glob, excluded, regions, None


def build_imaging_features(
    subjects_dir: str,
    participants: str,
    out_dir: str,
    *,
    settings: dict,
    threads: int = 1,
    id_prefix: str = "sub-",
) -> None:
    """Build the subjects × (region, measure) imaging table and its QC and exclusion lists.

    A subject's FreeSurfer folder may carry or lack the BIDS ``id_prefix`` that its
    participant_id lacks or carries; the tables use the participant_id."""
    cfg = resolve_settings(settings)
    subjects = read_participant_ids(participants)
    out = Path(out_dir)
    if cfg["input"] == "volumetric":
        features, glob, excluded, regions, table = _volumetric(participants, subjects, cfg)
    else:
        if not Path(subjects_dir).is_dir():
            raise InputError(subjects_dir, "FreeSurfer SUBJECTS_DIR not found")
        loaded = load_subjects(
            subjects_dir, subjects, cfg["parcellation"], tuple(cfg["measures"]), threads, id_prefix
        )
        table = build_regional_table(
            loaded,
            cfg["measures"],
            parcellation=cfg["parcellation"],
            exclude_regions=cfg["exclude_regions"],
            missing=cfg["missing"],
        )
        features, glob = table.features, table.global_measures
        excluded, regions = table.excluded, table.excluded_regions
    qc = flag_regional_values(features, float(cfg["outlier_z"]))
    if cfg["input"] == "freesurfer":
        no_etiv = flag_missing_etiv(glob)
        if len(no_etiv):
            log.warning(
                "imaging: %d subject(s) without eTIV (no eTIV in the parcellation files and no "
                "readable aseg.stats), listed in imaging_qc.tsv: %s",
                len(no_etiv),
                ", ".join(no_etiv["participant_id"].head(10)),
            )
            qc = pd.concat([qc, no_etiv], ignore_index=True) if len(qc) else no_etiv
    (out / "aparcstats2table").mkdir(parents=True, exist_ok=True)
    if table is not None:
        write_aparcstats2tables(
            table, out / "aparcstats2table", cfg["parcellation"], cfg["measures"]
        )
    write_id_float_tsv(features, out / "regional_features.tsv")
    write_id_float_tsv(glob, out / "global_measures.tsv")
    write_tsv(qc, out / "imaging_qc.tsv")
    write_tsv(excluded, out / "excluded_subjects.tsv")
    write_tsv(regions, out / "excluded_regions.tsv")
    log.info(
        "imaging: %d of %d subjects kept, %d excluded, %d feature columns, %d QC flags",
        len(features),
        len(subjects),
        len(excluded),
        features.shape[1] - 1,
        len(qc),
    )
