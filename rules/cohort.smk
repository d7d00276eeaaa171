# Stage 4: join genetics, imaging and participants on IDs; repeated stratified K-fold splits.


rule cohort:
    input:
        "results/cohort/splits.tsv",


rule build_cohort:
    input:
        unpack(required_inputs("participants")),
        genetics="results/pathway_scores/pathway_scores.tsv",
        imaging="results/imaging_features/regional_features.tsv",
        fam="results/genotype_qc/qc.fam",
    output:
        subjects="results/cohort/subjects.tsv",
        genetics="results/cohort/genetics.tsv",
        imaging="results/cohort/imaging.tsv",
        splits="results/cohort/splits.tsv",
        exclusions=report(
            "results/cohort/exclusions.tsv",
            caption="../report/cohort.rst",
            category="4. Cohort",
        ),
    log:
        "results/logs/cohort/cohort.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        participants=config["participants"],
        cv=config["cv"],
        seed=config["seed"],
    script:
        "../workflow_scripts/cohort.py"
