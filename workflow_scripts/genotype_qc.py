"""Snakemake adapter: genotype QC with PLINK 2 (neuropathx.genetics)."""

import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)

from pathlib import Path

from neuropathx.genetics.stage import run_genotype_qc
from neuropathx.logs import log_to_file

with log_to_file(snakemake.log[0]):  # noqa: F821
    run_genotype_qc(
        snakemake.params.genotypes,  # noqa: F821 (a prefix, or a VCF/BGEN file)
        Path(snakemake.output.summary).parent,  # noqa: F821
        settings={
            **snakemake.params.settings,  # noqa: F821
            "input_format": snakemake.params.input_format,  # noqa: F821
        },
        participants=snakemake.input.get("participants"),  # noqa: F821 (optional)
        coding=snakemake.params.participants,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
    )
