"""Naming of regional imaging feature columns: ``<region>__<measure>``.

Every stage that writes or reads the subjects x (region, measure) table uses these two
functions, so the layout is defined in one place. Regions carry their hemisphere prefix
(``lh_superiorfrontal``); measures are FreeSurfer column names (``ThickAvg``).
"""

from __future__ import annotations

from collections.abc import Sequence

SEPARATOR = "__"


def feature_column(region: str, measure: str) -> str:
    """Column name of one (region, measure) feature."""
    return f"{region}{SEPARATOR}{measure}"


def split_feature_columns(columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """Regions and measures (in first-seen order) of a full region x measure column grid.

    Raises ValueError naming the offending columns when a column does not follow the
    ``<region>__<measure>`` layout or when the grid is incomplete.
    """
    regions: list[str] = []
    measures: list[str] = []
    pairs = set()
    bad = []
    for col in columns:
        region, sep, measure = col.rpartition(SEPARATOR)
        if not sep or not region or not measure:
            bad.append(col)
            continue
        if region not in regions:
            regions.append(region)
        if measure not in measures:
            measures.append(measure)
        pairs.add((region, measure))
    if bad:
        raise ValueError(f"imaging columns not of the form <region>__<measure>: {bad[:5]}")
    missing = [feature_column(r, m) for r in regions for m in measures if (r, m) not in pairs]
    if missing:
        raise ValueError(
            f"imaging table lacks {len(missing)} region/measure column(s): {missing[:5]}"
        )
    return regions, measures
