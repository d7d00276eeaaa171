"""Snakemake adapter: fit one baseline on one fold (neuropathx.models.baselines)."""

import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)

from pathlib import Path

from neuropathx.cohort import load_cohort
from neuropathx.logs import log_to_file
from neuropathx.models.baselines import train_baseline_fold, write_baseline_outputs
from neuropathx.splits import fold_roles

smk = snakemake  # noqa: F821
with log_to_file(smk.log[0]):
    cohort = load_cohort(
        smk.input.subjects, smk.input.genetics, smk.input.imaging, smk.input.covariates
    )
    roles = fold_roles(
        smk.input.splits, cohort.subjects, int(smk.wildcards.repeat), int(smk.wildcards.fold)
    )
    result = train_baseline_fold(cohort, roles, smk.wildcards.model, seed=smk.params.seed)
    write_baseline_outputs(result, Path(smk.output.metrics).parent)
