"""Synthetic FreeSurfer 7-layout ``?h.<parc>.stats`` files, for tests and benchmarks.

Random plausible values written with the demo's FreeSurfer 7 writer (one writer for the
format in the whole project).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from neuropathx.demo.freesurfer_stats import stats_text
from neuropathx.imaging.parcellations import DESIKAN_KILLIANY


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
    measures = {"BrainSegVol": etiv * 0.76, "BrainSegVolNotVent": etiv * 0.75, "eTIV": etiv}
    return stats_text(subject, hemi, list(regions), values, measures, parcellation)


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
