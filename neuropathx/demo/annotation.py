"""Synthetic gene locations (NCBI/MAGMA .loc layout) and pathway gene sets (.gmt)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.io import atomic_path


def simulate_genes(
    n_genes: int, n_chromosomes: int, chromosome_bp: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Non-overlapping genes of 10-100 kb (log-uniform) spread along each chromosome.

    Returns columns entrez_id chr start stop strand symbol, sorted by position.
    """
    per_chrom = np.full(n_chromosomes, n_genes // n_chromosomes)
    per_chrom[: n_genes % n_chromosomes] += 1
    rows = []
    for c, n in enumerate(per_chrom, start=1):
        lengths = np.exp(rng.uniform(np.log(10_000), np.log(100_000), size=n))
        usable = 0.96 * chromosome_bp
        if lengths.sum() > 0.92 * usable:  # short test genomes: shrink genes to fit
            lengths *= 0.92 * usable / lengths.sum()
        gaps = rng.dirichlet(np.ones(n + 1)) * (usable - lengths.sum())
        start = (
            0.02 * chromosome_bp
            + np.cumsum(gaps[:-1])
            + np.concatenate([[0], np.cumsum(lengths)[:-1]])
        )
        for s, length in zip(start, lengths, strict=True):
            rows.append((c, int(s) + 1, int(s + length), "+" if rng.random() < 0.5 else "-"))
    genes = pd.DataFrame(rows, columns=["chr", "start", "stop", "strand"])
    genes.insert(0, "entrez_id", 100001 + np.arange(len(genes)))
    width = max(4, len(str(len(genes))))
    genes["symbol"] = [f"GENE{i + 1:0{width}d}" for i in range(len(genes))]
    return genes


def simulate_pathways(
    symbols: list[str], n_pathways: int, rng: np.random.Generator
) -> dict[str, list[str]]:
    """Overlapping gene sets of ~10-60 genes (fewer on tiny gene lists), named PATHWAY_01..."""
    n_genes = len(symbols)
    high = max(6, min(60, n_genes // 3))
    low = max(3, min(10, high // 2))
    width = max(2, len(str(n_pathways)))
    pathways = {}
    for j in range(n_pathways):
        size = int(rng.integers(low, high + 1))
        members = np.sort(rng.choice(n_genes, size=size, replace=False))
        pathways[f"PATHWAY_{j + 1:0{width}d}"] = [symbols[i] for i in members]
    return pathways


def write_gene_loc(genes: pd.DataFrame, path: str | Path) -> None:
    """Write genes in the NCBI/MAGMA .loc layout: whitespace separated, no header."""
    cols = ["entrez_id", "chr", "start", "stop", "strand", "symbol"]
    with atomic_path(path) as tmp:
        genes[cols].to_csv(tmp, sep="\t", header=False, index=False)


def write_gmt(pathways: dict[str, list[str]], path: str | Path) -> None:
    """Write gene sets in GMT layout: name, description, then gene symbols, tab separated."""
    lines = [
        "\t".join([name, f"Synthetic demo pathway {name}", *genes])
        for name, genes in pathways.items()
    ]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
