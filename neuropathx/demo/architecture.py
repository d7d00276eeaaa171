"""The planted genetics: causal pathway SNPs, burdens, liability; a check of the planted signal."""

from __future__ import annotations

import numpy as np
import pandas as pd


def snps_in_genes(snps: pd.DataFrame, genes: pd.DataFrame) -> dict[str, np.ndarray]:
    """Row indices of ``snps`` (CHR, BP) inside each gene body, keyed by gene symbol."""
    out = {}
    for chrom, block in genes.groupby("chr"):
        on_chrom = np.flatnonzero(snps["CHR"].to_numpy() == chrom)
        bp = snps["BP"].to_numpy()[on_chrom]
        lo = np.searchsorted(bp, block["start"].to_numpy(), side="left")
        hi = np.searchsorted(bp, block["stop"].to_numpy(), side="right")
        for sym, a, b in zip(block["symbol"], lo, hi, strict=True):
            out[sym] = on_chrom[a:b]
    return out


def choose_causal_snps(
    pathways: dict[str, list[str]],
    gene_snps: dict[str, np.ndarray],
    eligible: np.ndarray,
    n_causal_pathways: int,
    rng: np.random.Generator,
    genes_per_pathway: int = 5,
    max_snps_per_gene: int = 3,
) -> pd.DataFrame:
    """Pick causal pathways, then causal genes (disjoint across pathways) and their SNPs.

    Returns one row per causal SNP: pathway, gene, snp_index, beta (raw per-allele weight).
    """

    def usable(gene: str, taken: set[str]) -> bool:
        return gene not in taken and bool(eligible[gene_snps.get(gene, [])].any())

    names = list(pathways)
    order = rng.permutation(len(names))
    rows, taken = [], set()
    chosen = 0
    for k in order:
        if chosen == n_causal_pathways:
            break
        name = names[k]
        candidates = [g for g in pathways[name] if usable(g, taken)]
        if len(candidates) < 2:
            continue
        n_genes = min(genes_per_pathway, len(candidates))
        for gene in rng.choice(candidates, size=n_genes, replace=False):
            taken.add(str(gene))
            pool = gene_snps[gene][eligible[gene_snps[gene]]]
            n_snps = min(int(rng.integers(1, max_snps_per_gene + 1)), len(pool))
            for s in np.sort(rng.choice(pool, size=n_snps, replace=False)):
                rows.append((name, str(gene), int(s), float(rng.normal())))
        chosen += 1
    if chosen < n_causal_pathways:
        raise ValueError(
            f"only {chosen} of {n_causal_pathways} causal pathways have enough genes with "
            "common SNPs; use more genes, pathways or a longer genome"
        )
    return pd.DataFrame(rows, columns=["pathway", "gene", "snp_index", "beta"])


def pathway_burdens(dosage: np.ndarray, causal: pd.DataFrame, pathways: list[str]) -> np.ndarray:
    """Standardised causal burden g_j = sum_s beta_s x_s per pathway: (n_individuals, P)."""
    out = np.empty((dosage.shape[1], len(pathways)))
    for j, name in enumerate(pathways):
        rows = causal[causal["pathway"] == name]
        raw = rows["beta"].to_numpy() @ dosage[rows["snp_index"].to_numpy()].astype(float)
        out[:, j] = (raw - raw.mean()) / raw.std()
    return out


def liability(
    burdens: np.ndarray, weights: np.ndarray, heritability: float, rng: np.random.Generator
) -> np.ndarray:
    """Liability = genetic part (variance ``heritability``) + Gaussian noise (variance 1-h2)."""
    genetic = burdens @ weights
    genetic = genetic / genetic.std() * np.sqrt(heritability)
    return genetic + rng.normal(0.0, np.sqrt(1.0 - heritability), size=len(genetic))


def latent_sanity_auc(
    burdens: np.ndarray, planted: np.ndarray, pair_pathway: np.ndarray, diagnosis: np.ndarray
) -> float:
    """5-fold CV AUC of a logistic regression on the planted latent variables.

    Features: the true burdens, the observed planted region measures (z-scored) and, for
    region effects tied to a pathway (``pair_pathway`` >= 0), their products with that
    pathway's burden (the region-pathway interaction). ``pair_pathway`` is -1 for a
    region effect without pathway.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    sd = planted.std(0)
    z = (planted - planted.mean(0)) / np.where(sd > 0, sd, 1.0)
    tied = np.flatnonzero(pair_pathway >= 0)
    x = np.column_stack([burdens, z, z[:, tied] * burdens[:, pair_pathway[tied]]])
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    prob = cross_val_predict(
        LogisticRegression(max_iter=1000), x, diagnosis, cv=folds, method="predict_proba"
    )[:, 1]
    return float(roc_auc_score(diagnosis, prob))
