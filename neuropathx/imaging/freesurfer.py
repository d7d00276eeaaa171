"""Parse FreeSurfer ``.stats`` files: ``?h.<parc>.stats`` (cortical parcels) and ``aseg.stats``.

Both are written by FreeSurfer as a block of ``#`` header lines and a whitespace-separated
table. Columns are located by name from the ``# ColHeaders`` line, never by position.
Header lines handled across FreeSurfer versions:

- ``# Measure <structure>, <name>, <description>, <value>, <units>``: whole-surface or
  whole-brain values, keyed here by ``<name>`` (``NumVert``, ``WhiteSurfArea``,
  ``MeanThickness``, ``BrainSegVol``, ``eTIV`` ...), because the structure field is not
  unique (three ``Cortex`` measures in every aparc file).
- FreeSurfer 5.x aparc files carry only the three ``Cortex`` measures; 6.0 and later add
  ``BrainSeg...`` and ``EstimatedTotalIntraCranialVol, eTIV``. FreeSurfer 5.1 aseg files name
  intracranial volume ``IntraCranialVol, ICV`` (see :func:`intracranial_volume`).
- FreeSurfer 6.0 (and 7.1, by reports) writes one aparc measure line without the comma
  after the name: ``# Measure Cortex, CortexVol Total cortical gray matter volume, 553998.3,
  mm^3`` (four fields); the name is then the first word of the second field. FreeSurfer 7.0
  and later 7.x releases write the comma. FreeSurfer 7.x adds free lines such as
  ``# BrainVolStatsFixed-NotNeeded because voxelvolume=1mm3`` and aseg's ``# NRows``.
- ``# NTableCols`` / ``# TableCol`` blocks (5.x and later): the column count is checked
  against ``# ColHeaders`` when present.
- Byte-level: a UTF-8 byte-order mark and CRLF line ends (files copied through Windows) are
  accepted. FreeSurfer ends every file with a newline and prints each column with a fixed
  number of decimals, so a file without a final newline whose last value has fewer decimals
  than the row before is truncated (an interrupted copy) and rejected, never half-read.
- FreeSurfer 4/5.0-era aparc files list non-cortical rows (``unknown``,
  ``corpuscallosum``); they are kept here and dropped, with a count, by the regional table.

Plain string handling (no pandas): thousands of files are parsed per cohort.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from neuropathx.errors import InputError

#: The numeric columns of ``?h.<parc>.stats`` (besides ``StructName``), FreeSurfer 5.1-7.x.
PARC_MEASURES = (
    "NumVert",
    "SurfArea",
    "GrayVol",
    "ThickAvg",
    "ThickStd",
    "MeanCurv",
    "GausCurv",
    "FoldInd",
    "CurvInd",
)
#: ``# Measure`` names of intracranial volume, newest first (FS >= 5.3 and FS 5.1 naming).
ICV_NAMES = ("eTIV", "ICV")
_NAME_COLUMN = "StructName"


@dataclass(frozen=True)
class StatsTable:
    """One parsed ``.stats`` file.

    Attributes
    ----------
    path : the file read.
    header : ``# key value`` lines of interest (``hemi``, ``subjectname``, ``cvs_version`` ...).
    measures : ``# Measure`` values keyed by their short name, in file order.
    columns : numeric column names from ``# ColHeaders`` (``StructName`` removed), file order.
    names : ``StructName`` of each row, file order.
    rows : one list of floats per row, aligned with ``columns``.
    """

    path: Path
    header: dict[str, str]
    measures: dict[str, float]
    columns: tuple[str, ...]
    names: tuple[str, ...]
    rows: list[list[float]] = field(repr=False)

    def column(self, name: str) -> list[float]:
        """Values of one column, in row order; InputError if the file lacks it."""
        try:
            j = self.columns.index(name)
        except ValueError:
            raise InputError(
                self.path, f"no column {name!r} in '# ColHeaders' (found {list(self.columns)})"
            ) from None
        return [row[j] for row in self.rows]

    def as_dict(self, name: str) -> dict[str, float]:
        """``{StructName: value}`` of one column."""
        return dict(zip(self.names, self.column(name), strict=True))


_HEADER_KEYS = (
    "hemi",
    "subjectname",
    "cvs_version",
    "generating_program",
    "AnnotationFile",
    "CreationTime",
)


_MEASURE_LAYOUT = "'# Measure <structure>, <name>, <description>, <value>, <units>'"


def _parse_measure(path: Path, lineno: int, line: str) -> tuple[str, float]:
    # "# Measure Cortex, MeanThickness, Mean Thickness, 2.38119, mm"
    fields = [f.strip() for f in line[len("# Measure ") :].split(",")]
    if len(fields) == 4 and fields[1] and _is_float(fields[2]) and not _is_float(fields[3]):
        # FreeSurfer 6.0: "# Measure Cortex, CortexVol Total cortical gray matter volume, v, mm^3"
        fields = [fields[0], fields[1].split()[0], fields[1], fields[2], fields[3]]
    if len(fields) < 4 or not fields[1]:
        raise InputError(
            path,
            f"line {lineno}: malformed '# Measure' line {line.strip()!r}; expected "
            f"{_MEASURE_LAYOUT}",
        )
    try:
        value = float(fields[3])
    except ValueError:
        raise InputError(
            path,
            f"line {lineno}: non-numeric value {fields[3]!r} in '# Measure {fields[1]}'; "
            f"expected {_MEASURE_LAYOUT}",
        ) from None
    return fields[1], value


def _parse_row(
    path: Path, lineno: int, line: str, headers: list[str], name_at: int
) -> tuple[str, list[float]]:
    parts = line.split()
    if len(parts) != len(headers):
        raise InputError(
            path,
            f"line {lineno}: expected {len(headers)} columns ({' '.join(headers)}), "
            f"found {len(parts)}: {line.strip()!r} (truncated or malformed row)",
        )
    name = parts.pop(name_at)
    try:
        return name, [float(p) for p in parts]
    except ValueError:
        numeric = headers[:name_at] + headers[name_at + 1 :]
        bad = next((c, p) for c, p in zip(numeric, parts, strict=True) if not _is_float(p))
        raise InputError(
            path,
            f"line {lineno}, region {name!r}: non-numeric {bad[0]} value {bad[1]!r} "
            "(expected a number)",
        ) from None


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _decimals(field: str) -> int:
    """Digits after the decimal point (-1 without one): FreeSurfer's fixed print format."""
    at = field.find(".")
    return -1 if at < 0 else len(field) - at - 1


