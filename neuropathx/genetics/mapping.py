"""SNP -> gene -> pathway mapping: gene location (.loc) and gene-set (.gmt) files.

A SNP maps to a gene when its position lies in the gene's window, borders included:
[start - upstream, stop + downstream] for '+' strand genes and
[start - downstream, stop + upstream] for '-' strand genes (upstream = 5' of the
transcription start). A SNP counts once per pathway even if it lies in several of the
pathway's genes. Pathway size limits apply to the number of the pathway's genes found in the
location file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.errors import InputError
from neuropathx.genetics.sumstats import normalise_chrom

LOC_COLUMNS = ["gene_id", "chr", "start", "stop", "strand", "symbol"]


def read_gene_loc(path: str | Path) -> pd.DataFrame:
    """Read an NCBI/MAGMA gene location file: entrez id, chr, start, stop, strand, symbol."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    try:
        loc = pd.read_csv(path, sep=r"\s+", header=None, dtype=str, comment="#")
    except pd.errors.EmptyDataError as exc:
        raise InputError(path, "file is empty: no genes") from exc
    if loc.shape[1] != 6:
        raise InputError(
            path, f"expected 6 columns ({' '.join(LOC_COLUMNS)}), found {loc.shape[1]}"
        )
    loc.columns = LOC_COLUMNS
    for col in ("start", "stop"):
        values = pd.to_numeric(loc[col], errors="coerce")
        if values.isna().any():
            line = int(np.flatnonzero(values.isna())[0]) + 1
            raise InputError(path, f"column {col!r} must be integers; line {line} is not")
        loc[col] = values.astype(np.int64)
    bad = loc["start"] > loc["stop"]
    if bad.any():
        raise InputError(
            path,
            f"start > stop for {int(bad.sum())} gene(s), e.g. {loc.loc[bad, 'symbol'].iloc[0]}",
        )
    bad = ~loc["strand"].isin(["+", "-"])
    if bad.any():
        raise InputError(
            path, f"strand must be '+' or '-', found {loc.loc[bad, 'strand'].iloc[0]!r}"
        )
    loc["chr"] = normalise_chrom(loc["chr"])
    return loc


def read_gmt(path: str | Path) -> dict[str, list[str]]:
    """Read a .gmt gene-set file: name, description, then one gene per tab-separated field."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    sets: dict[str, list[str]] = {}
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) < 2:
            raise InputError(path, f"line {lineno}: expected 'name<TAB>description<TAB>genes...'")
        name = fields[0].strip()
        if name in sets:
            raise InputError(path, f"line {lineno}: duplicate pathway name {name!r}")
        genes = [g.strip() for g in fields[2:] if g.strip()]
        sets[name] = list(dict.fromkeys(genes))
    if not sets:
        raise InputError(path, "no pathways")
    return sets


def gene_windows(loc: pd.DataFrame, upstream_kb: float, downstream_kb: float) -> pd.DataFrame:
    """Gene windows [lo, hi] with strand-aware borders (kb -> bp)."""
    up, down = int(round(upstream_kb * 1000)), int(round(downstream_kb * 1000))
    plus = loc["strand"] == "+"
    lo = loc["start"] - np.where(plus, up, down)
    hi = loc["stop"] + np.where(plus, down, up)
    return loc.assign(lo=np.maximum(lo, 0), hi=hi)


def map_snps_to_genes(
    snps: pd.DataFrame,
    loc: pd.DataFrame,
    *,
    upstream_kb: float = 0,
    downstream_kb: float = 0,
    gene_id: str = "symbol",
) -> pd.DataFrame:
    """All (SNP, gene) pairs with the SNP (columns SNP CHR BP) inside the gene's window."""
    if gene_id not in ("symbol", "entrez"):
        raise ValueError(f"gene_id must be 'symbol' or 'entrez', got {gene_id!r}")
    win = gene_windows(loc, upstream_kb, downstream_kb)
    key = "symbol" if gene_id == "symbol" else "gene_id"
    snp_chr = normalise_chrom(snps["CHR"])
    pairs = []
    for chrom, genes in win.groupby("chr", sort=False):
        on = snps[(snp_chr == chrom).to_numpy()]
        if on.empty:
            continue
        order = np.argsort(on["BP"].to_numpy(), kind="stable")
        bp = on["BP"].to_numpy()[order]
        first = np.searchsorted(bp, genes["lo"].to_numpy(), side="left")
        last = np.searchsorted(bp, genes["hi"].to_numpy(), side="right")
        count = last - first
        gene_rep = np.repeat(genes[key].to_numpy(), count)
        pos = np.concatenate([np.arange(a, b) for a, b in zip(first, last, strict=True)] or [[]])
        sel = order[pos.astype(int)]
        pairs.append(
            pd.DataFrame(
                {
                    "SNP": on["SNP"].to_numpy()[sel],
                    "CHR": on["CHR"].to_numpy()[sel],
                    "BP": on["BP"].to_numpy()[sel],
                    "gene": gene_rep,
                }
            )
        )
    if not pairs:
        return pd.DataFrame(columns=["SNP", "CHR", "BP", "gene"])
    return pd.concat(pairs, ignore_index=True).drop_duplicates(["SNP", "gene"])


