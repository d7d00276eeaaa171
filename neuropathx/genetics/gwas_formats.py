"""Reading GWAS summary statistics in the layouts real tools write.

Presets (``format``) name each tool's own columns; ``custom`` takes an explicit column map.

- ``plink2_glm``: plink2 ``--glm`` ``.glm.linear`` / ``.glm.logistic(.hybrid)``: tab-separated,
  header ``#CHROM POS ID REF ALT [PROVISIONAL_REF?] A1 [OMITTED] [A1_FREQ] [MACH_R2] [FIRTH?]
  TEST OBS_CT BETA|OR SE|LOG(OR)_SE ... P ERRCODE``; the effect allele is A1 and the other
  allele is whichever of REF/ALT is not A1; ``NA`` marks failed tests; only ``TEST == ADD``
  rows are used (covariate rows appear without ``hide-covar``).
- ``regenie``: step-2 ``.regenie``: space-separated ``CHROM GENPOS ID ALLELE0 ALLELE1 A1FREQ
  [INFO] N TEST BETA SE CHISQ LOG10P EXTRA``; effect allele ALLELE1, P = 10^-LOG10P.
- ``saige``: step-2 output ``CHR POS MarkerID Allele1 Allele2 AC_Allele2 AF_Allele2
  [imputationInfo] MissingRate BETA SE Tstat var p.value ...``; the effect allele is Allele2.
- ``gwas_ssf``: GWAS Catalog GWAS-SSF TSV ``chromosome base_pair_location effect_allele
  other_allele beta|odds_ratio standard_error effect_allele_frequency p_value|
  neg_log_10_p_value [variant_id] [rsid] [info] [n]``, missing values ``#NA``.

Every input row is kept in the returned table, in file order; rows that cannot be used get
a reading outcome in ``OUTCOME`` (``dropped_missing_value``: a missing or non-numeric
required value; ``dropped_not_additive_test``; ``dropped_low_info``; ``dropped_low_maf``);
the others have ``OUTCOME`` empty and are harmonised.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from neuropathx.errors import InputError

DEFAULT_COLUMNS = {
    "snp": "SNP",
    "chr": "CHR",
    "bp": "BP",
    "a1": "A1",
    "a2": "A2",
    "effect": "BETA",
    "se": "SE",
    "p": "P",
    "n": "N",
}
NA_VALUES = ["NA", "na", "NaN", "nan", ".", "#NA", "", "-nan", "inf", "-inf"]
FIELDS = ["snp", "chr", "bp", "a1", "a2", "ref", "alt", "effect", "se", "p", "log10p"]
FIELDS += ["n", "eaf", "info", "test"]
# preset -> field -> candidate column names (first present wins); "effect" candidates
# ending in OR / odds_ratio are odds ratios
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "plink2_glm": {
        "chr": ("#CHROM",),
        "bp": ("POS",),
        "snp": ("ID",),
        "a1": ("A1",),
        "ref": ("REF",),
        "alt": ("ALT",),
        "effect": ("BETA", "OR"),
        "se": ("SE", "LOG(OR)_SE"),
        "p": ("P",),
        "log10p": ("LOG10_P",),
        "n": ("OBS_CT",),
        "eaf": ("A1_FREQ",),
        "info": ("MACH_R2",),
        "test": ("TEST",),
    },
    "regenie": {
        "chr": ("CHROM",),
        "bp": ("GENPOS",),
        "snp": ("ID",),
        "a1": ("ALLELE1",),
        "a2": ("ALLELE0",),
        "effect": ("BETA",),
        "se": ("SE",),
        "log10p": ("LOG10P",),
        "n": ("N",),
        "eaf": ("A1FREQ",),
        "info": ("INFO",),
        "test": ("TEST",),
    },
    "saige": {
        "chr": ("CHR",),
        "bp": ("POS",),
        "snp": ("MarkerID", "SNPID"),
        "a1": ("Allele2",),
        "a2": ("Allele1",),
        "effect": ("BETA",),
        "se": ("SE",),
        "p": ("p.value",),
        "n": ("N",),
        "eaf": ("AF_Allele2",),
        "info": ("imputationInfo",),
    },
    "gwas_ssf": {
        "chr": ("chromosome",),
        "bp": ("base_pair_location",),
        "snp": ("rsid", "variant_id"),
        "a1": ("effect_allele",),
        "a2": ("other_allele",),
        "effect": ("beta", "odds_ratio"),
        "se": ("standard_error",),
        "p": ("p_value",),
        "log10p": ("neg_log_10_p_value",),
        "n": ("n",),
        "eaf": ("effect_allele_frequency",),
        "info": ("info",),
    },
}
FORMATS = [*PRESETS, "custom"]
ODDS_RATIO_COLUMNS = {"OR", "odds_ratio"}
READ_OUTCOMES = [
    "dropped_missing_value",
    "dropped_not_additive_test",
    "dropped_low_info",
    "dropped_low_maf",
    "dropped_not_lifted",
]


def _header(path: Path) -> tuple[list[str], str]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as fh:
            line = fh.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read the header line: {exc}") from exc
    if not line:
        raise InputError(path, "file is empty: no header line")
    if "\t" in line:
        return line.split("\t"), "\t"
    return line.split(), (" " if "  " not in line.strip() else r"\s+")


def resolve_columns(
    path: Path, header: list[str], fmt: str, columns: dict[str, str] | None
) -> dict[str, str]:
    """Field -> column name of this file (fields whose column is absent are left out)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    present = set(header)
    if fmt == "custom":
        names = {**DEFAULT_COLUMNS, **(columns or {})}
        return {k: v for k, v in names.items() if v and v in present}
    found = {}
    for field, names in PRESETS[fmt].items():
        hit = [n for n in names if n in present]
        if hit:
            found[field] = hit[0]
    return found


