"""Snakemake adapter: principal components of the QC'd genotypes (neuropathx.genetics)."""

import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)

from pathlib import Path

from neuropathx.genetics.population import run_population_pca
from neuropathx.logs import log_to_file

with log_to_file(snakemake.log[0]):  # noqa: F821
    run_population_pca(
        snakemake.input.bed.removesuffix(".bed"),  # noqa: F821
        Path(snakemake.output.pcs).parent,  # noqa: F821
        prune=snakemake.params.prune,  # noqa: F821
        settings=snakemake.params.settings,  # noqa: F821
        participants=snakemake.input.get("participants"),  # noqa: F821 (optional)
        coding=snakemake.params.participants,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
    )