def pathway_table(
    snp_genes: pd.DataFrame,
    snps: pd.DataFrame,
    gene_sets: dict[str, list[str]],
    loc: pd.DataFrame,
    *,
    gene_id: str = "symbol",
    min_genes: int = 5,
    max_genes: int = 500,
    min_snps: int = 1,
    gmt_path: str | Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SNP-gene-pathway rows (SNP CHR BP gene pathway BETA) and the per-pathway summary.

    ``snps`` holds SNP and BETA of the scored SNPs. The summary lists every pathway of the
    .gmt with n_genes_gmt, n_genes_located, n_snps, kept and the reason.
    """
    located = set(loc["symbol" if gene_id == "symbol" else "gene_id"])
    all_genes = {g for genes in gene_sets.values() for g in genes}
    if not all_genes & located:
        raise InputError(
            gmt_path,
            f"none of the {len(all_genes)} genes in the gene sets is in the gene location file "
            f"(gene_id={gene_id!r}: check that the .gmt uses {gene_id} identifiers)",
        )
    members = pd.DataFrame(
        [(p, g) for p, genes in gene_sets.items() for g in genes], columns=["pathway", "gene"]
    )
    rows = snp_genes.merge(members, on="gene").merge(snps[["SNP", "BETA"]], on="SNP")
    rows = rows[["SNP", "CHR", "BP", "gene", "pathway", "BETA"]]
    n_snps = rows.groupby("pathway")["SNP"].nunique()
    summary = []
    for name, genes in gene_sets.items():
        n_loc = len(set(genes) & located)
        n = int(n_snps.get(name, 0))
        if n_loc < min_genes:
            kept, reason = False, f"fewer_than_min_genes ({n_loc} < {min_genes})"
        elif n_loc > max_genes:
            kept, reason = False, f"more_than_max_genes ({n_loc} > {max_genes})"
        elif n < min_snps:
            kept, reason = False, f"fewer_than_min_snps ({n} < {min_snps})"
        else:
            kept, reason = True, "kept"
        summary.append((name, len(genes), n_loc, n, kept, reason))
    summary = pd.DataFrame(
        summary, columns=["pathway", "n_genes_gmt", "n_genes_located", "n_snps", "kept", "reason"]
    )
    return rows.reset_index(drop=True), summary


def pathway_weights(rows: pd.DataFrame, kept: list[str]) -> pd.DataFrame:
    """Long weights (SNP, pathway, BETA): one row per SNP and kept pathway."""
    w = rows[rows["pathway"].isin(kept)].drop_duplicates(["SNP", "pathway"])
    return w[["SNP", "pathway", "BETA"]].reset_index(drop=True)
