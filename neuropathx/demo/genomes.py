"""Coalescent simulation of the demo genomes (msprime) and SNP-level bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass

import msprime
import numpy as np
import pandas as pd

# Allele pairs (REF, ALT) with roughly human proportions: transitions are about twice as
# common as transversions, and about 15% of SNPs are strand-ambiguous (A/T or C/G).
_ALLELE_PAIRS = [
    ("A", "G"), ("G", "A"), ("C", "T"), ("T", "C"),
    ("A", "C"), ("C", "A"), ("G", "T"), ("T", "G"),
    ("A", "T"), ("T", "A"), ("C", "G"), ("G", "C"),
]  # fmt: skip
_ALLELE_WEIGHTS = np.array([0.165] * 4 + [0.0475] * 4 + [0.0375] * 4)
COMPLEMENT = {"A": "T", "T": "A", "C": "G", "G": "C"}


@dataclass
class SimulatedGenomes:
    """Haplotypes of all simulated individuals and the SNP table (one row per SNP).

    haplotypes: (n_snps, 2 * n_individuals) int8, 1 = ALT (derived) allele; individual i
    owns columns 2i and 2i+1. snps: columns SNP, CHR, BP, REF, ALT, ALT_FREQ.
    """

    haplotypes: np.ndarray
    snps: pd.DataFrame

    def dosages(self, start: int, stop: int) -> np.ndarray:
        """ALT-allele dosages (n_snps, stop - start) int8 of individuals start..stop-1."""
        h = self.haplotypes
        return h[:, 2 * start : 2 * stop : 2] + h[:, 2 * start + 1 : 2 * stop : 2]


def growth_demography(
    ancestral_size: float = 2e4, present_size: float = 5e5, growth_generations: float = 100
) -> msprime.Demography:
    """One population that grew exponentially over the last ``growth_generations``.

    Recent growth makes recent common ancestors rare, so a sample of a few thousand has no
    cryptic relatives (a constant Ne = 1e4 on a short genome makes everybody look related).
    On 4 x 5 Mb, KING kinship of 600 unrelated samples then has SD ~0.03 (short genomes are
    noisy) with at most ~1 pair just above 0.0884; a longer growth phase is cleaner but
    slower (1e4 -> 1e6 over 300 generations: 3x the time and 12 pairs above 0.0884).
    """
    demography = msprime.Demography()
    rate = np.log(present_size / ancestral_size) / growth_generations
    demography.add_population(name="pop", initial_size=present_size, growth_rate=rate)
    demography.add_population_parameters_change(
        time=growth_generations, initial_size=ancestral_size, growth_rate=0
    )
    return demography


def _minor_allele_freq(ts) -> np.ndarray:
    """Minor allele frequency per site (NaN where a site carries several mutations).

    Site-mode diversity over one-site windows is 2k(n-k)/(n(n-1)) for k copies of the
    derived allele among n samples: solving it for k is vectorised in tskit's C code.
    """
    n = ts.num_samples
    pos = ts.tables.sites.position
    windows = np.concatenate([[0.0], (pos[1:] + pos[:-1]) / 2, [ts.sequence_length]])
    pi = ts.diversity(windows=windows, mode="site", span_normalise=False)
    product = pi * n * (n - 1) / 2
    minor = np.round((n - np.sqrt(np.maximum(n * n - 4 * product, 0.0))) / 2) / n
    n_mutations = np.bincount(ts.tables.mutations.site, minlength=ts.num_sites)
    return np.where(n_mutations == 1, minor, np.nan)


def simulate_chromosome(
    n_individuals: int,
    length_bp: float,
    seed: int,
    *,
    recombination_rate: float = 1e-8,
    mutation_rate: float = 1.25e-8,
    min_maf: float = 0.01,
    max_snps: int | None = None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate one chromosome; return haplotypes (n_snps, 2n), 1-based positions, ALT freq.

    Keeps biallelic sites with minor allele frequency >= ``min_maf`` in the whole sample,
    thinned at random to ``max_snps`` (random thinning keeps the local LD structure).
    """
    seeds = np.random.SeedSequence(seed).generate_state(2)
    ts = msprime.sim_ancestry(
        samples=n_individuals,
        ploidy=2,
        demography=growth_demography(),
        sequence_length=length_bp,
        recombination_rate=recombination_rate,
        random_seed=int(seeds[0]) % (2**31 - 2) + 1,
    )
    ts = msprime.sim_mutations(
        ts,
        rate=mutation_rate,
        model=msprime.BinaryMutationModel(),
        random_seed=int(seeds[1]) % (2**31 - 2) + 1,
    )
    keep = np.flatnonzero(_minor_allele_freq(ts) >= min_maf)
    if max_snps is not None and keep.size > max_snps:
        keep = np.sort(rng.choice(keep, size=max_snps, replace=False))
    drop = np.setdiff1d(np.arange(ts.num_sites), keep)
    ts = ts.delete_sites(drop)
    haplotypes = ts.genotype_matrix().astype(np.int8, copy=False)
    positions = ts.tables.sites.position.astype(np.int64) + 1  # msprime is 0-based
    return haplotypes, positions, haplotypes.mean(axis=1)


def simulate_genomes(
    n_individuals: int,
    n_chromosomes: int,
    chromosome_mb: float,
    *,
    max_total_snps: int,
    min_maf: float,
    seed: int,
) -> SimulatedGenomes:
    """Simulate ``n_chromosomes`` autosomes separately and assemble the SNP table."""
    ss = np.random.SeedSequence(seed)
    chrom_seeds = ss.spawn(n_chromosomes + 1)
    rng = np.random.default_rng(chrom_seeds[-1])
    per_chrom = max(1, max_total_snps // n_chromosomes)
    blocks, tables = [], []
    for c in range(n_chromosomes):
        hap, pos, freq = simulate_chromosome(
            n_individuals,
            chromosome_mb * 1e6,
            int(chrom_seeds[c].generate_state(1)[0]),
            min_maf=min_maf,
            max_snps=per_chrom,
            rng=rng,
        )
        blocks.append(hap)
        tables.append(pd.DataFrame({"CHR": c + 1, "BP": pos, "ALT_FREQ": freq}))
    snps = pd.concat(tables, ignore_index=True)
    pairs = rng.choice(len(_ALLELE_PAIRS), size=len(snps), p=_ALLELE_WEIGHTS)
    snps["REF"] = [_ALLELE_PAIRS[k][0] for k in pairs]
    snps["ALT"] = [_ALLELE_PAIRS[k][1] for k in pairs]
    snps.insert(0, "SNP", [f"rs{1001 + i}" for i in range(len(snps))])
    return SimulatedGenomes(np.concatenate(blocks, axis=0), snps)


def is_strand_ambiguous(a1: pd.Series, a2: pd.Series) -> np.ndarray:
    """True where the allele pair is its own complement (A/T or C/G)."""
    return (a1.map(COMPLEMENT) == a2).to_numpy()
