"""GWAS summary statistics: reading, validation and allele harmonisation to a .bim.

After harmonisation every kept SNP carries the .bim's ID, position and alleles, and BETA is
the effect of one more copy of the .bim's A1 allele. Each input row gets exactly one outcome,
decided in this order:

1. ``dropped_duplicate``: same match key and allele pair as an earlier row (first one kept);
2. ``dropped_multiallelic``: the key has several allele pairs in the GWAS, or (chrpos) several
   .bim variants, or an allele lists several alternatives (``A,C``);
3. ``dropped_not_in_bim``: the key is not in the .bim;
4. ``dropped_ambiguous``: A/T or C/G SNP, when ``drop_ambiguous`` (strand cannot be told);
5. ``kept_same`` / ``kept_swapped`` (sign flipped) / ``kept_strand_flipped`` /
   ``kept_strand_flipped_swapped`` (sign flipped), tried in that order;
6. ``dropped_allele_mismatch``: alleles match neither way on either strand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.errors import InputError
from neuropathx.io import read_tsv

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
OUTCOMES = [
    "kept_same",
    "kept_swapped",
    "kept_strand_flipped",
    "kept_strand_flipped_swapped",
    "dropped_ambiguous",
    "dropped_allele_mismatch",
    "dropped_multiallelic",
    "dropped_not_in_bim",
    "dropped_duplicate",
]
HARMONISED_COLUMNS = ["SNP", "CHR", "BP", "A1", "A2", "BETA", "SE", "P"]
_COMPLEMENT = str.maketrans("ACGT", "TGCA")
_CHROM_ALIASES = {"X": "23", "Y": "24", "XY": "25", "M": "26", "MT": "26"}


def normalise_chrom(chrom: pd.Series) -> pd.Series:
    """PLINK-style chromosome codes: drop a 'chr' prefix, X=23, Y=24, XY=25, MT=26, no 0s."""
    c = chrom.astype(str).str.strip().str.upper().str.replace(r"^CHR", "", regex=True)
    c = c.replace(_CHROM_ALIASES)
    return c.str.replace(r"^0+(?=\d)", "", regex=True)


def _numeric(df: pd.DataFrame, col: str, path: Path) -> pd.Series:
    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna()
    if bad.any():
        line = int(np.flatnonzero(bad)[0]) + 2  # header is line 1
        raise InputError(
            path,
            f"column {col!r} must be numeric: {int(bad.sum())} non-numeric or empty value(s), "
            f"first on line {line} ({df[col].iloc[line - 2]!r})",
        )
    return values.astype(float)


def read_sumstats(
    path: str | Path,
    columns: dict[str, str] | None = None,
    *,
    effect_type: str = "beta",
    match_by: str = "chrpos",
) -> pd.DataFrame:
    """Read a GWAS TSV into standard columns SNP CHR BP A1 A2 BETA SE P (OR -> log OR).

    ``columns`` maps snp/chr/bp/a1/a2/effect/se/p/n to the file's column names; N is optional,
    CHR and BP are required only for ``match_by='chrpos'``.
    """
    path = Path(path)
    cols = {**DEFAULT_COLUMNS, **(columns or {})}
    if effect_type not in ("beta", "or"):
        raise ValueError(f"effect_type must be 'beta' or 'or', got {effect_type!r}")
    if match_by not in ("chrpos", "rsid"):
        raise ValueError(f"match_by must be 'chrpos' or 'rsid', got {match_by!r}")
    needed = ["snp", "a1", "a2", "effect", "se", "p"]
    if match_by == "chrpos":
        needed += ["chr", "bp"]
    raw = read_tsv(path, required=[cols[k] for k in needed], dtype=str, keep_default_na=False)
    if raw.empty:
        raise InputError(path, "no rows of summary statistics")
    out = pd.DataFrame(
        {
            "SNP": raw[cols["snp"]].str.strip(),
            "A1": raw[cols["a1"]].str.strip().str.upper(),
            "A2": raw[cols["a2"]].str.strip().str.upper(),
        }
    )
    if match_by == "chrpos":
        out["CHR"] = normalise_chrom(raw[cols["chr"]])
        bp = _numeric(raw, cols["bp"], path)
        if (bp % 1 != 0).any() or (bp < 0).any():
            raise InputError(path, f"column {cols['bp']!r} must hold non-negative integers")
        out["BP"] = bp.astype(np.int64)
    effect = _numeric(raw, cols["effect"], path)
    if effect_type == "or":
        if (effect <= 0).any():
            raise InputError(path, f"column {cols['effect']!r}: odds ratios must be > 0")
        effect = np.log(effect)
    out["BETA"] = effect
    out["SE"] = _numeric(raw, cols["se"], path)
    p = _numeric(raw, cols["p"], path)
    outside = (p < 0) | (p > 1)
    if outside.any():
        line = int(np.flatnonzero(outside)[0]) + 2
        raise InputError(
            path,
            f"column {cols['p']!r}: {int(outside.sum())} P value(s) outside [0, 1], "
            f"first on line {line} ({p.iloc[line - 2]})",
        )
    out["P"] = p
    return out


def complement(alleles: pd.Series) -> pd.Series:
    """Allele on the other strand (A<->T, C<->G); non-ACGT alleles map to themselves."""
    return alleles.str.translate(_COMPLEMENT)


def harmonise(
    gwas: pd.DataFrame,
    bim: pd.DataFrame,
    *,
    match_by: str = "chrpos",
    drop_ambiguous: bool = True,
) -> tuple[pd.DataFrame, pd.Series]:
    """Align summary statistics to the .bim alleles.

    Returns the harmonised table (HARMONISED_COLUMNS, .bim order) and one outcome per
    GWAS row (index aligned with ``gwas``).
    """
    gwas = gwas.reset_index(drop=True)
    outcome = pd.Series(pd.NA, index=gwas.index, dtype=object)
    bim = bim.reset_index(drop=True)
    if match_by == "chrpos":
        gkey = gwas["CHR"].astype(str) + ":" + gwas["BP"].astype(str)
        bkey = normalise_chrom(bim["CHR"]) + ":" + bim["BP"].astype(str)
    else:
        gkey, bkey = gwas["SNP"], bim["ID"]
    pair = np.where(
        gwas["A1"] < gwas["A2"], gwas["A1"] + "/" + gwas["A2"], gwas["A2"] + "/" + gwas["A1"]
    )
    pair = pd.Series(pair, index=gwas.index)

    dup = pd.DataFrame({"k": gkey, "p": pair}).duplicated(keep="first")
    outcome[dup] = "dropped_duplicate"
    live = outcome.isna()
    n_pairs = (
        pd.DataFrame({"k": gkey[live], "p": pair[live]}).groupby("k")["p"].transform("nunique")
    )
    bim_counts = bkey.value_counts()
    multi = pd.Series(False, index=gwas.index)
    multi[n_pairs.index] = n_pairs > 1
    multi |= gkey.map(bim_counts).fillna(0) > 1
    multi |= gwas["A1"].str.contains(",") | gwas["A2"].str.contains(",")
    outcome[live & multi] = "dropped_multiallelic"
    live = outcome.isna()

    bim_row = pd.Series(np.arange(len(bim)), index=bkey.to_numpy())
    bim_row = bim_row[~bim_row.index.duplicated(keep=False)]
    row = gkey.map(bim_row)
    outcome[live & row.isna()] = "dropped_not_in_bim"
    live = outcome.isna()

    ambiguous = (complement(gwas["A1"]) == gwas["A2"]) & (gwas["A1"].str.len() == 1)
    if drop_ambiguous:
        outcome[live & ambiguous] = "dropped_ambiguous"
        live = outcome.isna()

    idx = row[live].astype(int).to_numpy()
    b1 = pd.Series(bim["A1"].str.upper().to_numpy()[idx], index=row[live].index)
    b2 = pd.Series(bim["A2"].str.upper().to_numpy()[idx], index=row[live].index)
    g1, g2 = gwas.loc[live, "A1"], gwas.loc[live, "A2"]
    c1, c2 = complement(g1), complement(g2)
    checks = [
        ("kept_same", (g1 == b1) & (g2 == b2)),
        ("kept_swapped", (g1 == b2) & (g2 == b1)),
        ("kept_strand_flipped", (c1 == b1) & (c2 == b2)),
        ("kept_strand_flipped_swapped", (c1 == b2) & (c2 == b1)),
    ]
    for name, hit in checks:
        todo = outcome[hit.index].isna()
        outcome[hit.index[hit & todo]] = name
    outcome[outcome.isna()] = "dropped_allele_mismatch"

    kept = outcome.str.startswith("kept_")
    sign = np.where(outcome[kept].isin(["kept_swapped", "kept_strand_flipped_swapped"]), -1, 1)
    krow = row[kept].astype(int).to_numpy()
    table = pd.DataFrame(
        {
            "SNP": bim["ID"].to_numpy()[krow],
            "CHR": bim["CHR"].to_numpy()[krow],
            "BP": bim["BP"].to_numpy()[krow],
            "A1": bim["A1"].to_numpy()[krow],
            "A2": bim["A2"].to_numpy()[krow],
            "BETA": gwas.loc[kept, "BETA"].to_numpy() * sign,
            "SE": gwas.loc[kept, "SE"].to_numpy(),
            "P": gwas.loc[kept, "P"].to_numpy(),
            "_row": krow,
        }
    )
    table = table.sort_values("_row").drop(columns="_row").reset_index(drop=True)
    return table, outcome


def outcome_summary(outcome: pd.Series) -> pd.DataFrame:
    """Count of input rows per harmonisation outcome (all outcomes listed, zeros included)."""
    counts = outcome.value_counts()
    return pd.DataFrame({"outcome": OUTCOMES, "n": [int(counts.get(o, 0)) for o in OUTCOMES]})
