"""Snakemake adapter: attention-based region-pathway report (neuropathx.reporting)."""

import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)

from neuropathx.logs import log_to_file
from neuropathx.reporting.stage import build_association_report

smk = snakemake  # noqa: F821
with log_to_file(smk.log[0]):
    build_association_report(
        attention_files=list(smk.input.attention),
        mapping=smk.input.mapping,
        evaluation=smk.input.summary,
        truth=smk.input.truth or None,
        outputs=dict(smk.output.items()),
        settings=smk.params.settings,
        seed=smk.params.seed,
    )
