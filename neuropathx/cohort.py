"""The aligned cohort: subjects, labels, pathway scores and regional imaging features."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.covariates import (
    adjustment_spec,
    covariate_names,
    gather_covariates,
    missing_covariates,
    read_covariates,
    write_covariates,
)
from neuropathx.errors import InputError
from neuropathx.features import feature_column, split_feature_columns
from neuropathx.genetics.plink_io import read_fam
from neuropathx.io import check_subject_id, read_tsv, write_id_float_tsv, write_tsv
from neuropathx.splits import make_splits

log = logging.getLogger(__name__)

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
    covariates: pd.DataFrame | None = None  # (N rows) covariate columns, same subject order
    adjustment: dict | None = None  # what to adjust for (neuropathx.adjust.AdjustmentSpec)

    def __post_init__(self) -> None:
        n = len(self.subjects)
        if self.labels.shape != (n,) or self.genetics.shape[0] != n or self.imaging.shape[0] != n:
            raise ValueError("CohortArrays: modalities hold different numbers of subjects")
        if self.genetics.shape[1] != len(self.pathways):
            raise ValueError("CohortArrays: genetics columns do not match pathway names")
        if self.imaging.shape[1:] != (len(self.regions), len(self.measures)):
            raise ValueError("CohortArrays: imaging shape does not match region/measure names")
        if self.covariates is not None and len(self.covariates) != n:
            raise ValueError("CohortArrays: covariates hold a different number of subjects")

    @property
    def imaging_flat(self) -> np.ndarray:
        """(N, R*F) imaging features, region-major (matches ``imaging_columns``)."""
        return self.imaging.reshape(len(self.subjects), -1)

    @property
    def imaging_columns(self) -> list[str]:
        return [feature_column(r, m) for r in self.regions for m in self.measures]


def load_cohort(
    subjects_tsv: str | Path,
    genetics_tsv: str | Path,
    imaging_tsv: str | Path,
    covariates_tsv: str | Path | None = None,
) -> CohortArrays:
    """Read the cohort stage's aligned tables into arrays.

    The tables must list the same subjects in the same order (the cohort stage writes them
    so); anything else is an error naming the file. ``covariates_tsv`` (optional) comes with
    its ``.json`` sidecar saying which covariate adjusts which modality.
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
    covariates, adjustment = (
        read_covariates(covariates_tsv, ids) if covariates_tsv else (None, None)
    )
    return CohortArrays(
        subjects=ids.astype(str),
        labels=subjects["label"].to_numpy(dtype=int),
        genetics=genetics[pathways].to_numpy(dtype=float),
        pathways=pathways,
        imaging=img,
        regions=regions,
        measures=measures,
        covariates=covariates,
        adjustment=adjustment,
    )


def match_ids(ids, known: set[str], prefix: str = "sub-") -> dict[str, str]:
    """Map IDs of another modality onto participant IDs that differ only by ``prefix``
    (``sub-01`` in participants.tsv, ``01`` as PLINK IID, or the reverse). IDs that match
    exactly, or not at all, are left out; ``prefix=""`` maps nothing."""
    if not prefix:
        return {}
    out = {}
    for i in ids:
        if i in known:
            continue
        other = i.removeprefix(prefix) if i.startswith(prefix) else prefix + i
        if other in known:
            out[i] = other
    return out


def _read_ids(path: str | Path, table) -> None:
    """Fail on duplicated or unsafe subject IDs in one modality table."""
    dup = table[ID][table[ID].duplicated()].unique().tolist()
    if dup:
        raise InputError(path, f"duplicate {ID}(s): {dup[:5]}")
    for subject in table[ID]:
        check_subject_id(subject, path)


def read_participants(path: str | Path, coding: dict) -> pd.DataFrame:
    """participants.tsv with a 0/1 ``label`` column from the configured diagnosis coding.

    Rows whose diagnosis is neither the case nor the control value are not errors (they
    may be other diagnoses); they get label -1 and are excluded, counted, by the cohort.
    """
    col = coding.get("diagnosis_column", "diagnosis")
    table = read_tsv(path, required=[ID, col], dtype={ID: str, col: str})
    if table[ID].isna().any():
        rows = (table.index[table[ID].isna()] + 2).tolist()
        raise InputError(path, f"empty {ID} on line(s) {rows[:5]}")
    _read_ids(path, table)
    case, control = coding.get("case_value", "patient"), coding.get("control_value", "control")
    table["label"] = np.select([table[col] == case, table[col] == control], [1, 0], default=-1)
    if not (table["label"] == 1).any() or not (table["label"] == 0).any():
        found = sorted(table[col].dropna().unique().tolist())
        raise InputError(
            path,
            f"column {col!r} must hold both {case!r} (patients) and {control!r} (controls); "
            f"found values {found}",
        )
    return table


