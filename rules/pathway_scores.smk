# Stage 2: GWAS harmonisation, clumping, SNP -> gene -> pathway mapping, pathway scores.


rule pathway_scores:
    input:
        "results/pathway_scores/pathway_scores.tsv",


rule score_pathways:
    input:
        bfile_parts("results/genotype_qc/qc"),
        unpack(pathway_score_inputs),
    output:
        scores="results/pathway_scores/pathway_scores.tsv",
        harmonised="results/pathway_scores/harmonised_sumstats.tsv",
        harmonisation=report(
            "results/pathway_scores/harmonisation_summary.tsv",
            caption="../report/pathway_scores.rst",
            category="2. Pathway scores",
        ),
        clumped="results/pathway_scores/clumped_snps.tsv",
        mapping="results/pathway_scores/snp_gene_pathway.tsv",
        pathways=report(
            "results/pathway_scores/pathway_summary.tsv",
            caption="../report/pathway_scores.rst",
            category="2. Pathway scores",
        ),
    log:
        "results/logs/pathway_scores/pathway_scores.log",
    benchmark:
        "results/benchmarks/pathway_scores/pathway_scores.tsv"
    conda:
        "../envs/genetics.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        settings=config["pathway_scores"],
    script:
        "../workflow_scripts/pathway_scores.py"
