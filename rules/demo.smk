# Stage 0: the embedded demo cohort, simulated and written in real file formats.


rule demo_cohort:
    output:
        multiext(f"{DEMO}/genotypes", ".bed", ".bim", ".fam"),
        sumstats=f"{DEMO}/gwas_sumstats.tsv",
        gene_loc=f"{DEMO}/genes.loc",
        gmt=f"{DEMO}/pathways.gmt",
        participants=f"{DEMO}/participants.tsv",
        truth=expand(f"{DEMO}/truth_{{parc}}.tsv", parc=config["demo"]["parcellations"]),
        confounders=f"{DEMO}/confounders.tsv",
        subjects_dir=directory(f"{DEMO}/freesurfer"),
        manifest=f"{DEMO}/demo_manifest.json",
    log:
        "results/logs/demo/demo_cohort.log",
    benchmark:
        "results/benchmarks/demo/demo_cohort.tsv"
    conda:
        "../envs/demo.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        settings=config["demo"],
        seed=config["seed"],
    script:
        "../workflow_scripts/demo_cohort.py"