def _check_complete_last_row(path: Path, lines: list[str], lineno: int) -> None:
    """A file without a final newline may have been cut inside its last value: accept it only
    when the last value has the decimals of the same column one row up."""
    last = lines[lineno - 1].split()
    before = [ln.split() for ln in lines[: lineno - 1] if ln.strip() and not ln.startswith("#")]
    if before and len(before[-1]) == len(last) and _decimals(before[-1][-1]) >= 0:
        if _decimals(before[-1][-1]) == _decimals(last[-1]):
            return
    raise InputError(
        path,
        f"line {lineno}: the file ends without a newline and its last value {last[-1]!r} "
        + (
            f"has a different number of decimals than the row above ({before[-1][-1]!r}): "
            if before and len(before[-1]) == len(last)
            else "cannot be checked against the row above: "
        )
        + "truncated file (interrupted copy?). Copy the file again from the FreeSurfer "
        "output; if it is complete, add a final newline",
    )


def _check_headers(path: Path, lineno: int, headers: list[str], n_table_cols: int | None) -> None:
    if _NAME_COLUMN not in headers:
        raise InputError(path, f"line {lineno}: '# ColHeaders' lacks {_NAME_COLUMN}: {headers}")
    if len(set(headers)) != len(headers):
        raise InputError(path, f"line {lineno}: repeated column name in {headers}")
    if n_table_cols is not None and n_table_cols != len(headers):
        raise InputError(
            path,
            f"line {lineno}: '# NTableCols {n_table_cols}' but '# ColHeaders' names "
            f"{len(headers)} columns",
        )


