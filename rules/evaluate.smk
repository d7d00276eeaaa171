# Stage 6: all folds of all models -> paper-style table with corrected resampled t-tests
# against the reference model fixed in config, box plots.


rule evaluate:
    input:
        "results/evaluate/summary.tsv",


rule evaluate_models:
    input:
        metrics=expand(
            "{d}/metrics.json", d=fold_dirs(neuropathx_models() + baseline_models())
        ),
    output:
        folds="results/evaluate/fold_metrics.tsv",
        summary=report(
            "results/evaluate/summary.tsv",
            caption="../report/evaluate.rst",
            category="5. Evaluation",
        ),
        markdown="results/evaluate/summary.md",
        adjustment="results/evaluate/adjustment.md",
        boxplot=report(
            "results/evaluate/metrics_boxplot.png",
            caption="../report/evaluate.rst",
            category="5. Evaluation",
        ),
    log:
        "results/logs/evaluate/evaluate.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        reference=config["evaluation"]["reference_model"],
    script:
        "../workflow_scripts/evaluate.py"