def _require(path: Path, cols: dict, fields: list[str], fmt: str, header: list[str]) -> None:
    missing = [f for f in fields if f not in cols]
    if missing:
        hint = (
            "set pathway_scores.columns to this file's column names"
            if fmt == "custom"
            else f"is this a {fmt} file? set pathway_scores.format to match the file"
        )
        raise InputError(
            path,
            f"no column for {', '.join(missing)} (format {fmt}); header has {header[:16]}; {hint}",
        )


def _read_columns(
    path: Path, sep: str, header: list[str], names: list[str], numeric: list[str], ids: str | None
) -> pd.DataFrame:
    """Read the named columns: numbers as float, IDs as Arrow strings, other text
    (chromosomes, alleles, tests: few distinct values) as categories.

    pyarrow's multithreaded CSV reader for tab- or single-space-separated files (what the
    tools write); pandas' C parser for other whitespace. A non-numeric value in a numeric
    column becomes NaN there (and its row is counted as dropped_missing_value)."""
    if sep == r"\s+":
        return _read_columns_pandas(path, sep, names, numeric, ids)
    text = [c for c in names if c not in numeric]
    types = {c: pa.float64() for c in numeric}
    types |= {c: pa.dictionary(pa.int32(), pa.string()) for c in text if c != ids}
    if ids is not None:
        types[ids] = pa.string()
    parse = pacsv.ParseOptions(delimiter=sep)
    while True:
        convert = pacsv.ConvertOptions(
            include_columns=names,
            column_types=types,
            null_values=NA_VALUES,
            strings_can_be_null=True,
        )
        try:
            table = pacsv.read_csv(path, parse_options=parse, convert_options=convert)
            break
        except pa.ArrowInvalid as exc:
            found = re.search(r"column #(\d+)", str(exc))
            bad = header[int(found.group(1))] if found else None
            if bad not in numeric or not pa.types.is_floating(types[bad]):
                raise InputError(path, f"cannot parse the file: {exc}") from exc
            types[bad] = pa.string()  # read as text, coerce below
    frame = table.to_pandas(types_mapper={pa.string(): pd.ArrowDtype(pa.string())}.get)
    for c in numeric:
        if not pd.api.types.is_float_dtype(frame[c]):
            frame[c] = pd.to_numeric(frame[c].astype(object), errors="coerce")
    return frame


