"""GWAS summary statistics: allele harmonisation to a .bim (reading: ``gwas_formats``).

After harmonisation every kept SNP carries the .bim's ID, position and alleles, and BETA is
the effect of one more copy of the .bim's A1 allele. Each input row gets exactly one outcome,
decided in this order:

0. the reading outcomes (``dropped_missing_value``, ``dropped_not_additive_test``,
   ``dropped_low_info``, ``dropped_low_maf``, see ``gwas_formats``; ``dropped_not_lifted``,
   see ``genome_build``);
1. ``dropped_duplicate``: same match key and allele pair as an earlier row (first one kept);
2. ``dropped_multiallelic``: the key has several allele pairs in the GWAS, or (chrpos) several
   .bim variants, or an allele lists several alternatives (``A,C``);
3. ``dropped_not_in_bim``: the key is not in the .bim;
4. A/T or C/G SNP, when ``drop_ambiguous``: ``kept_ambiguous_same_strand`` /
   ``kept_ambiguous_other_strand`` when the GWAS effect-allele frequency (EAF) and the
   cohort's frequency of that allele both lie outside ``ambiguous_band`` (default 0.4-0.6)
   and so tell the strand (same side of 0.5: same strand; opposite sides: other strand, sign
   flipped); otherwise ``dropped_ambiguous`` (strand cannot be told);
5. ``kept_same`` / ``kept_swapped`` (sign flipped) / ``kept_strand_flipped`` /
   ``kept_strand_flipped_swapped`` (sign flipped), tried in that order;
6. ``dropped_allele_mismatch``: alleles match neither way on either strand.

The work is done on integer codes (alleles and chromosomes coded through their few distinct
values, chr:pos packed into one int64, joins by sorted search), so 10 million GWAS rows
harmonise in seconds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

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
    "kept_ambiguous_same_strand",
    "kept_ambiguous_other_strand",
    "dropped_missing_value",
    "dropped_not_additive_test",
    "dropped_low_info",
    "dropped_low_maf",
    "dropped_not_lifted",
]
_CODE = {name: np.int8(i) for i, name in enumerate(OUTCOMES)}
UNDECIDED = np.int8(-1)
SWAPPED = {"kept_swapped", "kept_strand_flipped_swapped"}
HARMONISED_COLUMNS = ["SNP", "CHR", "BP", "A1", "A2", "BETA", "SE", "P"]
_COMPLEMENT = str.maketrans("ACGT", "TGCA")
_CHROM_ALIASES = {"X": "23", "Y": "24", "XY": "25", "M": "26", "MT": "26"}


def normalise_chrom(chrom: pd.Series) -> pd.Series:
    """PLINK-style chromosome codes: drop a 'chr' prefix, X=23, Y=24, XY=25, MT=26, no 0s."""
    c = chrom.astype(str).str.strip().str.upper().str.replace(r"^CHR", "", regex=True)
    c = c.replace(_CHROM_ALIASES)
    return c.str.replace(r"^0+(?=\d)", "", regex=True)


def complement(alleles: pd.Series) -> pd.Series:
    """Allele on the other strand (A<->T, C<->G); non-ACGT alleles map to themselves."""
    return alleles.str.translate(_COMPLEMENT)


class _Alleles:
    """Integer codes for allele strings (upper-cased), with complement and flags per code."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}

    def codes(self, values: pd.Series) -> np.ndarray:
        cat = values.astype("category")
        lut = np.array(
            [self.vocab.setdefault(str(c).strip().upper(), len(self.vocab)) for c in
             cat.cat.categories] + [-1],
            dtype=np.int64,
        )  # fmt: skip
        return lut[cat.cat.codes.to_numpy()]  # code -1 (missing) picks the trailing -1

    def tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """complement code, single-base flag and multi-allelic flag per code."""
        for allele in list(self.vocab):
            self.vocab.setdefault(allele.translate(_COMPLEMENT), len(self.vocab))
        names = sorted(self.vocab, key=self.vocab.get)
        comp = np.array([self.vocab[a.translate(_COMPLEMENT)] for a in names], dtype=np.int64)
        single = np.array([len(a) == 1 for a in names])
        multi = np.array(["," in a for a in names])
        return comp, single, multi


