"""Snakemake adapter: write the resolved config and package versions beside the results."""

import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)

from neuropathx.logs import log_to_file
from neuropathx.provenance import write_provenance

with log_to_file(snakemake.log[0]):  # noqa: F821
    write_provenance(
        snakemake.params.config,  # noqa: F821
        snakemake.output.config,  # noqa: F821
        snakemake.output.versions,  # noqa: F821
        plink_versions=snakemake.input.plink_versions,  # noqa: F821
    )
