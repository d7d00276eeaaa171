"""Snakemake adapter: train one NeuroPathX variant on one fold (neuropathx.training)."""

import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)
import _pinned_cpu  # noqa: F401  (before torch: the same CPU kernels on every machine)

from pathlib import Path

from neuropathx.cohort import load_cohort
from neuropathx.logs import log_to_file
from neuropathx.splits import fold_roles
from neuropathx.training import write_fold_outputs
from neuropathx.training.ensemble import train_seed_ensemble

smk = snakemake  # noqa: F821
with log_to_file(smk.log[0]):
    cohort = load_cohort(
        smk.input.subjects, smk.input.genetics, smk.input.imaging, smk.input.covariates
    )
    roles = fold_roles(
        smk.input.splits, cohort.subjects, int(smk.wildcards.repeat), int(smk.wildcards.fold)
    )
    ensemble = train_seed_ensemble(
        cohort,
        roles,
        smk.params.model_params,
        seed=smk.params.seed,
        device=smk.params.device,
        kernel=smk.params.kernel,
        threads=smk.threads,
    )
    write_fold_outputs(
        ensemble.result,
        Path(smk.output.metrics).parent,
        extra_attention=ensemble.attention_arrays(),
        extra_checkpoint=ensemble.checkpoint_extra(),
    )
