"""Snakemake adapter: harmonise, clump, map and score pathways (neuropathx.genetics)."""

import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)

from pathlib import Path

from neuropathx.genetics.stage import build_pathway_scores
from neuropathx.logs import log_to_file

with log_to_file(snakemake.log[0]):  # noqa: F821
    build_pathway_scores(
        snakemake.input[0].removesuffix(".bed"),  # noqa: F821
        snakemake.input.sumstats,  # noqa: F821
        snakemake.input.gene_loc,  # noqa: F821
        snakemake.input.gmt,  # noqa: F821
        Path(snakemake.output.scores).parent,  # noqa: F821
        settings=snakemake.params.settings,  # noqa: F821
        dosage_pfile=snakemake.input.get("dosage", "").removesuffix(".pgen") or None,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
    )
