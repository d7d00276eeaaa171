# Stage 1: genotype quality control with PLINK 2 (plink1.9 for the sex check).


rule genotype_qc:
    input:
        bfile_parts("results/genotype_qc/qc"),
        "results/genotype_qc/qc_summary.tsv",
        "results/genotype_qc/pcs.tsv",


rule population_structure:
    input:
        "results/genotype_qc/pcs.tsv",


rule run_genotype_qc:
    input:
        unpack(genotype_qc_inputs),
    output:
        bfile_parts("results/genotype_qc/qc"),
        qc_dosage_files(),
        removed_samples="results/genotype_qc/removed_samples.tsv",
        plink_versions="results/genotype_qc/plink_versions.tsv",
        removed_variants="results/genotype_qc/removed_variants.tsv",
        summary=report(
            "results/genotype_qc/qc_summary.tsv",
            caption="../report/genotype_qc.rst",
            category="1. Genotype QC",
        ),
        plots=report(
            "results/genotype_qc/qc_plots.png",
            caption="../report/genotype_qc.rst",
            category="1. Genotype QC",
        ),
    log:
        "results/logs/genotype_qc/genotype_qc.log",
    benchmark:
        "results/benchmarks/genotype_qc/genotype_qc.tsv"
    conda:
        "../envs/genetics.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        genotypes=cohort_input("bfile"),
        input_format=genotype_format(),
        settings=config["genotype_qc"],
        participants=config["participants"],
    script:
        "../workflow_scripts/genotype_qc.py"


rule genotype_pca:
    input:
        unpack(pca_inputs),
    output:
        pcs="results/genotype_qc/pcs.tsv",
        eigenvalues="results/genotype_qc/pca_eigenvalues.tsv",
        outliers="results/genotype_qc/ancestry_outliers.tsv",
        plot=report(
            "results/genotype_qc/pca_plot.png",
            caption="../report/genotype_pca.rst",
            category="1. Genotype QC",
        ),
    log:
        "results/logs/genotype_qc/genotype_pca.log",
    benchmark:
        "results/benchmarks/genotype_qc/genotype_pca.tsv"
    conda:
        "../envs/genetics.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        prune=config["genotype_qc"]["prune"],
        settings=config["genotype_qc"]["pca"],
        participants=config["participants"],
    script:
        "../workflow_scripts/population_pca.py"
