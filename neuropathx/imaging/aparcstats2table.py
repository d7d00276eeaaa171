"""Write per-hemisphere, per-measure tables in the layout of FreeSurfer's ``aparcstats2table``.

Layout (FreeSurfer 7 ``aparcstats2table --hemi lh --parc aparc --meas thickness``, tab
delimited): the first header cell is ``lh.aparc.thickness``, then one column per parcel
named ``lh_<parcel>_thickness``; for ``thickness`` a trailing ``lh_MeanThickness_thickness``,
for ``area`` a trailing ``lh_WhiteSurfArea_area``; then ``BrainSegVolNotVent`` and ``eTIV``
undecorated when the stats files carry them (FreeSurfer >= 6). One row per subject, the
subject ID first, values as Python writes floats (``2.239``, ``1138.0``), as the tool does.
Trailing columns absent from any subject's file are left out (the tool would write 0.0).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from neuropathx.imaging.regional_table import RegionalTable
from neuropathx.imaging.subjects import HEMISPHERES
from neuropathx.io import atomic_path

#: FreeSurfer column → ``aparcstats2table --meas`` name (NumVert has none).
MEAS_NAMES = {
    "SurfArea": "area",
    "GrayVol": "volume",
    "ThickAvg": "thickness",
    "ThickStd": "thicknessstd",
    "MeanCurv": "meancurv",
    "GausCurv": "gauscurv",
    "FoldInd": "foldind",
    "CurvInd": "curvind",
}
#: Hemisphere summary ``# Measure`` appended for a given ``--meas``.
_SUMMARY = {"thickness": "MeanThickness", "area": "WhiteSurfArea"}
_WHOLE_BRAIN = ("BrainSegVolNotVent", "eTIV")


def _complete(header: pd.DataFrame, name: str) -> bool:
    return name in header.columns and not header[name].isna().any()


def aparcstats2table_frame(
    table: RegionalTable, hemi: str, parcellation: str, measure: str
) -> pd.DataFrame:
    """The ``aparcstats2table`` table of one hemisphere and FreeSurfer column ``measure``."""
    meas = MEAS_NAMES[measure]
    header = table.header_measures[hemi]
    data = {f"{hemi}.{parcellation}.{meas}": table.features["participant_id"].to_numpy()}
    for region in table.regions[hemi]:
        data[f"{hemi}_{region}_{meas}"] = table.features[f"{hemi}_{region}__{measure}"].to_numpy()
    summary = _SUMMARY.get(meas)
    if summary is not None and _complete(header, summary):
        data[f"{hemi}_{summary}_{meas}"] = header[summary].to_numpy()
    for name in _WHOLE_BRAIN:
        if _complete(header, name):
            data[name] = header[name].to_numpy()
    return pd.DataFrame(data)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(float(value))
    return str(value)


def write_aparcstats2tables(
    table: RegionalTable, out_dir: str | Path, parcellation: str, measures: list[str]
) -> list[Path]:
    """Write ``<out_dir>/<hemi>.<parc>.<meas>.tsv`` for each hemisphere and mappable measure."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for hemi in HEMISPHERES:
        for measure in measures:
            if measure not in MEAS_NAMES:
                continue
            frame = aparcstats2table_frame(table, hemi, parcellation, measure)
            path = out_dir / f"{hemi}.{parcellation}.{MEAS_NAMES[measure]}.tsv"
            lines = ["\t".join(frame.columns)]
            for row in frame.itertuples(index=False, name=None):
                lines.append("\t".join(_cell(v) for v in row))
            with atomic_path(path) as tmp:
                tmp.write_text("\n".join(lines) + "\n")
            written.append(path)
    return written
