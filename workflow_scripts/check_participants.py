"""Snakemake adapter: check participants.tsv against its schema (neuropathx.participants)."""

import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)

from neuropathx.logs import log_to_file
from neuropathx.participants import write_checked_participants

with log_to_file(snakemake.log[0]):  # noqa: F821
    write_checked_participants(
        snakemake.input.participants,  # noqa: F821
        snakemake.input.schema,  # noqa: F821
        snakemake.output.participants,  # noqa: F821
        coding=snakemake.params.coding,  # noqa: F821
    )
