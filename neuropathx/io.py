"""Small I/O helpers shared by all stages: atomic writes, TSV reading, ID checks."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from neuropathx.errors import InputError

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_tsv(df: pd.DataFrame, path: str | Path, index: bool = False) -> None:
    """Write a tab-separated table atomically (no half-written outputs)."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=index, float_format="%.10g")


def _id_float_row(key: str, values: list[float]) -> str:
    text = "\t".join(map(repr, values))
    if "nan" in text:
        text = "\t".join("" if v != v else repr(v) for v in values)
    return f"{key}\t{text}"


def write_id_float_tsv(df: pd.DataFrame, path: str | Path) -> None:
    """Write an ID + numeric table as TSV, atomically, much faster than ``write_tsv``.

    Floats use Python's shortest round-trip repr (exact values), NaN an empty cell.
    """
    ids = df.iloc[:, 0].astype(str).tolist()
    values = df.iloc[:, 1:].to_numpy(dtype=float).tolist()
    lines = ["\t".join(map(str, df.columns))]
    lines += [_id_float_row(i, v) for i, v in zip(ids, values, strict=True)]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")


def write_json(obj: object, path: str | Path) -> None:
    """Write JSON atomically, pretty-printed and key-sorted for diffable results."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_tsv(path: str | Path, required: list[str] | None = None, **kwargs) -> pd.DataFrame:
    """Read a TSV, failing with a message naming the file if it is absent or lacks columns."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    try:
        df = pd.read_csv(path, sep="\t", **kwargs)
    except pd.errors.EmptyDataError as exc:
        raise InputError(path, "file is empty") from exc
    except pd.errors.ParserError as exc:
        raise InputError(path, f"malformed table: {exc}") from exc
    missing = [c for c in (required or []) if c not in df.columns]
    if missing:
        raise InputError(path, f"missing column(s) {missing}; found {list(df.columns)}")
    return df


def check_subject_id(subject: str, source: str | Path | None = None) -> str:
    """Return ``subject`` if it is safe to use in a file path, else raise InputError."""
    if not isinstance(subject, str) or not _SAFE_ID.match(subject) or ".." in subject:
        raise InputError(
            source,
            f"subject ID {subject!r} is unsafe as a path component "
            "(allowed: letters, digits, '.', '_', '-'; no '..', no '/')",
        )
    return subject
