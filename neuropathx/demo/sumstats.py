"""GWAS of the discovery sample (exact per-SNP OLS) and realistically messy summary stats."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from neuropathx.demo.genomes import COMPLEMENT, is_strand_ambiguous

SUMSTATS_COLUMNS = ["SNP", "CHR", "BP", "A1", "A2", "BETA", "SE", "P", "N"]


def gwas_ols(
    dosage: np.ndarray, phenotype: np.ndarray, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-SNP simple linear regression y ~ 1 + x: BETA, SE and two-sided t-test P.

    dosage: (n_snps, n) allele counts; SNPs without variation get NaN.
    """
    y = phenotype - phenotype.mean()
    n = len(y)
    syy = float(y @ y)
    beta = np.empty(dosage.shape[0])
    se = np.empty(dosage.shape[0])
    for a in range(0, dosage.shape[0], chunk):
        x = dosage[a : a + chunk].astype(np.float64)
        x -= x.mean(axis=1, keepdims=True)
        sxx = np.einsum("ij,ij->i", x, x)
        sxy = x @ y
        with np.errstate(divide="ignore", invalid="ignore"):
            b = sxy / sxx
            rss = syy - b * sxy
            se[a : a + chunk] = np.sqrt(rss / (n - 2) / sxx)
        beta[a : a + chunk] = b
    p = 2.0 * stats.t.sf(np.abs(beta / se), df=n - 2)
    return beta, se, p


def _mismatched_pair(a1: str, a2: str, rng: np.random.Generator) -> tuple[str, str]:
    """An allele pair that matches neither (a1, a2) nor its strand complement."""
    bad = {frozenset((a1, a2)), frozenset((COMPLEMENT[a1], COMPLEMENT[a2]))}
    options = [(x, y) for x in "ACGT" for y in "ACGT" if x != y and frozenset((x, y)) not in bad]
    return options[int(rng.integers(len(options)))]


def messy_sumstats(
    snps: pd.DataFrame,
    beta: np.ndarray,
    se: np.ndarray,
    p: np.ndarray,
    n: int,
    absent: np.ndarray,
    protected: np.ndarray,
    rng: np.random.Generator,
    swap_rate: float = 0.30,
    strand_flip_rate: float = 0.05,
    n_mismatch: int = 10,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summary statistics as a consortium might publish them, plus the planted-mess table.

    ``snps`` has SNP CHR BP REF ALT, and the estimates are for ALT. Reported A1/A2 start as
    the .bim's (A1 = ALT). Planted (table columns SNP, kind): ``absent`` (not in the .bim),
    ``ambiguous`` (A/T or C/G, kept; may also be ``swapped``), ``mismatch`` (alleles that
    match neither orientation nor strand), ``strand_flipped`` (both alleles complemented),
    ``swapped`` (A1/A2 exchanged and BETA negated). ``protected`` SNPs (causal) are never
    made mismatched or absent. SNPs without variation in the discovery sample are left out.
    """
    ss = pd.DataFrame(
        {
            "SNP": snps["SNP"].to_numpy(),
            "CHR": snps["CHR"].to_numpy(),
            "BP": snps["BP"].to_numpy(),
            "A1": snps["ALT"].to_numpy(),
            "A2": snps["REF"].to_numpy(),
            "BETA": beta,
            "SE": se,
            "P": p,
            "N": n,
        }
    )
    planted = [(s, "absent") for s in ss["SNP"].to_numpy()[absent]]
    ambiguous = is_strand_ambiguous(ss["A1"], ss["A2"])
    free = ~ambiguous & ~absent
    mismatch = np.zeros(len(ss), bool)
    mismatch[rng.choice(np.flatnonzero(free & ~protected), n_mismatch, replace=False)] = True
    free &= ~mismatch
    strand = free & (rng.random(len(ss)) < strand_flip_rate)
    swap = ((free & ~strand) | (ambiguous & ~absent)) & (rng.random(len(ss)) < swap_rate)

    a1, a2 = ss["A1"].to_numpy(object), ss["A2"].to_numpy(object)
    for i in np.flatnonzero(mismatch):
        a1[i], a2[i] = _mismatched_pair(a1[i], a2[i], rng)
    comp = np.vectorize(COMPLEMENT.get, otypes=[object])
    a1[strand], a2[strand] = comp(a1[strand]), comp(a2[strand])
    a1[swap], a2[swap] = a2[swap].copy(), a1[swap].copy()
    ss["A1"], ss["A2"] = a1, a2
    ss.loc[swap, "BETA"] = -ss.loc[swap, "BETA"]
    for mask, kind in [
        (ambiguous & ~absent, "ambiguous"),
        (mismatch, "mismatch"),
        (strand, "strand_flipped"),
        (swap, "swapped"),
    ]:
        planted += [(s, kind) for s in ss["SNP"].to_numpy()[mask]]
    ss = ss[np.isfinite(ss["BETA"])].reset_index(drop=True)
    planted_df = pd.DataFrame(planted, columns=["SNP", "kind"])
    planted_df = planted_df[planted_df["SNP"].isin(ss["SNP"])].reset_index(drop=True)
    return ss[SUMSTATS_COLUMNS], planted_df
