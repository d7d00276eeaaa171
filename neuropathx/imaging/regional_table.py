"""Many subjects' parcel stats → one subjects × (region, measure) table, with checks and QC.

Checks: every subject must have the same parcels per hemisphere. A missing or malformed
stats file stops the stage (``missing="error"``) or excludes its subject with the file and
the reason (``missing="drop"``). A parcel missing in a
minority of subjects is those subjects' fault; a parcel present in a minority only is an
extra row of those subjects. Either is an InputError naming subject, file and parcel, or
(``missing="drop"``) an exclusion listed with its reason. Parcels every subject lacks,
for a parcellation whose parcels are known, are one error whatever ``missing`` says.
QC lists (never removes) NaN, non-positive and robust-z outlier values.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from neuropathx.errors import InputError
from neuropathx.features import SEPARATOR, feature_column
from neuropathx.imaging.parcellations import expected_parcels
from neuropathx.imaging.subjects import HEMISPHERES, LoadProblem, SubjectStats

#: ``# Measure`` names that describe one hemisphere (prefixed ``lh_``/``rh_`` in outputs).
HEMISPHERE_MEASURES = ("NumVert", "WhiteSurfArea", "PialSurfArea", "MeanThickness")
QC_COLUMNS = ["participant_id", "region", "measure", "value", "flag", "robust_z"]
MAD_TO_SD = 1.4826


@dataclass
class RegionalTable:
    """The assembled cohort tables.

    features : ``participant_id`` + one ``<hemi>_<region>__<measure>`` column per feature.
    global_measures : ``participant_id``, ``eTIV``, ``lh_<m>``/``rh_<m>`` for per-hemisphere
        ``# Measure`` values, then whole-brain ones (``BrainSegVol`` ...), NaN where absent.
    header_measures : per hemisphere, the raw ``# Measure`` values (rows = kept subjects).
    excluded : ``participant_id``, ``reason`` of every dropped subject.
    excluded_regions : ``hemisphere``, ``region``, ``n_subjects``, ``reason`` of dropped rows.
    regions : per hemisphere, the kept parcels in file order.
    """

    features: pd.DataFrame
    global_measures: pd.DataFrame
    header_measures: dict[str, pd.DataFrame]
    excluded: pd.DataFrame
    excluded_regions: pd.DataFrame
    regions: dict[str, list[str]]


def _kept_regions(stats: SubjectStats, hemi: str, exclude: set[str]) -> list[str]:
    return [r for r in stats.hemispheres[hemi].regions if r not in exclude]


def _region_set_problems(
    loaded: list[SubjectStats], hemi: str, exclude: set[str]
) -> dict[str, tuple[str, str]]:
    """Subjects whose parcel set differs from the majority: ``{subject: (path, problem)}``."""
    n = len(loaded)
    counts: Counter[str] = Counter()
    for s in loaded:
        counts.update(_kept_regions(s, hemi, exclude))
    odd = {r: c for r, c in counts.items() if c < n}
    problems: dict[str, tuple[str, str]] = {}
    if not odd:
        return problems
    for s in loaded:
        have = set(_kept_regions(s, hemi, exclude))
        path = s.hemispheres[hemi].path
        for region, c in odd.items():
            if region not in have and c > n / 2:
                msg = (
                    f"subject {s.subject}: lacks region {region!r} (present in {c} of {n} subjects)"
                )
            elif region in have and c <= n / 2:
                msg = (
                    f"subject {s.subject}: has region {region!r} that {n - c} of {n} "
                    "subjects lack (different parcellation or FreeSurfer version?)"
                )
            else:
                continue
            problems.setdefault(s.subject, (path, msg))
            break
    return problems


def _raise_first(problems: list[tuple[str, str]], what: str) -> None:
    path, problem = problems[0]
    more = f" ({len(problems) - 1} more subject(s) with {what})" if len(problems) > 1 else ""
    raise InputError(path, problem + more)


def _check_known_parcels(
    kept: list[SubjectStats], regions: dict[str, list[str]], parcellation: str
) -> None:
    expected = expected_parcels(parcellation)
    if expected is None:
        return
    for hemi in HEMISPHERES:
        absent = [r for r in expected if r not in set(regions[hemi])]
        if absent:
            raise InputError(
                kept[0].hemispheres[hemi].path,
                f"all {len(kept)} subjects lack {hemi} region(s) {absent} of the "
                f"{parcellation!r} parcellation: wrong parcellation setting or a FreeSurfer "
                "version/run that did not produce them",
            )


def _feature_matrix(
    kept: list[SubjectStats], regions: dict[str, list[str]], n_measures: int
) -> np.ndarray:
    n_regions = sum(len(regions[h]) for h in HEMISPHERES)
    out = np.empty((len(kept), n_regions * n_measures))
    for i, s in enumerate(kept):
        row: list[float] = []
        for hemi in HEMISPHERES:
            h = s.hemispheres[hemi]
            at = {r: k for k, r in enumerate(h.regions)}
            for region in regions[hemi]:
                row.extend(h.values[at[region]])
        out[i] = row
    return out


def _header_measures(kept: list[SubjectStats], hemi: str) -> pd.DataFrame:
    records = [s.hemispheres[hemi].measures for s in kept]
    return pd.DataFrame.from_records(records, index=[s.subject for s in kept], columns=None)


def _global_measures(kept: list[SubjectStats], header: dict[str, pd.DataFrame]) -> pd.DataFrame:
    out = pd.DataFrame({"participant_id": [s.subject for s in kept]})
    out["eTIV"] = [s.etiv for s in kept]
    for hemi in HEMISPHERES:
        for m in HEMISPHERE_MEASURES:
            if m in header[hemi].columns:
                out[f"{hemi}_{m}"] = header[hemi][m].to_numpy()
    skip = set(HEMISPHERE_MEASURES) | {"eTIV", "ICV"}
    for m in header["lh"].columns:
        if m not in skip:
            out[m] = header["lh"][m].to_numpy()
    return out


def build_regional_table(
    loaded: list[SubjectStats | LoadProblem],
    measures: list[str],
    *,
    parcellation: str = "aparc",
    exclude_regions: list[str] | tuple[str, ...] = ("unknown", "corpuscallosum"),
    missing: str = "error",
) -> RegionalTable:
    """Check region sets across subjects and assemble the feature and global tables."""
    if missing not in {"error", "drop"}:
        raise ValueError(f"missing must be 'error' or 'drop', got {missing!r}")
    excluded: list[tuple[str, str]] = []
    broken = [p for p in loaded if isinstance(p, LoadProblem) and not p.missing]
    if broken and missing == "error":
        _raise_first([(p.path, f"subject {p.subject}: {p.problem}") for p in broken], "errors")
    absent = [p for p in loaded if isinstance(p, LoadProblem)]
    if absent and missing == "error":
        _raise_first([(p.path, f"subject {p.subject}: {p.problem}") for p in absent], "missing")
    excluded += [(p.subject, f"{p.path}: {p.problem}") for p in absent]
    stats = [s for s in loaded if isinstance(s, SubjectStats)]
    if not stats:
        raise InputError(None, f"no subject has readable FreeSurfer stats ({len(loaded)} listed)")

    exclude = set(exclude_regions)
    region_rows = []
    for hemi in HEMISPHERES:
        n_by_region: Counter[str] = Counter()
        for s in stats:
            n_by_region.update(r for r in s.hemispheres[hemi].regions if r in exclude)
        region_rows += [
            (hemi, r, n, "excluded_regions setting (not a cortical parcel)")
            for r, n in n_by_region.items()
        ]
    problems: dict[str, tuple[str, str]] = {}
    for hemi in HEMISPHERES:
        for subject, problem in _region_set_problems(stats, hemi, exclude).items():
            problems.setdefault(subject, problem)
    if problems and missing == "error":
        _raise_first(list(problems.values()), "a different region set")
    excluded += [(s, f"{path}: {msg}") for s, (path, msg) in problems.items()]
    kept = [s for s in stats if s.subject not in problems]
    if not kept:
        raise InputError(None, "every subject was excluded: " + excluded[0][1])

    regions = {h: _kept_regions(kept[0], h, exclude) for h in HEMISPHERES}
    _check_known_parcels(kept, regions, parcellation)
    columns = [
        feature_column(f"{hemi}_{region}", m)
        for hemi in HEMISPHERES
        for region in regions[hemi]
        for m in measures
    ]
    matrix = _feature_matrix(kept, regions, len(measures))
    features = pd.DataFrame(matrix, columns=columns)
    features.insert(0, "participant_id", [s.subject for s in kept])
    header = {h: _header_measures(kept, h) for h in HEMISPHERES}
    return RegionalTable(
        features=features,
        global_measures=_global_measures(kept, header),
        header_measures=header,
        excluded=pd.DataFrame(excluded, columns=["participant_id", "reason"]),
        excluded_regions=pd.DataFrame(
            region_rows, columns=["hemisphere", "region", "n_subjects", "reason"]
        ),
        regions=regions,
    )


def robust_z(x: np.ndarray) -> np.ndarray:
    """Column-wise robust z = (x - median) / (1.4826 · MAD), NaN-aware; NaN where MAD is 0."""
    med = np.nanmedian(x, axis=0)
    mad = np.nanmedian(np.abs(x - med), axis=0)
    scale = MAD_TO_SD * mad
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x - med) / scale
    z[:, ~(scale > 0)] = np.nan
    return z


def flag_regional_values(features: pd.DataFrame, outlier_z: float = 4.0) -> pd.DataFrame:
    """QC listing: one row per flagged value (``nan``, ``non_positive``, ``robust_outlier``).

    Flagged values stay in the feature table; this only reports them.
    """
    cols = [c for c in features.columns if c != "participant_id"]
    x = features[cols].to_numpy(dtype=float)
    ids = features["participant_id"].to_numpy()
    if x.size == 0:
        return pd.DataFrame(columns=QC_COLUMNS)
    z = robust_z(x)
    flags = {
        "missing_value": np.isnan(x),
        "non_positive": x <= 0,
        "robust_outlier": np.abs(z) > outlier_z,
    }
    order = {name: k for k, name in enumerate(flags)}
    rows = []
    for flag, mask in flags.items():
        for i, j in zip(*np.nonzero(mask), strict=True):
            region, _, measure = cols[j].rpartition(SEPARATOR)
            rows.append((i, j, order[flag], ids[i], region, measure, x[i, j], flag, z[i, j]))
    rows.sort(key=lambda r: r[:3])
    return pd.DataFrame([r[3:] for r in rows], columns=QC_COLUMNS)


def flag_missing_etiv(global_measures: pd.DataFrame) -> pd.DataFrame:
    """QC rows (``region`` "global", flag ``missing_eTIV``) for subjects without eTIV: no
    ``eTIV``/``ICV`` measure in the parcellation files and no readable ``aseg.stats``."""
    lacking = global_measures.loc[global_measures["eTIV"].isna(), "participant_id"]
    return pd.DataFrame(
        [(s, "global", "eTIV", np.nan, "missing_eTIV", np.nan) for s in lacking],
        columns=QC_COLUMNS,
    )
