"""Snakemake adapter: simulate the demo cohort (neuropathx.demo)."""

import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)

from pathlib import Path

from neuropathx.demo import simulate_demo_cohort
from neuropathx.logs import log_to_file

with log_to_file(snakemake.log[0]):  # noqa: F821
    settings = {k: v for k, v in snakemake.params.settings.items() if k != "enabled"}  # noqa: F821
    settings["parcellations"] = tuple(settings["parcellations"])
    simulate_demo_cohort(
        Path(snakemake.output.manifest).parent,  # noqa: F821
        seed=snakemake.params.seed,  # noqa: F821
        **settings,
    )
