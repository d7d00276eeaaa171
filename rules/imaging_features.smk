# Stage 3: regional imaging features from FreeSurfer stats (or NIfTI images + atlas).


rule imaging_features:
    input:
        "results/imaging_features/regional_features.tsv",


rule extract_imaging_features:
    input:
        unpack(imaging_inputs),
    output:
        features="results/imaging_features/regional_features.tsv",
        global_measures="results/imaging_features/global_measures.tsv",
        qc=report(
            "results/imaging_features/imaging_qc.tsv",
            caption="../report/imaging_features.rst",
            category="3. Imaging features",
        ),
        excluded="results/imaging_features/excluded_subjects.tsv",
        excluded_regions="results/imaging_features/excluded_regions.tsv",
        aparcstats2table=directory("results/imaging_features/aparcstats2table"),
    log:
        "results/logs/imaging_features/imaging_features.log",
    benchmark:
        "results/benchmarks/imaging_features/imaging_features.tsv"
    conda:
        "../envs/imaging.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        settings=config["imaging"],
        id_prefix=config["participants"]["id_prefix"],
    script:
        "../workflow_scripts/imaging_features.py"
