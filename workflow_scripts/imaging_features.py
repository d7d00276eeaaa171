"""Snakemake adapter: regional imaging features (neuropathx.imaging)."""

import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)

from pathlib import Path

from neuropathx.imaging.stage import build_imaging_features
from neuropathx.logs import log_to_file

with log_to_file(snakemake.log[0]):  # noqa: F821
    build_imaging_features(
        snakemake.input.get("subjects_dir", ""),  # noqa: F821 (volumetric input: none)
        snakemake.input.participants,  # noqa: F821
        Path(snakemake.output.features).parent,  # noqa: F821
        settings=snakemake.params.settings,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
        id_prefix=snakemake.params.id_prefix,  # noqa: F821
    )
