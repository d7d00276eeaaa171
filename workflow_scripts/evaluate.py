"""Snakemake adapter: summarise all folds of all models (neuropathx.evaluation)."""

import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)

from neuropathx.evaluation import evaluate_models
from neuropathx.logs import log_to_file

with log_to_file(snakemake.log[0]):  # noqa: F821
    evaluate_models(
        list(snakemake.input.metrics),  # noqa: F821
        reference=snakemake.params.reference,  # noqa: F821
        outputs=dict(snakemake.output.items()),  # noqa: F821
    )
