"""Synthetic FreeSurfer 7-layout ``?h.<parc>.stats`` files, for tests and benchmarks.

The layout follows ``mris_anatomical_stats`` of FreeSurfer 7.x: provenance lines, the
``# Measure`` block (Cortex NumVert/WhiteSurfArea/MeanThickness, BrainSeg..., eTIV), the
``# TableCol`` block and ``# ColHeaders``, then fixed-width rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from neuropathx.imaging.freesurfer import PARC_MEASURES
from neuropathx.imaging.parcellations import DESIKAN_KILLIANY

_TABLECOLS = (
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
)
_FORMATS = ("{:6.0f}", "{:6.0f}", "{:6.0f}", "{:6.3f}", "{:5.3f}", "{:9.3f}", "{:9.3f}",
            "{:8.0f}", "{:8.1f}")  # fmt: skip


def random_parc_values(rng: np.random.Generator, n_regions: int) -> np.ndarray:
    """Plausible (n_regions × 9) values in ``PARC_MEASURES`` order, rounded as FreeSurfer
    prints them."""
    area = rng.uniform(300, 6000, n_regions)
    thick = rng.uniform(1.8, 3.2, n_regions)
    values = np.column_stack(
        [
            area * 3.1,
            area,
            area * thick * rng.uniform(0.9, 1.1, n_regions),
            thick,
            rng.uniform(0.4, 0.8, n_regions),
            rng.uniform(0.05, 0.1, n_regions),
            rng.uniform(0.01, 0.03, n_regions),
            rng.uniform(5, 120, n_regions),
            rng.uniform(0.5, 15, n_regions),
        ]
    )
    decimals = [0, 0, 0, 3, 3, 3, 3, 0, 1]
    return np.column_stack([np.round(values[:, j], d) for j, d in enumerate(decimals)])


def format_parc_stats(
    subject: str,
    hemi: str,
    values: np.ndarray,
    regions: Sequence[str] = DESIKAN_KILLIANY,
    parcellation: str = "aparc",
    etiv: float = 1_500_000.0,
) -> str:
    """Text of a FreeSurfer 7 ``<hemi>.<parcellation>.stats`` with the given rows."""
    area = float(values[:, 1].sum())
    mean_thick = float(np.average(values[:, 3], weights=values[:, 1]))
    lines = [
        "# Table of FreeSurfer cortical parcellation anatomical statistics ",
        "# ",
        "# CreationTime 2024/01/01-00:00:00-GMT",
        "# generating_program mris_anatomical_stats",
        "# cvs_version 7.4.1",
        "# mrisurf.c-cvs_version 7.4.1",
        f"# cmdline mris_anatomical_stats -th3 -mgz -cortex ../label/{hemi}.cortex.label -f "
        f"../stats/{hemi}.{parcellation}.stats -b -a ../label/{hemi}.{parcellation}.annot "
        f"{subject} {hemi} white ",
        "# ",
        "# anatomy_type surface",
        f"# subjectname {subject}",
        f"# hemi {hemi}",
        f"# AnnotationFile ../label/{hemi}.{parcellation}.annot",
        f"# Measure Cortex, NumVert, Number of Vertices, {int(values[:, 0].sum())}, unitless",
        f"# Measure Cortex, WhiteSurfArea, White Surface Total Area, {area:g}, mm^2",
        f"# Measure Cortex, MeanThickness, Mean Thickness, {mean_thick:.5f}, mm",
        "# BrainVolStatsFixed see surfer.nmr.mgh.harvard.edu/fswiki/BrainVolStatsFixed",
        f"# Measure BrainSeg, BrainSegVol, Brain Segmentation Volume, {etiv * 0.76:f}, mm^3",
        "# Measure BrainSegNotVent, BrainSegVolNotVent, Brain Segmentation Volume Without "
        f"Ventricles, {etiv * 0.75:f}, mm^3",
        "# Measure EstimatedTotalIntraCranialVol, eTIV, Estimated Total Intracranial Volume, "
        f"{etiv:f}, mm^3",
        f"# NTableCols {len(_TABLECOLS)}",
    ]
    for k, (col, name, units) in enumerate(_TABLECOLS, start=1):
        lines += [
            f"# TableCol {k:2d} ColHeader {col}",
            f"# TableCol {k:2d} FieldName {name}",
            f"# TableCol {k:2d} Units     {units}",
        ]
    lines.append("# ColHeaders StructName " + " ".join(PARC_MEASURES))
    row_format = "{:<40} " + " ".join(_FORMATS)
    for region, row in zip(regions, values.tolist(), strict=True):
        lines.append(row_format.format(region, *row))
    return "\n".join(lines) + "\n"


def write_subject_stats(
    subjects_dir: str | Path,
    subject: str,
    values: dict[str, np.ndarray],
    regions: Sequence[str] = DESIKAN_KILLIANY,
    parcellation: str = "aparc",
    etiv: float = 1_500_000.0,
) -> list[Path]:
    """Write ``<subject>/stats/{lh,rh}.<parcellation>.stats``; ``values`` maps hemi → rows."""
    stats = Path(subjects_dir) / subject / "stats"
    stats.mkdir(parents=True, exist_ok=True)
    paths = []
    for hemi, rows in values.items():
        path = stats / f"{hemi}.{parcellation}.stats"
        path.write_text(format_parc_stats(subject, hemi, rows, regions, parcellation, etiv))
        paths.append(path)
    return paths
