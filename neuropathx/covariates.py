"""Covariates of the cohort: gathered from their sources, aligned with the subjects, on disk.

The config's ``covariates`` section names columns; each is looked up, in this order, in
``participants.tsv`` (age, sex, site ...), the imaging stage's ``global_measures.tsv``
(eTIV ...) and the genotype stage's ``pcs.tsv`` (``PC1`` .. ``PC<k>``). The cohort stage
writes them as ``covariates.tsv`` (``participant_id`` + one column per covariate, rows in
``subjects.tsv`` order) with a ``covariates.json`` sidecar: the adjustment to do per fold
(neuropathx.adjust.AdjustmentSpec).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.errors import InputError
from neuropathx.io import read_tsv, write_tsv

ID = "participant_id"


def adjustment_spec(settings: dict | None) -> dict:
    """The ``covariates`` config section as an AdjustmentSpec dict (``combat_batch`` → batch)."""
    s = dict(settings or {})
    return {
        "imaging": list(s.get("imaging") or []),
        "genetics": list(s.get("genetics") or []),
        "categorical": list(s.get("categorical") or []),
        "batch": s.get("combat_batch") or None,
        "min_group_size": int(s.get("min_group_size", 2)),
        "spline_df": dict(s.get("spline_df") or {}),
    }


def covariate_names(spec: dict) -> list[str]:
    """Every column the adjustment needs, in first-use order."""
    batch = [spec["batch"]] if spec.get("batch") else []
    return list(dict.fromkeys([*spec["imaging"], *spec["genetics"], *batch]))


def gather_covariates(
    participants: pd.DataFrame,
    names: list[str],
    sources: dict[str, tuple[str | Path, pd.DataFrame]],
) -> pd.DataFrame:
    """``participant_id`` + the named columns for the participants' rows.

    ``sources``: other tables by role (``global_measures``, ``pcs``) as (path, table), searched
    after the participants table. A subject absent from a source gets NaN (the caller
    excludes it); a name found nowhere is an InputError listing what each source holds.
    """
    out = participants[[ID]].copy()
    for name in names:
        if name in participants.columns:
            out[name] = participants[name].to_numpy()
            continue
        for _, table in sources.values():
            if name in table.columns:
                values = table.drop_duplicates(ID).set_index(ID)[name]
                out[name] = out[ID].map(values).to_numpy()
                break
        else:
            held = {"participants": [c for c in participants.columns if c != "label"]}
            held.update({k: [c for c in t.columns if c != ID] for k, (_, t) in sources.items()})
            raise InputError(
                None,
                f"covariate {name!r} is in none of the tables: {held}; fix the config's "
                "covariates section",
            )
    return out


def missing_covariates(table: pd.DataFrame) -> pd.Series:
    """Per subject, the covariates without a value ('' when complete)."""
    values = table.drop(columns=ID)
    blank = values.isna() | values.astype(str).isin(["", "n/a", "nan"])
    return blank.apply(lambda row: ", ".join(row.index[row]), axis=1)


def write_covariates(table: pd.DataFrame, spec: dict, path: str | Path) -> None:
    """``covariates.tsv`` and its ``covariates.json`` sidecar (the adjustment spec)."""
    write_tsv(table, path)
    Path(path).with_suffix(".json").write_text(json.dumps(spec, indent=2) + "\n")


def read_covariates(path: str | Path, ids: np.ndarray) -> tuple[pd.DataFrame, dict]:
    """Covariate columns (rows in ``ids`` order, ID column dropped) and the adjustment spec."""
    table = read_tsv(path, required=[ID], dtype={ID: str})
    if not np.array_equal(table[ID].to_numpy(), ids):
        raise InputError(path, "subject IDs differ from subjects.tsv (order or content)")
    sidecar = Path(path).with_suffix(".json")
    try:
        spec = json.loads(sidecar.read_text())
    except FileNotFoundError:
        raise InputError(sidecar, "covariates sidecar not found (rerun the cohort stage)") from None
    absent = [c for c in covariate_names(spec) if c not in table.columns]
    if absent:
        raise InputError(path, f"covariate column(s) {absent} named in {sidecar.name} missing")
    return table.drop(columns=ID).reset_index(drop=True), spec
