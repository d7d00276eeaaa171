# NeuroPathX imaging-genetics workflow: raw genotypes, GWAS statistics and FreeSurfer
# outputs in; per-fold NeuroPathX models and region-pathway association reports out.
# This file only wires; each stage lives in rules/<stage>.smk, its logic in neuropathx/.

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


validate(config, "schemas/config.schema.yaml")


include: "rules/common.smk"
include: "rules/demo.smk"
include: "rules/genotype_qc.smk"
include: "rules/pathway_scores.smk"
include: "rules/imaging_features.smk"
include: "rules/cohort.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        all_inputs_set,
        rules.genotype_qc.input,
        rules.pathway_scores.input,
        rules.imaging_features.input,
        rules.cohort.input,
        rules.train.input,
        rules.evaluate.input,
        rules.report.input,
        "results/config/resolved_config.yaml",
