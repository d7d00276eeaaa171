"""FreeSurfer 7 ``?h.<parcellation>.stats`` files: a faithful writer and a subject simulator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.demo.atlases import typical_regional_values
from neuropathx.demo.scenarios import Confounders
from neuropathx.io import atomic_path, check_subject_id

STATS_COLUMNS = [
    "NumVert", "SurfArea", "GrayVol", "ThickAvg", "ThickStd",
    "MeanCurv", "GausCurv", "FoldInd", "CurvInd",
]  # fmt: skip
_TABLE_COLS = [
    ("StructName", "Structure Name", "NA"),
    ("NumVert", "Number of Vertices", "unitless"),
    ("SurfArea", "Surface Area", "mm^2"),
    ("GrayVol", "Gray Matter Volume", "mm^3"),
    ("ThickAvg", "Average Thickness", "mm"),
    ("ThickStd", "Thickness StdDev", "mm"),
    ("MeanCurv", "Integrated Rectified Mean Curvature", "mm^-1"),
    ("GausCurv", "Integrated Rectified Gaussian Curvature", "mm^-2"),
    ("FoldInd", "Folding Index", "unitless"),
    ("CurvInd", "Intrinsic Curvature Index", "unitless"),
]
_CTAB = {"aparc": "aparc.annot.ctab", "aparc.a2009s": "aparc.annot.a2009s.ctab"}
_CREATION_TIME = "2024/01/15-12:00:00-GMT"  # fixed: same seed gives byte-identical files


def _global_lines(values: np.ndarray, measures: dict) -> list[str]:
    """The ``# Measure`` lines; cortex totals default to sums over the (regions, 9) values."""
    area, thick = values[:, 1], values[:, 3]
    totals = {
        "NumVert": measures.get("NumVert", values[:, 0].sum()),
        "WhiteSurfArea": measures.get("WhiteSurfArea", area.sum()),
        "MeanThickness": measures.get("MeanThickness", (area * thick).sum() / area.sum()),
    }
    lines = [
        f"# Measure Cortex, NumVert, Number of Vertices, {int(totals['NumVert'])}, unitless",
        f"# Measure Cortex, WhiteSurfArea, White Surface Total Area, "
        f"{float(totals['WhiteSurfArea']):.1f}, mm^2",
        f"# Measure Cortex, MeanThickness, Mean Thickness, "
        f"{float(totals['MeanThickness']):.5f}, mm",
        "# BrainVolStatsFixed see surfer.nmr.mgh.harvard.edu/fswiki/BrainVolStatsFixed",
    ]
    optional = [
        ("BrainSeg", "BrainSegVol", "Brain Segmentation Volume"),
        ("BrainSegNotVent", "BrainSegVolNotVent", "Brain Segmentation Volume Without Ventricles"),
        ("Cortex", "CortexVol", "Total cortical gray matter volume"),
    ]
    for structure, key, description in optional:
        if key in measures:
            lines.append(
                f"# Measure {structure}, {key}, {description}, {float(measures[key]):.6f}, mm^3"
            )
    lines.append(
        "# Measure EstimatedTotalIntraCranialVol, eTIV, Estimated Total Intracranial Volume, "
        f"{float(measures['eTIV']):.6f}, mm^3"
    )
    return lines


def _row(name: str, v: list[float]) -> str:
    """One table row in mris_anatomical_stats' fixed-width layout (v in STATS_COLUMNS order)."""
    return (
        f"{name:<40}{int(v[0]):5d}  {v[1]:5.0f}  {v[2]:5.0f} {v[3]:6.3f} {v[4]:5.3f}"
        f"  {v[5]:8.3f}  {v[6]:8.3f}  {v[7]:7.0f}  {v[8]:6.1f}"
    )


def write_aparc_stats(
    path: str | Path,
    subject: str,
    hemi: str,
    table: pd.DataFrame,
    global_measures: dict,
    parcellation: str = "aparc",
) -> None:
    """Write one FreeSurfer 7 cortical parcellation stats file (``?h.aparc*.stats``) atomically.

    ``path`` is the destination, e.g. ``<subjects>/<subject>/stats/lh.aparc.stats``; the
    other parameters are those of :func:`format_aparc_stats`.
    """
    text = format_aparc_stats(subject, hemi, table, global_measures, parcellation)
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def format_aparc_stats(
    subject: str,
    hemi: str,
    table: pd.DataFrame,
    global_measures: dict,
    parcellation: str = "aparc",
) -> str:
    """Text of one FreeSurfer 7 cortical parcellation stats file.

    Parameters
    ----------
    subject, hemi : written into the header (``# subjectname``, ``# hemi``); hemi is lh/rh.
    table : one row per region, a ``StructName`` column (or index) and the nine columns
        NumVert SurfArea GrayVol ThickAvg ThickStd MeanCurv GausCurv FoldInd CurvInd.
    global_measures : needs ``eTIV`` (mm^3); optional ``BrainSegVol``, ``BrainSegVolNotVent``,
        ``CortexVol``, and ``NumVert``/``WhiteSurfArea``/``MeanThickness`` (default: from table).
    parcellation : annotation name (``aparc``, ``aparc.a2009s``, ...), used in the header.
    """
    if "StructName" not in table.columns:
        table = table.rename_axis("StructName").reset_index()
    missing = [c for c in STATS_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"stats table lacks column(s) {missing}")
    values = table[STATS_COLUMNS].to_numpy(dtype=float)
    names = [str(n) for n in table["StructName"]]
    return stats_text(subject, hemi, names, values, global_measures, parcellation)


