"""Gene-set enrichment of the genes behind the top pathways (gseapy, offline).

Query: the genes with scored SNPs (``snp_gene_pathway.tsv``) in the pathways of the headline
links. Background: every gene with a scored SNP, since only those could have been picked.
Test: gseapy's ``enrich`` (hypergeometric, BH-adjusted) against a local GMT, no network.
When that GMT is the one the pathway scores were built from, the query pathways are
enriched by construction; the table marks them (``query_pathway``) so that only the other
gene sets, or a separate library set in ``report.enrichment_gmt``, carry information.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.io import read_tsv

log = logging.getLogger(__name__)
ENRICHMENT_COLUMNS = ["term", "overlap", "p", "q_bh", "odds_ratio", "query_pathway", "genes"]


def genes_behind(mapping_tsv: str | Path, pathways: list[str]) -> tuple[list[str], list[str]]:
    """(query genes of the given pathways, background of all mapped genes), sorted."""
    mapping = read_tsv(mapping_tsv, required=["gene", "pathway"], dtype={"gene": str})
    query = sorted(set(mapping.loc[mapping["pathway"].isin(pathways), "gene"]))
    return query, sorted(set(mapping["gene"]))


def enrich_genes(
    query: list[str], background: list[str], gmt: str | Path, query_pathways: list[str]
) -> pd.DataFrame:
    """Hypergeometric enrichment of ``query`` in every gene set of ``gmt``; ranked by p."""
    import gseapy

    if not query:
        return pd.DataFrame(columns=ENRICHMENT_COLUMNS)
    result = gseapy.enrich(
        gene_list=list(query),
        gene_sets=str(gmt),
        background=list(background),
        outdir=None,
        cutoff=1.0,
        verbose=False,
    ).results
    table = pd.DataFrame(
        {
            "term": result["Term"],
            "overlap": result["Overlap"],
            "p": result["P-value"].astype(float),
            "q_bh": result["Adjusted P-value"].astype(float),
            "odds_ratio": result["Odds Ratio"].astype(float),
            "query_pathway": result["Term"].isin(query_pathways),
            "genes": result["Genes"],
        }
    )
    return table.sort_values("p", kind="stable").reset_index(drop=True)


def enrichment_plot(table: pd.DataFrame, path: str | Path, shown: int = 15) -> None:
    """Horizontal bars of −log10 p of the strongest gene sets (query pathways hatched)."""
    from neuropathx.reporting.plots import new_figure, save_figure

    top = table.head(shown).iloc[::-1]
    fig, ax = new_figure((7, 0.35 * max(len(top), 3) + 1))
    if len(top):
        bars = ax.barh(top["term"], -np.log10(top["p"].clip(lower=1e-300)), color="tab:purple")
        for bar, own in zip(bars, top["query_pathway"], strict=True):
            if own:
                bar.set_hatch("//")
                bar.set_alpha(0.5)
    ax.set_xlabel("−log10 p (hypergeometric); hatched: a query pathway itself")
    ax.set_title("enrichment of the genes behind the top pathways")
    save_figure(fig, path)