def parse_stats_table(path: str | Path, text: str | None = None) -> StatsTable:
    """Parse any FreeSurfer ``.stats`` table (aparc-style or aseg-style).

    Raises InputError naming the file and line for: missing file, no ``# ColHeaders`` line,
    no ``StructName`` column, column count disagreeing with ``# NTableCols``, a data row
    before the header, a row with the wrong number of fields, a non-numeric value, a
    duplicated structure name, and a table without rows.
    """
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError(path, "stats file not found") from None
        except UnicodeDecodeError:
            raise InputError(path, "not a text file (cannot decode as UTF-8)") from None
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    header: dict[str, str] = {}
    measures: dict[str, float] = {}
    headers: list[str] | None = None
    n_table_cols: int | None = None
    lineno = 0
    # Header block: dispatch on the first letters after "# " (~70 lines in FreeSurfer 7).
    for lineno, line in enumerate(lines, start=1):
        if not line or line[0] != "#":
            if line and not line.isspace():
                raise InputError(
                    path, f"line {lineno}: data row before any '# ColHeaders' line: {line!r}"
                )
            continue
        tag = line[2:6]
        if tag == "Tabl":
            continue
        if tag == "Meas" and line.startswith("# Measure "):
            key, value = _parse_measure(path, lineno, line)
            measures[key] = value
        elif tag == "ColH" and line.startswith("# ColHeaders"):
            headers = line.split()[2:]
            _check_headers(path, lineno, headers, n_table_cols)
            break
        elif tag == "NTab" and line.startswith("# NTableCols"):
            try:
                n_table_cols = int(line.split()[2])
            except (IndexError, ValueError):
                raise InputError(path, f"line {lineno}: malformed {line.strip()!r}") from None
        else:
            parts = line.split(maxsplit=2)
            if len(parts) == 3 and parts[1] in _HEADER_KEYS:
                header[parts[1]] = parts[2].strip()
    if headers is None:
        raise InputError(path, "no '# ColHeaders' line: not a FreeSurfer stats table")
    name_at = headers.index(_NAME_COLUMN)
    ncols = len(headers)
    names: list[str] = []
    rows: list[list[float]] = []
    first_seen: dict[str, int] = {}
    for k in range(lineno, len(lines)):
        line = lines[k]
        parts = line.split()
        if not parts or parts[0][0] == "#":
            continue
        if len(parts) != ncols:
            _parse_row(path, k + 1, line, headers, name_at)  # raises with the details
        name = parts.pop(name_at)
        try:
            values = list(map(float, parts))
        except ValueError:
            _parse_row(path, k + 1, line, headers, name_at)
            raise
        if name in first_seen:
            raise InputError(
                path, f"line {k + 1}: duplicate region {name!r} (first on line {first_seen[name]})"
            )
        first_seen[name] = k + 1
        names.append(name)
        rows.append(values)
    if not rows:
        raise InputError(path, "no table rows after '# ColHeaders' (empty or truncated file)")
    if not text.endswith(("\n", "\r")):
        _check_complete_last_row(path, lines, first_seen[names[-1]])
    columns = tuple(headers[:name_at] + headers[name_at + 1 :])
    return StatsTable(path, header, measures, columns, tuple(names), rows)


def parse_parc_stats(path: str | Path, hemi: str | None = None) -> StatsTable:
    """Parse one ``?h.<parc>.stats`` file (aparc, aparc.a2009s, aparc.DKTatlas, BN_Atlas ...).

    ``hemi`` (``lh``/``rh``), when given, is checked against the file's ``# hemi`` line.
    """
    table = parse_stats_table(path)
    missing = [c for c in ("SurfArea", "GrayVol", "ThickAvg") if c not in table.columns]
    if missing:
        raise InputError(
            table.path,
            f"not a cortical parcellation table: '# ColHeaders' lacks {missing} "
            f"(found {list(table.columns)})",
        )
    found = table.header.get("hemi")
    if hemi is not None and found is not None and found != hemi:
        raise InputError(table.path, f"'# hemi {found}' but the file is named for {hemi}")
    return table


def parse_aseg_stats(path: str | Path) -> StatsTable:
    """Parse ``aseg.stats``: subcortical volumes (``Volume_mm3`` per StructName) and measures."""
    table = parse_stats_table(path)
    if "Volume_mm3" not in table.columns:
        raise InputError(
            table.path, f"not an aseg table: no Volume_mm3 column (found {list(table.columns)})"
        )
    return table


def intracranial_volume(measures: dict[str, float]) -> float:
    """eTIV from ``# Measure`` values (``eTIV``, or FreeSurfer 5.1's ``ICV``); NaN if absent."""
    for name in ICV_NAMES:
        if name in measures:
            return measures[name]
    return math.nan