def stats_text(
    subject: str,
    hemi: str,
    names: list[str],
    values: np.ndarray,
    global_measures: dict,
    parcellation: str = "aparc",
) -> str:
    """As :func:`format_aparc_stats`, from region names and a (regions, 9) value array."""
    check_subject_id(subject)
    if hemi not in ("lh", "rh"):
        raise ValueError(f"hemi must be 'lh' or 'rh', got {hemi!r}")
    if "eTIV" not in global_measures:
        raise ValueError("global_measures must contain 'eTIV'")
    annot = f"../label/{hemi}.{parcellation}.annot"
    ctab = _CTAB.get(parcellation, f"{parcellation}.annot.ctab")
    header = [
        "# Table of FreeSurfer cortical parcellation anatomical statistics ",
        "# ",
        f"# CreationTime {_CREATION_TIME}",
        "# generating_program mris_anatomical_stats",
        "# cvs_version 7.4.1",
        "# mrisurf.c-cvs_version 7.4.1",
        f"# cmdline mris_anatomical_stats -th3 -mgz -cortex ../label/{hemi}.cortex.label "
        f"-f ../stats/{hemi}.{parcellation}.stats -b -a {annot} -c ../label/{ctab} "
        f"{subject} {hemi} white ",
        "# sysname  Linux",
        "# hostname neuropathx-demo",
        "# machine  x86_64",
        "# user     demo",
        "# ",
        "# SUBJECTS_DIR /data/freesurfer",
        "# anatomy_type surface",
        f"# subjectname {subject}",
        f"# hemi {hemi}",
        f"# AnnotationFile {annot}",
        "# AnnotationFileTimeStamp 2024/01/15 11:58:00",
        *_global_lines(values, global_measures),
        f"# NTableCols {len(_TABLE_COLS)}",
    ]
    for k, (col, field, unit) in enumerate(_TABLE_COLS, start=1):
        header += [
            f"# TableCol {k:2d} ColHeader {col}",
            f"# TableCol {k:2d} FieldName {field}",
            f"# TableCol {k:2d} Units     {unit}",
        ]
    header.append("# ColHeaders StructName " + " ".join(STATS_COLUMNS))
    rows = [_row(n, v) for n, v in zip(names, values.tolist(), strict=True)]
    return "\n".join(header + rows) + "\n"


def simulate_regional_measures(
    parcellation: str,
    hemi: str,
    covariates: pd.DataFrame,
    rng: np.random.Generator,
    confounders: Confounders | None = None,
) -> np.ndarray:
    """Regional stats of one hemisphere for n subjects: (n, regions, 9 STATS_COLUMNS).

    ``covariates`` has eTIV, age, sex (M/F) and site_index. With the ``confounders`` (see
    :class:`~neuropathx.demo.scenarios.Confounders`; default sizes when None) area and
    volume scale with head size, thickness thins with age, is thicker in women, and each
    site scales thickness and area a little; regions vary around typical means. The same
    random numbers are drawn whatever the effect sizes, so a run without confounders
    differs from one with them only by their effects.
    """
    conf = Confounders() if confounders is None else confounders
    typical = typical_regional_values(parcellation)
    n, n_regions = len(covariates), len(typical)
    t = {c: typical[c].to_numpy(float)[None, :] for c in typical.columns}
    if hemi == "rh":  # small, real asymmetries: right slightly larger area, thicker
        t["SurfArea"] = t["SurfArea"] * 1.01
        t["ThickAvg"] = t["ThickAvg"] * 1.005

    def noise(sd: float) -> np.ndarray:
        return rng.normal(0.0, sd, size=(n, n_regions))

    site = covariates["site_index"].to_numpy()
    age = covariates["age"].to_numpy(float)[:, None]
    female = (covariates["sex"].to_numpy() == "F")[:, None]
    head = (covariates["eTIV"].to_numpy(float) / 1.5e6)[:, None] ** conf.size("etiv_area_exponent")
    site_z = rng.normal(0.0, 1.0, size=(2, int(np.max(site)) + 1))[:, site][..., None]
    site_thick, site_area = 1 + conf.size("site_sd") * site_z
    global_thick = rng.normal(0.0, 0.04, size=(n, 1))
    ageing = 1.0 - conf.size("age_thinning") * np.clip(age - 50.0, 0, None)
    sex = 1.0 + conf.size("sex_thickness") * female
    thick = t["ThickAvg"] * (1 + global_thick + noise(0.06)) * site_thick * ageing * sex
    area = t["SurfArea"] * head * site_area * np.exp(noise(0.10))
    vol = t["GrayVol"] * (area / t["SurfArea"]) * (thick / t["ThickAvg"]) * np.exp(noise(0.04))
    out = np.empty((n, n_regions, len(STATS_COLUMNS)))
    out[..., 0] = np.round(area * 1.45 * np.exp(noise(0.02)))
    out[..., 1] = area
    out[..., 2] = vol
    out[..., 3] = thick
    out[..., 4] = t["ThickStd"] * np.exp(noise(0.08))
    out[..., 5] = t["MeanCurv"] * np.exp(noise(0.05))
    out[..., 6] = t["GausCurv"] * np.exp(noise(0.08))
    out[..., 7] = np.round(area * 0.017 * np.exp(noise(0.15)))
    out[..., 8] = area * 0.0012 * np.exp(noise(0.20))
    return out
