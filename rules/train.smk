# Stage 5: one training job per (model, repeat, fold); NeuroPathX variants, the neural
# baselines G-MIND (feature importance, no attention) and SurvPATH, and the linear baselines.


rule train:
    input:
        expand("{d}/metrics.json", d=fold_dirs(neuropathx_models() + baseline_models())),


rule train_neuropathx:
    input:
        subjects="results/cohort/subjects.tsv",
        genetics="results/cohort/genetics.tsv",
        imaging="results/cohort/imaging.tsv",
        splits="results/cohort/splits.tsv",
        covariates="results/cohort/covariates.tsv",
        covariate_spec="results/cohort/covariates.json",
    output:
        checkpoint="results/train/{model}/repeat{repeat}/fold{fold}/model.pt",
        predictions="results/train/{model}/repeat{repeat}/fold{fold}/predictions.tsv",
        metrics="results/train/{model}/repeat{repeat}/fold{fold}/metrics.json",
        history="results/train/{model}/repeat{repeat}/fold{fold}/history.tsv",
        attention="results/train/{model}/repeat{repeat}/fold{fold}/attention.npz",
    log:
        "results/logs/train/{model}/repeat{repeat}_fold{fold}.log",
    benchmark:
        "results/benchmarks/train/{model}/repeat{repeat}_fold{fold}.tsv"
    wildcard_constraints:
        model="|".join(attention_models()),
        repeat=r"\d+",
        fold=r"\d+",
    conda:
        train_env()
    threads: config["training"]["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=training_gpus(),
    params:
        model_params=neuropathx_params,
        device=config["training"]["device"],
        kernel=config["training"]["kernel"],
        seed=config["seed"],
    script:
        "../workflow_scripts/train_neuropathx.py"


rule train_gmind:
    input:
        subjects="results/cohort/subjects.tsv",
        genetics="results/cohort/genetics.tsv",
        imaging="results/cohort/imaging.tsv",
        splits="results/cohort/splits.tsv",
        covariates="results/cohort/covariates.tsv",
        covariate_spec="results/cohort/covariates.json",
    output:
        checkpoint="results/train/{model}/repeat{repeat}/fold{fold}/model.pt",
        predictions="results/train/{model}/repeat{repeat}/fold{fold}/predictions.tsv",
        metrics="results/train/{model}/repeat{repeat}/fold{fold}/metrics.json",
        history="results/train/{model}/repeat{repeat}/fold{fold}/history.tsv",
        importance="results/train/{model}/repeat{repeat}/fold{fold}/feature_importance.tsv",
    log:
        "results/logs/train/{model}/repeat{repeat}_fold{fold}.log",
    benchmark:
        "results/benchmarks/train/{model}/repeat{repeat}_fold{fold}.tsv"
    wildcard_constraints:
        model="|".join(gmind_models()) or "no_gmind",
        repeat=r"\d+",
        fold=r"\d+",
    conda:
        train_env()
    threads: config["training"]["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=training_gpus(),
    params:
        model_params=neuropathx_params,
        device=config["training"]["device"],
        kernel=config["training"]["kernel"],
        seed=config["seed"],
    script:
        "../workflow_scripts/train_neuropathx.py"


rule train_baseline:
    input:
        subjects="results/cohort/subjects.tsv",
        genetics="results/cohort/genetics.tsv",
        imaging="results/cohort/imaging.tsv",
        splits="results/cohort/splits.tsv",
        covariates="results/cohort/covariates.tsv",
        covariate_spec="results/cohort/covariates.json",
    output:
        predictions="results/train/{model}/repeat{repeat}/fold{fold}/predictions.tsv",
        metrics="results/train/{model}/repeat{repeat}/fold{fold}/metrics.json",
    log:
        "results/logs/train/{model}/repeat{repeat}_fold{fold}.log",
    wildcard_constraints:
        model="|".join(baseline_models()) or "no_baselines",
        repeat=r"\d+",
        fold=r"\d+",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        seed=config["seed"],
    script:
        "../workflow_scripts/train_baseline.py"