def _read_columns_pandas(path, sep, names, numeric, ids) -> pd.DataFrame:
    dtypes = {c: ("float64" if c in numeric else "category") for c in names}
    if ids is not None:
        dtypes[ids] = str
    kwargs = dict(sep=sep, usecols=names, na_values=NA_VALUES, keep_default_na=False)
    try:
        return pd.read_csv(path, dtype=dtypes, **kwargs)
    except ValueError:  # a non-numeric value in a numeric column: coerce, count it later
        table = pd.read_csv(path, dtype={**dtypes, **{c: str for c in numeric}}, **kwargs)
        for c in numeric:
            table[c] = pd.to_numeric(table[c].astype(object), errors="coerce")
        return table


def _shared_categories(*series: pd.Series) -> list[pd.Series]:
    """The same categorical series, recoded onto one shared category list."""
    union = pd.Index(sorted(set().union(*(s.cat.categories for s in series))))
    return [s.cat.set_categories(union) for s in series]


def _upper(values: pd.Series) -> pd.Series:
    """Upper-case, stripped text categories (work on the few categories, not every row)."""
    cat = values.astype("category")
    names = np.array([str(c).strip().upper() for c in cat.cat.categories], dtype=object)
    uniq, inverse = np.unique(names, return_inverse=True)
    codes = cat.cat.codes.to_numpy()
    codes = np.where(codes >= 0, np.append(inverse, -1)[codes], -1)
    return pd.Series(pd.Categorical.from_codes(codes, categories=uniq), index=values.index)


