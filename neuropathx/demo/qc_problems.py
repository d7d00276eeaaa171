"""Planted genotype QC problems of the demo cohort, each listed in a table (kind, id, detail).

Kinds: random_missing, sample_high_missing, sample_excess_het, duplicate_sample,
related_sample, snp_high_missing, snp_hwe_violation, snp_monomorphic, snp_very_rare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class QCPlan:
    """How many problems of each kind to plant (defaults: the demo's documented set)."""

    random_missing_rate: float = 0.01
    n_high_missing_samples: int = 6
    sample_missing_rate: float = 0.20
    n_excess_het_samples: int = 3
    excess_het_rate: float = 0.30
    n_high_missing_snps: int = 20
    snp_missing_rate: float = 0.20
    n_hwe_snps: int = 10
    n_monomorphic_snps: int = 3
    n_very_rare_snps: int = 3
    duplicate_discordance: float = 0.002


def plant_duplicate_and_relative(
    dosage: np.ndarray,
    haplotypes: np.ndarray,
    extra_individual: int,
    ids: list[str],
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[tuple[str, str, str]], set[int]]:
    """Overwrite two target samples: a near-duplicate of one, a child of another.

    ``dosage`` (n_snps, n_target) holds true genotypes of the target cohort, whose
    individual i owns haplotype columns 2i, 2i+1; the child's second haplotype comes from
    ``extra_individual`` (simulated but not in any sample). Returns dosage, problems, and the
    indices involved (excluded from the other problems).
    """
    orig, dup, parent, child = (int(i) for i in rng.choice(dosage.shape[1], 4, replace=False))
    dosage = dosage.copy()
    dosage[:, dup] = dosage[:, orig]
    # a child carries one haplotype of its parent and one from outside the cohort
    dosage[:, child] = haplotypes[:, 2 * parent] + haplotypes[:, 2 * extra_individual + 1]
    problems = [
        ("duplicate_sample", ids[dup], f"near copy of {ids[orig]} (genotyping discordance)"),
        ("related_sample", ids[child], f"parent-offspring of {ids[parent]} (kinship ~0.25)"),
    ]
    return dosage, problems, {orig, dup, parent, child}


def inject_call_errors(
    dosage: np.ndarray,
    ids: list[str],
    snp_ids: list[str],
    protected_snps: np.ndarray,
    protected_samples: set[int],
    duplicate: int | None,
    rng: np.random.Generator,
    plan: QCPlan | None = None,
) -> tuple[np.ndarray, list[tuple[str, str, str]]]:
    """Called genotypes (-1 = missing) with the planned sample/SNP problems injected.

    ``protected_snps`` (boolean) are never made bad SNPs (causal SNPs must stay clean);
    ``protected_samples`` are never made bad samples.
    """
    plan = plan or QCPlan()
    n_snps, n_samples = dosage.shape
    calls = dosage.astype(np.int8, copy=True)
    problems: list[tuple[str, str, str]] = []
    if duplicate is not None:  # a re-genotyped sample differs at a few calls
        flip = np.flatnonzero(rng.random(n_snps) < plan.duplicate_discordance)
        calls[flip, duplicate] = (calls[flip, duplicate] + 1) % 3

    samples = rng.permutation([i for i in range(n_samples) if i not in protected_samples])
    n_hm, n_het = plan.n_high_missing_samples, plan.n_excess_het_samples
    for i in samples[:n_hm]:
        calls[rng.random(n_snps) < plan.sample_missing_rate, i] = -1
        problems.append(("sample_high_missing", ids[i], f"{plan.sample_missing_rate:.0%} missing"))
    for i in samples[n_hm : n_hm + n_het]:
        hom = np.flatnonzero((calls[:, i] != 1) & (rng.random(n_snps) < plan.excess_het_rate))
        calls[hom, i] = 1
        problems.append(
            ("sample_excess_het", ids[i], f"{plan.excess_het_rate:.0%} of hom calls made het")
        )

    alt_freq = dosage.mean(axis=1) / 2
    candidates = rng.permutation(np.flatnonzero(~protected_snps))
    common = candidates[(alt_freq[candidates] > 0.25) & (alt_freq[candidates] < 0.75)]
    hwe = common[: plan.n_hwe_snps]
    rest = np.setdiff1d(candidates, hwe, assume_unique=True)
    rest = rest[rng.permutation(len(rest))]
    k1 = plan.n_high_missing_snps
    k2 = k1 + plan.n_monomorphic_snps
    k3 = k2 + plan.n_very_rare_snps
    for s in hwe:  # every heterozygote called homozygous: gross HWE failure
        het = calls[s] == 1
        calls[s, het] = np.where(rng.random(int(het.sum())) < 0.5, 0, 2)
        problems.append(("snp_hwe_violation", snp_ids[s], "all heterozygotes called homozygous"))
    for s in rest[:k1]:
        calls[s, rng.random(n_samples) < plan.snp_missing_rate] = -1
        problems.append(("snp_high_missing", snp_ids[s], f"{plan.snp_missing_rate:.0%} missing"))
    for s in rest[k1:k2]:
        calls[s] = 0
        problems.append(("snp_monomorphic", snp_ids[s], "all samples homozygous A2 (REF)"))
    for s in rest[k2:k3]:
        calls[s] = 0
        calls[s, rng.choice(n_samples, 1)] = 1
        problems.append(("snp_very_rare", snp_ids[s], "one heterozygous carrier"))

    random_missing = rng.random(calls.shape) < plan.random_missing_rate
    calls[random_missing] = -1
    problems.insert(
        0, ("random_missing", "*", f"{plan.random_missing_rate:.0%} of all calls set missing")
    )
    return calls, problems


def problems_table(problems: list[tuple[str, str, str]]) -> pd.DataFrame:
    """The injected_qc_problems.tsv table."""
    return pd.DataFrame(problems, columns=["kind", "id", "detail"])