def _chrom_codes(gwas_chr: pd.Series, bim_chr: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Chromosomes (normalised: chr prefix, X=23 ...) as shared small integers."""
    vocab: dict[str, int] = {}
    out = []
    for values in (gwas_chr, bim_chr):
        cat = values.astype("category")
        names = normalise_chrom(pd.Series(cat.cat.categories.astype(str)))
        lut = np.array([vocab.setdefault(n, len(vocab)) for n in names] + [-1], dtype=np.int64)
        out.append(lut[cat.cat.codes.to_numpy()])
    return out[0], out[1]


def match_keys(gwas: pd.DataFrame, bim: pd.DataFrame, match_by: str):
    """int64 match keys of the GWAS rows and of the .bim rows (chr:pos packed, or rsID)."""
    if match_by == "chrpos":
        gchr, bchr = _chrom_codes(gwas["CHR"], bim["CHR"])
        gkey = (gchr << 32) | gwas["BP"].to_numpy(np.int64)
        bkey = (bchr << 32) | bim["BP"].to_numpy(np.int64)
        gkey[gchr < 0] = -1
        return gkey, bkey
    codes, _ = pd.factorize(
        np.concatenate([gwas["SNP"].to_numpy(object), bim["ID"].to_numpy(object)])
    )
    return codes[: len(gwas)].astype(np.int64), codes[len(gwas) :].astype(np.int64)


def _key_codes(gkey: np.ndarray, bkey: np.ndarray):
    """One hash pass over both files' keys: per GWAS row its key code (shared with the
    .bim), the number of .bim rows with that key and that row (when exactly one)."""
    codes, uniques = pd.factorize(np.concatenate([gkey, bkey]))
    gcode, bcode = codes[: len(gkey)], codes[len(gkey) :]
    counts = np.bincount(bcode, minlength=len(uniques))
    first = np.full(len(uniques), -1, dtype=np.int64)
    first[bcode[::-1]] = np.arange(len(bkey))[::-1]  # last write wins: the first row
    count = counts[gcode]
    return gcode, count, np.where(count == 1, first[gcode], -1)


def _duplicated(kcode: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_alleles: int) -> np.ndarray:
    """Rows repeating an earlier row's key and (unordered) allele pair."""
    if len(kcode) and int(kcode.max()) < (2**62) // max(n_alleles, 1) ** 2:
        packed = (kcode * n_alleles + lo) * n_alleles + hi  # one int64 per row: one hash pass
        return pd.Series(packed).duplicated().to_numpy()
    return pd.DataFrame({"k": kcode, "lo": lo, "hi": hi}).duplicated().to_numpy()


def _resolve_ambiguous(idx, g1, b1, eaf, a1_freq, band):
    """For ambiguous rows ``idx`` matched by letters: +1/-1 strand (0: unresolved)."""
    lo, hi = band
    f_a1 = a1_freq
    fc = np.where(g1 == b1, f_a1, 1.0 - f_a1)  # cohort frequency of the GWAS effect allele
    fg = eaf
    outside = ~((fg > lo) & (fg < hi)) & ~((fc > lo) & (fc < hi))
    known = np.isfinite(fg) & np.isfinite(fc) & outside & (fg != 0.5) & (fc != 0.5)
    same = (fg > 0.5) == (fc > 0.5)
    return np.where(known, np.where(same, 1, -1), 0)


