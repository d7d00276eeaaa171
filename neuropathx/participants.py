"""The participants table checked against ``schemas/participants.schema.yaml``, once, first.

Every problem is collected (one line each: file line, subject, column, what is wrong) and
reported in one error, so a user fixes the table in one go. BIDS conventions are accepted:
``n/a`` (or an empty cell) for a missing value, sex written ``M``/``F``, ``male``/``female``
or PLINK's ``1``/``2`` (normalised to ``M``/``F``), and IDs with or without the ``sub-``
prefix in other modalities (matched by :func:`neuropathx.cohort.match_ids`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import jsonschema
import pandas as pd
import yaml

from neuropathx.errors import InputError
from neuropathx.io import write_tsv

log = logging.getLogger(__name__)

ID = "participant_id"
MISSING = ("", "n/a", "N/A", "NA", "na")
SEX_CODES = {"m": "M", "male": "M", "1": "M", "f": "F", "female": "F", "2": "F"}
MAX_LISTED = 50


def _cell(value: str, kind: str | None) -> object:
    if kind in ("number", "integer"):
        try:
            return float(value) if kind == "number" else int(value)
        except ValueError:
            return value  # the schema reports it, naming the value
    return value


def check_participants(
    path: str | Path, schema_path: str | Path, coding: dict | None = None
) -> pd.DataFrame:
    """The validated table (sex normalised, missing values empty); InputError listing every
    problem otherwise. ``coding``: the config's ``participants`` section (diagnosis column)."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    diagnosis = (coding or {}).get("diagnosis_column", "diagnosis")
    props = dict(schema.get("properties", {}))
    if diagnosis != "diagnosis" and "diagnosis" in props:
        props[diagnosis] = props.pop("diagnosis")
    required = [diagnosis if r == "diagnosis" else r for r in schema.get("required", [])]
    schema = {**schema, "properties": props, "required": required}
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(path, "participants table not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"not a tab-separated table: {exc}") from None
    table.columns = [c.strip() for c in table.columns]
    problems = [f"missing column {c!r}" for c in required if c not in table.columns]
    if problems:
        raise InputError(path, f"{'; '.join(problems)} (found {list(table.columns)})")
    table = table.apply(lambda col: col.str.strip())
    if "sex" in table.columns:
        table["sex"] = [SEX_CODES.get(v.lower(), v) for v in table["sex"]]
    validator = jsonschema.Draft202012Validator(schema)
    for k, row in enumerate(table.to_dict("records")):
        record = {
            c: _cell(v, props.get(c, {}).get("type")) for c, v in row.items() if v not in MISSING
        }
        where = f"line {k + 2}" + (f" ({row[ID]})" if row.get(ID) not in MISSING else "")
        for err in sorted(validator.iter_errors(record), key=lambda e: list(e.path)):
            column = ".".join(map(str, err.path)) or "row"
            problems.append(f"{where}, {column}: {err.message}")
    ids = table.loc[~table[ID].isin(MISSING), ID]
    for subject, lines in ids.groupby(ids).groups.items():
        if len(lines) > 1:
            problems.append(
                f"participant_id {subject!r} on lines {[int(i) + 2 for i in lines]} (duplicate)"
            )
    if problems:
        shown, extra = problems[:MAX_LISTED], len(problems) - MAX_LISTED
        more = f"\n  ... and {extra} more" if extra > 0 else ""
        raise InputError(
            path,
            f"{len(problems)} problem(s) against {Path(schema_path).name}:\n  "
            + "\n  ".join(shown)
            + more,
        )
    return table.replace(list(MISSING), "")


def write_checked_participants(
    path: str | Path, schema_path: str | Path, out: str | Path, coding: dict | None = None
) -> None:
    """Check ``path`` and write the normalised table to ``out`` (the workflow's first job)."""
    table = check_participants(path, schema_path, coding)
    write_tsv(table, out)
    log.info("participants: %d rows checked against %s", len(table), schema_path)
