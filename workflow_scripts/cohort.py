"""Snakemake adapter: join the modalities and write CV splits (neuropathx.cohort)."""

import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)

from neuropathx.cohort import build_cohort
from neuropathx.logs import log_to_file

with log_to_file(snakemake.log[0]):  # noqa: F821
    build_cohort(
        participants=snakemake.input.participants,  # noqa: F821
        genetics=snakemake.input.genetics,  # noqa: F821
        imaging=snakemake.input.imaging,  # noqa: F821
        fam=snakemake.input.fam,  # noqa: F821
        outputs=dict(snakemake.output.items()),  # noqa: F821 (covariate_spec: the .json sidecar)
        coding=snakemake.params.participants,  # noqa: F821
        cv=snakemake.params.cv,  # noqa: F821
        seed=snakemake.params.seed,  # noqa: F821
        covariates=snakemake.params.covariates,  # noqa: F821
        global_measures=snakemake.input.global_measures,  # noqa: F821
        pcs=snakemake.input.get("pcs"),  # noqa: F821 (only when PCs are covariates)
    )