def read_sumstats(
    path: str | Path,
    columns: dict[str, str] | None = None,
    *,
    fmt: str = "custom",
    effect_type: str = "beta",
    match_by: str = "chrpos",
    min_info: float = 0.0,
    min_maf: float = 0.0,
) -> pd.DataFrame:
    """Read a GWAS file into SNP CHR BP A1 A2 BETA SE P (+ EAF, INFO) and OUTCOME.

    ``columns`` (format ``custom``) maps snp/chr/bp/a1/a2/effect/se/p/n (and optional
    ref/alt/eaf/info) to the file's names; with a preset the file's own names are used and
    odds ratios are recognised by their column name. OR are converted to log(OR).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    if effect_type not in ("beta", "or"):
        raise ValueError(f"effect_type must be 'beta' or 'or', got {effect_type!r}")
    if match_by not in ("chrpos", "rsid"):
        raise ValueError(f"match_by must be 'chrpos' or 'rsid', got {match_by!r}")
    header, sep = _header(path)
    cols = resolve_columns(path, header, fmt, columns)
    needed = ["a1", "effect", "se"] + (["chr", "bp"] if match_by == "chrpos" else ["snp"])
    needed += [] if "a2" in cols else ["ref", "alt"]
    needed += [] if "log10p" in cols else ["p"]
    if "a2" in cols:
        needed = [f for f in needed if f not in ("ref", "alt")]
    if "p" in cols:
        cols.pop("log10p", None)
    _require(path, cols, needed, fmt, header)
    for field, threshold in (("info", min_info), ("eaf", min_maf)):
        if threshold > 0 and field not in cols:
            setting = "min_info" if field == "info" else "min_maf"
            raise InputError(
                path, f"pathway_scores.{setting} is {threshold} but the file has no {field} column"
            )
    if fmt != "custom":
        effect_type = "or" if cols["effect"] in ODDS_RATIO_COLUMNS else "beta"
    numeric = ("bp", "effect", "se", "p", "log10p", "n", "eaf", "info")
    numeric = [cols[f] for f in numeric if f in cols]
    names = list(dict.fromkeys(cols.values()))
    table = _read_columns(path, sep, header, names, numeric, cols.get("snp"))
    if table.empty:
        raise InputError(path, "no rows of summary statistics")
    return _standardise(path, table, cols, effect_type, match_by, min_info, min_maf)


def _standardise(path, table, cols, effect_type, match_by, min_info, min_maf) -> pd.DataFrame:
    n = len(table)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    a1 = _upper(table[cols["a1"]])
    if "a2" in cols:
        a2 = _upper(table[cols["a2"]])
    else:  # plink2: the other allele is whichever of REF/ALT is not A1
        a1, ref, alt = _shared_categories(
            a1, _upper(table[cols["ref"]]), _upper(table[cols["alt"]])
        )
        codes = [s.cat.codes.to_numpy() for s in (a1, ref, alt)]
        a2_codes = np.where(codes[0] == codes[1], codes[2], codes[1])
        a2 = pd.Series(pd.Categorical.from_codes(a2_codes, categories=a1.cat.categories))
    out["SNP"] = table[cols["snp"]] if "snp" in cols else pd.Series(pd.NA, index=out.index)
    out["A1"], out["A2"] = a1, a2
    missing = a1.isna().to_numpy() | a2.isna().to_numpy()
    if match_by == "rsid":
        missing |= out["SNP"].isna().to_numpy()
    if match_by == "chrpos":
        out["CHR"] = table[cols["chr"]].astype("category")
        bp = table[cols["bp"]].to_numpy(float)
        bad_bp = np.isfinite(bp) & ((bp % 1 != 0) | (bp < 0))
        if bad_bp.any():
            line = int(np.flatnonzero(bad_bp)[0]) + 2
            raise InputError(
                path, f"column {cols['bp']!r} must hold non-negative integers (line {line})"
            )
        missing |= ~np.isfinite(bp) | out["CHR"].isna().to_numpy()
        out["BP"] = np.where(np.isfinite(bp), bp, 0).astype(np.int64)
    effect = table[cols["effect"]].to_numpy(float)
    if effect_type == "or":
        nonpositive = np.isfinite(effect) & (effect <= 0)
        if nonpositive.any():
            line = int(np.flatnonzero(nonpositive)[0]) + 2
            raise InputError(
                path, f"column {cols['effect']!r}: odds ratios must be > 0 (line {line})"
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            effect = np.log(effect)
    if "p" in cols:
        p = table[cols["p"]].to_numpy(float)
    else:
        p = 10.0 ** -table[cols["log10p"]].to_numpy(float)
    outside = np.isfinite(p) & ((p < 0) | (p > 1))
    if outside.any():
        line = int(np.flatnonzero(outside)[0]) + 2
        raise InputError(
            path,
            f"column {cols.get('p', cols.get('log10p'))!r}: {int(outside.sum())} P value(s) "
            f"outside [0, 1], first on line {line} ({p[line - 2]})",
        )
    out["BETA"], out["SE"], out["P"] = effect, table[cols["se"]].to_numpy(float), p
    missing |= ~(np.isfinite(effect) & np.isfinite(out["SE"].to_numpy()) & np.isfinite(p))
    for field, name in (("eaf", "EAF"), ("info", "INFO")):
        if field in cols:
            out[name] = table[cols[field]].to_numpy(float)
    outcome = np.full(n, "", dtype=object)
    outcome[missing] = "dropped_missing_value"
    if "test" in cols:
        additive = (table[cols["test"]].astype(object) == "ADD").to_numpy()
        outcome[(outcome == "") & ~additive] = "dropped_not_additive_test"
    if min_info > 0:  # a filter's value missing: the row cannot be judged, so it is dropped
        info = out["INFO"].to_numpy()
        outcome[(outcome == "") & np.isnan(info)] = "dropped_missing_value"
        outcome[(outcome == "") & (info < min_info)] = "dropped_low_info"
    if min_maf > 0:
        eaf = out["EAF"].to_numpy()
        outcome[(outcome == "") & np.isnan(eaf)] = "dropped_missing_value"
        outcome[(outcome == "") & (np.minimum(eaf, 1 - eaf) < min_maf)] = "dropped_low_maf"
    out["OUTCOME"] = pd.Categorical(outcome, categories=["", *READ_OUTCOMES])
    if (outcome != "").all():
        counts = pd.Series(outcome).value_counts()
        detail = ", ".join(f"{k}={v}" for k, v in counts.items())
        raise InputError(path, f"no usable row of summary statistics ({detail})")
    return out
