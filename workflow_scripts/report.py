"""Snakemake adapter: attention-based region-pathway report (neuropathx.reporting)."""

import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)

from neuropathx.logs import log_to_file
from neuropathx.reporting.attention import group_by_model
from neuropathx.reporting.stage import build_association_report

smk = snakemake  # noqa: F821
with log_to_file(smk.log[0]):
    build_association_report(
        attention=group_by_model(list(smk.input.attention)),
        mapping=smk.input.mapping,
        evaluation=smk.input.summary,
        adjustment=smk.input.adjustment,
        truth=smk.input.truth or None,
        cohort={k: smk.input[k] for k in ("subjects", "genetics", "imaging", "splits")},
        gmt=smk.input.gmt,
        outputs=dict(smk.output.items()),
        settings=smk.params.settings,
        seed=smk.params.seed,
    )
