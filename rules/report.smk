# Stage 7: attention-based region-pathway association report (and, for the demo,
# recovery of the planted truth); plus the resolved config and package versions.


rule report:
    input:
        "results/report/top_links.tsv",
        "results/report/report.md",


rule association_report:
    input:
        attention=expand("{d}/attention.npz", d=fold_dirs(report_attention_models())),
        mapping="results/pathway_scores/snp_gene_pathway.tsv",
        summary="results/evaluate/summary.tsv",
        adjustment="results/evaluate/adjustment.md",
        truth=demo_truth(),
        subjects="results/cohort/subjects.tsv",
        genetics="results/cohort/genetics.tsv",
        imaging="results/cohort/imaging.tsv",
        splits="results/cohort/splits.tsv",
        gmt=enrichment_gmt(),
    output:
        patients="results/report/attention_patients.tsv",
        controls="results/report/attention_controls.tsv",
        links=report(
            "results/report/top_links.tsv",
            caption="../report/links.rst",
            category="6. Region-pathway associations",
        ),
        heatmap=report(
            "results/report/attention_heatmap.png",
            caption="../report/links.rst",
            category="6. Region-pathway associations",
        ),
        chord=report(
            "results/report/top_links_chord.png",
            caption="../report/links.rst",
            category="6. Region-pathway associations",
        ),
        links_all="results/report/links_all.tsv",
        truth="results/report/truth_recovery.tsv",
        truth_check="results/report/truth_check.tsv",
        enrichment="results/report/enrichment.tsv",
        enrichment_plot=report(
            "results/report/enrichment.png",
            caption="../report/links.rst",
            category="6. Region-pathway associations",
        ),
        markdown="results/report/report.md",
    log:
        "results/logs/report/report.log",
    benchmark:
        "results/benchmarks/report/report.tsv"
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        settings=config["report"],
        seed=config["seed"],
    script:
        "../workflow_scripts/report.py"


rule resolved_config:
    input:
        plink_versions="results/genotype_qc/plink_versions.tsv",
    output:
        config="results/config/resolved_config.yaml",
        versions="results/config/package_versions.tsv",
    log:
        "results/logs/config/resolved_config.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=config,
    script:
        "../workflow_scripts/resolved_config.py"