def join_modalities(
    participants: pd.DataFrame,
    genetics: pd.DataFrame,
    imaging: pd.DataFrame,
    genotyped: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subjects present, labelled and complete in every modality, and every exclusion.

    Returns (kept participants in participants.tsv order, exclusions table with one row per
    subject left out: participant_id, reason). ``genotyped`` are the IIDs that passed QC.
    """
    known = set(participants[ID])
    in_gen, in_img, passed_qc = set(genetics[ID]), set(imaging[ID]), set(genotyped)
    gen_nan = set(genetics[ID][genetics.drop(columns=ID).isna().any(axis=1)])
    img_nan = set(imaging[ID][imaging.drop(columns=ID).isna().any(axis=1)])
    rows = []
    for subject, label in zip(participants[ID], participants["label"], strict=True):
        if label < 0:
            rows.append((subject, "diagnosis is neither case nor control"))
        elif subject not in passed_qc:
            rows.append((subject, "not genotyped or removed by genotype QC"))
        elif subject not in in_gen:
            rows.append((subject, "no pathway scores"))
        elif subject in gen_nan:
            rows.append((subject, "missing pathway score(s)"))
        elif subject not in in_img:
            rows.append((subject, "no imaging features"))
        elif subject in img_nan:
            rows.append((subject, "missing imaging feature(s)"))
    for subject in sorted((in_gen | in_img) - known):
        rows.append((subject, "not in participants table"))
    exclusions = pd.DataFrame(rows, columns=[ID, "reason"])
    kept = participants[~participants[ID].isin(exclusions[ID])].reset_index(drop=True)
    return kept, exclusions


def build_cohort(
    participants: str | Path,
    genetics: str | Path,
    imaging: str | Path,
    fam: str | Path,
    outputs: dict,
    coding: dict,
    cv: dict,
    seed: int,
    covariates: dict | None = None,
    global_measures: str | Path | None = None,
    pcs: str | Path | None = None,
) -> None:
    """The cohort stage: align modalities on IDs, count exclusions, write CV splits.

    ``outputs`` maps subjects, genetics, imaging, splits, exclusions (and covariates, when the
    ``covariates`` settings name any) to file paths. Covariates come from the participants
    table, ``global_measures`` (eTIV) and ``pcs`` (genetic PCs); a subject lacking one is
    excluded with the reason.
    """
    table = read_participants(participants, coding)
    gen = read_tsv(genetics, required=[ID], dtype={ID: str})
    img = read_tsv(imaging, required=[ID], dtype={ID: str})
    _read_ids(genetics, gen)
    _read_ids(imaging, img)
    split_feature_columns([c for c in img.columns if c != ID])
    fam_ids = read_fam(fam)["IID"].tolist()
    known, prefix = set(table[ID]), coding.get("id_prefix", "sub-")
    gen_map, img_map = match_ids(gen[ID], known, prefix), match_ids(img[ID], known, prefix)
    fam_map = match_ids(fam_ids, known, prefix)
    for name, renamed in (("genetics", gen_map), ("imaging", img_map), ("PLINK", fam_map)):
        if renamed:
            log.info("cohort: %d %s ID(s) matched up to the prefix %r", len(renamed), name, prefix)
    gen[ID], img[ID] = gen[ID].replace(gen_map), img[ID].replace(img_map)
    fam_ids = [fam_map.get(i, i) for i in fam_ids]
    kept, exclusions = join_modalities(table, gen, img, fam_ids)
    spec = adjustment_spec(covariates)
    cov = _covariates(kept, spec, global_measures, pcs)
    if cov is not None:
        lacking = missing_covariates(cov)
        dropped = pd.DataFrame({ID: cov[ID], "reason": "missing covariate(s) " + lacking})
        exclusions = pd.concat([exclusions, dropped[lacking != ""]], ignore_index=True)
        kept = kept[(lacking == "").to_numpy()].reset_index(drop=True)
        cov = cov[(lacking == "").to_numpy()].reset_index(drop=True)
    if kept["label"].nunique() < 2:
        raise InputError(
            participants,
            f"after joining the modalities only one class is left ({len(kept)} subjects); "
            f"see the exclusions: {exclusions['reason'].value_counts().to_dict()}",
        )
    log.info("cohort: %d subjects kept, %d excluded", len(kept), len(exclusions))
    for reason, n in exclusions["reason"].value_counts().items():
        log.info("  excluded %d: %s", n, reason)
    ids = kept[ID]
    extra = [c for c in ("age", "sex", "site") if c in kept.columns]
    diagnosis = coding.get("diagnosis_column", "diagnosis")
    subjects = kept[[ID, "label", diagnosis, *extra]]
    splits = make_splits(
        ids.to_numpy(),
        kept["label"].to_numpy(),
        cv["repeats"],
        cv["folds"],
        cv["val_fraction"],
        seed,
    )
    write_tsv(subjects, outputs["subjects"])
    write_id_float_tsv(gen.set_index(ID).loc[ids].reset_index(), outputs["genetics"])
    write_id_float_tsv(img.set_index(ID).loc[ids].reset_index(), outputs["imaging"])
    write_tsv(splits, outputs["splits"])
    write_tsv(exclusions, outputs["exclusions"])
    if "covariates" in outputs:
        cov = kept[[ID]] if cov is None else cov
        write_covariates(cov, spec, outputs["covariates"])


def _covariates(
    kept: pd.DataFrame, spec: dict, global_measures: str | Path | None, pcs: str | Path | None
) -> pd.DataFrame | None:
    """The named covariates of the kept subjects (None when none are named)."""
    names = covariate_names(spec)
    if not names:
        return None
    sources = {}
    for role, path in (("global_measures", global_measures), ("pcs", pcs)):
        if path:
            sources[role] = (path, read_tsv(path, required=[ID], dtype={ID: str}))
    return gather_covariates(kept, names, sources)
