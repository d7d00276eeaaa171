"""Small random PLINK filesets with planted QC problems, for tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.genetics.plink_io import write_fileset


@dataclass
class PlantedQc:
    """Which samples/variants were made bad, by problem."""

    high_missing_variants: list[str] = field(default_factory=list)
    high_missing_samples: list[str] = field(default_factory=list)
    rare_variants: list[str] = field(default_factory=list)
    hwe_variants: list[str] = field(default_factory=list)
    het_samples: list[str] = field(default_factory=list)
    duplicate_pairs: list[tuple[str, str]] = field(default_factory=list)


def random_genotypes(
    n_samples: int,
    n_variants: int,
    rng: np.random.Generator,
    maf_range: tuple[float, float] = (0.05, 0.5),
) -> np.ndarray:
    """HWE genotypes (variants x samples) with a uniform A1 frequency per variant."""
    freq = rng.uniform(*maf_range, size=(n_variants, 1))
    return rng.binomial(2, freq, size=(n_variants, n_samples)).astype(float)


def default_tables(
    n_samples: int, n_variants: int, n_chrom: int = 2, spacing: int = 20_000
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A .bim (variants spread over ``n_chrom`` chromosomes, random A/C/G/T) and a .fam."""
    chrom = np.repeat(np.arange(1, n_chrom + 1), -(-n_variants // n_chrom))[:n_variants]
    pos = np.concatenate(
        [np.arange(1, (chrom == c).sum() + 1) * spacing for c in range(1, n_chrom + 1)]
    )
    rng = np.random.default_rng(12345)
    pairs = np.array([("A", "C"), ("A", "G"), ("C", "T"), ("G", "T"), ("C", "A"), ("T", "G")])
    pick = pairs[rng.integers(0, len(pairs), n_variants)]
    bim = pd.DataFrame(
        {
            "CHR": chrom.astype(str),
            "ID": [f"rs{i + 1}" for i in range(n_variants)],
            "CM": 0,
            "BP": pos,
            "A1": pick[:, 0],
            "A2": pick[:, 1],
        }
    )
    iid = [f"sub-{i + 1:03d}" for i in range(n_samples)]
    fam = pd.DataFrame({"FID": iid, "IID": iid, "PAT": "0", "MAT": "0", "SEX": "0", "PHENO": "-9"})
    return bim, fam


def write_qc_fixture(
    prefix: str | Path, seed: int = 0, n_samples: int = 120, n_variants: int = 2000
) -> PlantedQc:
    """Write a fileset with planted bad variants and samples; return what was planted."""
    rng = np.random.default_rng(seed)
    geno = random_genotypes(n_samples, n_variants, rng)
    geno[rng.random(geno.shape) < 0.005] = np.nan  # background missingness
    bim, fam = default_tables(n_samples, n_variants)
    ids, iids = list(bim["ID"]), list(fam["IID"])
    planted = PlantedQc()
    for s in range(3, 5):  # heterozygous at most common variants: high heterozygosity
        common = rng.random(n_variants) < 0.8
        geno[common, s] = 1
        planted.het_samples.append(iids[s])
    s = 5  # homozygous everywhere: inbred-looking
    geno[:, s] = np.where(rng.random(n_variants) < 0.5, 0, 2)
    planted.het_samples.append(iids[s])
    for v in range(0, 5):  # 20% missing
        geno[v, rng.choice(n_samples, n_samples // 5, replace=False)] = np.nan
        planted.high_missing_variants.append(ids[v])
    for s in range(0, 3):  # 15% missing
        geno[rng.choice(n_variants, n_variants * 15 // 100, replace=False), s] = np.nan
        planted.high_missing_samples.append(iids[s])
    for v in range(5, 13):  # monomorphic or one copy of A1
        geno[v] = 0
        geno[v, rng.integers(n_samples)] = v % 2
        planted.rare_variants.append(ids[v])
    for v in range(13, 18):  # every sample heterozygous: HWE p ~ 1e-30
        geno[v] = 1
        planted.hwe_variants.append(ids[v])
    geno[:, 7] = geno[:, 6]  # duplicate sample
    planted.duplicate_pairs.append((iids[6], iids[7]))
    write_fileset(prefix, geno, bim, fam)
    return planted


def ld_genotypes(
    n_samples: int, n_blocks: int, block_size: int, rng: np.random.Generator, noise: float = 0.1
) -> np.ndarray:
    """Blocks of correlated variants: each variant copies its block's base genotypes, with
    a ``noise`` fraction of samples redrawn (variants x samples)."""
    blocks = []
    for _ in range(n_blocks):
        base = random_genotypes(n_samples, 1, rng, maf_range=(0.2, 0.5))[0]
        block = np.tile(base, (block_size, 1))
        redraw = rng.random(block.shape) < noise
        block[redraw] = rng.binomial(2, base.mean() / 2, size=redraw.sum())
        blocks.append(block)
    return np.vstack(blocks)