def harmonise(
    gwas: pd.DataFrame,
    bim: pd.DataFrame,
    *,
    match_by: str = "chrpos",
    drop_ambiguous: bool = True,
    a1_freq: Callable[[np.ndarray], np.ndarray] | None = None,
    ambiguous_band: tuple[float, float] = (0.4, 0.6),
) -> tuple[pd.DataFrame, pd.Series]:
    """Align summary statistics to the .bim alleles.

    ``a1_freq(rows)`` gives the cohort frequency of the .bim A1 allele of the given .bim
    rows (used, with the GWAS EAF, to keep strand-ambiguous SNPs; None: never kept).
    Returns the harmonised table (HARMONISED_COLUMNS, .bim order) and one outcome per
    GWAS row (index aligned with ``gwas``).
    """
    n = len(gwas)  # rows are used by position: no index is read
    outcome = np.full(n, UNDECIDED, dtype=np.int8)
    if "OUTCOME" in gwas:
        pre = gwas["OUTCOME"].astype(object).to_numpy()
        for name in set(pre) - {"", None}:
            outcome[pre == name] = _CODE[name]
    alleles = _Alleles()
    g1, g2 = alleles.codes(gwas["A1"]), alleles.codes(gwas["A2"])
    b1, b2 = alleles.codes(bim["A1"]), alleles.codes(bim["A2"])
    comp, single, multi_allele = alleles.tables()
    gkey, bkey = match_keys(gwas, bim, match_by)
    outcome[(outcome == UNDECIDED) & ((g1 < 0) | (g2 < 0) | (gkey < 0))] = _CODE[
        "dropped_missing_value"
    ]

    live = outcome == UNDECIDED
    kcode, count, row = _key_codes(gkey, bkey)
    lo, hi = np.minimum(g1, g2), np.maximum(g1, g2)
    dup = np.zeros(n, dtype=bool)
    dup[live] = _duplicated(kcode[live], lo[live], hi[live], len(comp))
    outcome[dup] = _CODE["dropped_duplicate"]
    live = outcome == UNDECIDED
    pairs = np.bincount(kcode[live], minlength=int(kcode.max()) + 1 if n else 0)
    multi = pairs[kcode] > 1  # the key has several allele pairs in the GWAS
    multi |= (count > 1) | multi_allele[g1] | multi_allele[g2]
    outcome[live & multi] = _CODE["dropped_multiallelic"]
    live = outcome == UNDECIDED
    outcome[live & (count == 0)] = _CODE["dropped_not_in_bim"]
    live = outcome == UNDECIDED

    sign = np.zeros(n, dtype=np.int8)
    r = np.where(live, row, 0)
    m1, m2 = b1[r], b2[r]
    if drop_ambiguous:
        ambiguous = live & (comp[g1] == g2) & single[g1]
        idx = np.flatnonzero(ambiguous & (((g1 == m1) & (g2 == m2)) | ((g1 == m2) & (g2 == m1))))
        if a1_freq is not None and "EAF" in gwas and len(idx):
            strand = _resolve_ambiguous(
                idx,
                g1[idx],
                m1[idx],
                gwas["EAF"].to_numpy(float)[idx],
                a1_freq(row[idx]),
                ambiguous_band,
            )
            letters = np.where(g1[idx] == m1[idx], 1, -1)
            for value, name in (
                (1, "kept_ambiguous_same_strand"),
                (-1, "kept_ambiguous_other_strand"),
            ):
                hit = idx[strand == value]
                outcome[hit] = _CODE[name]
                sign[hit] = letters[strand == value] * value
        outcome[ambiguous & (outcome == UNDECIDED)] = _CODE["dropped_ambiguous"]
        live = outcome == UNDECIDED

    c1, c2 = comp[g1], comp[g2]
    checks = [
        ("kept_same", (g1 == m1) & (g2 == m2)),
        ("kept_swapped", (g1 == m2) & (g2 == m1)),
        ("kept_strand_flipped", (c1 == m1) & (c2 == m2)),
        ("kept_strand_flipped_swapped", (c1 == m2) & (c2 == m1)),
    ]
    for name, hit in checks:
        hit = hit & (outcome == UNDECIDED) & live
        outcome[hit] = _CODE[name]
        sign[hit] = -1 if name in SWAPPED else 1
    outcome[outcome == UNDECIDED] = _CODE["dropped_allele_mismatch"]

    kept = sign != 0
    krow = row[kept]
    order = np.argsort(krow, kind="stable")
    krow = krow[order]
    table = pd.DataFrame(
        {
            "SNP": bim["ID"].to_numpy()[krow],
            "CHR": bim["CHR"].to_numpy()[krow],
            "BP": bim["BP"].to_numpy()[krow],
            "A1": bim["A1"].to_numpy()[krow],
            "A2": bim["A2"].to_numpy()[krow],
            "BETA": (gwas["BETA"].to_numpy(float)[kept] * sign[kept])[order],
            "SE": gwas["SE"].to_numpy(float)[kept][order],
            "P": gwas["P"].to_numpy(float)[kept][order],
        }
    )
    return table, pd.Series(pd.Categorical.from_codes(outcome, categories=OUTCOMES))


def outcome_summary(outcome: pd.Series) -> pd.DataFrame:
    """Count of input rows per harmonisation outcome (all outcomes listed, zeros included)."""
    counts = outcome.value_counts()
    return pd.DataFrame({"outcome": OUTCOMES, "n": [int(counts.get(o, 0)) for o in OUTCOMES]})
