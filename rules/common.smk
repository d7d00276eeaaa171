# Input helpers shared by all stages: paths resolved from the config, model lists,
# per-rule parameters. No rules here.

DEMO = "results/demo"


def demo_enabled():
    return bool(config["demo"]["enabled"])


def check_inputs():
    """Fail at parse time, naming every missing key, when the user's inputs are incomplete."""
    if demo_enabled():
        return
    empty = [f"inputs.{k}" for k, v in config["inputs"].items() if not v]
    if config["imaging"]["input"] == "volumetric":
        empty = [k for k in empty if k != "inputs.subjects_dir"]
    if empty:
        raise WorkflowError(
            f"config: demo.enabled is false but {', '.join(empty)} not set; point them at "
            "your cohort's files (see config/examples/own-cohort.yaml)"
        )


def demo_truth():
    """The demo's planted pairs for the parcellation the imaging stage reads (else none)."""
    if not demo_enabled():
        return []
    parc = config["imaging"]["parcellation"]
    if parc not in config["demo"]["parcellations"]:
        raise WorkflowError(
            f"config: imaging.parcellation is {parc!r} but the demo writes only "
            f"{config['demo']['parcellations']}; add it to demo.parcellations"
        )
    return f"{DEMO}/truth_{parc}.tsv"


def cohort_input(key):
    """Path of one cohort input file: the demo's when the demo is enabled, else the user's."""
    demo_files = {
        "participants": f"{DEMO}/participants.tsv",
        "bfile": f"{DEMO}/genotypes",
        "sumstats": f"{DEMO}/gwas_sumstats.tsv",
        "gene_loc": f"{DEMO}/genes.loc",
        "gmt": f"{DEMO}/pathways.gmt",
        "subjects_dir": f"{DEMO}/freesurfer",
    }
    return demo_files[key] if demo_enabled() else config["inputs"][key]


def imaging_inputs(wildcards):
    """FreeSurfer SUBJECTS_DIR, or for volumetric input the image table and the atlas."""
    files = {"participants": cohort_input("participants")}
    if config["imaging"]["input"] == "volumetric":
        for key in ("images", "atlas", "atlas_labels"):
            if not config["imaging"][key]:
                raise WorkflowError(
                    f"config: imaging.input is volumetric but imaging.{key} is empty"
                )
            files[key] = config["imaging"][key]
    else:
        files["subjects_dir"] = cohort_input("subjects_dir")
    return files


def bfile_parts(prefix):
    return multiext(prefix, ".bed", ".bim", ".fam")


def raw_bfile():
    return bfile_parts(cohort_input("bfile"))


def neuropathx_models():
    return list(config["models"])


def baseline_models():
    return list(config["baselines"])


def repeats():
    return list(range(1, config["cv"]["repeats"] + 1))


def folds():
    return list(range(1, config["cv"]["folds"] + 1))


def fold_dirs(models):
    return expand(
        "results/train/{model}/repeat{repeat}/fold{fold}",
        model=models,
        repeat=repeats(),
        fold=folds(),
    )


def neuropathx_params(wildcards):
    """The flat parameter dict of one NeuroPathX variant: model + training + overrides."""
    params = dict(config["model"])
    params.update(
        {
            k: v
            for k, v in config["training"].items()
            if k not in ("device", "threads", "gpus", "kernel")
        }
    )
    params.update(config["models"][wildcards.model])
    return params


def report_attention_models():
    """Models whose attention the report reads: the reported one first, then the ablations."""
    return list(dict.fromkeys([config["report"]["model"]] + neuropathx_models()))


def enrichment_gmt():
    """Gene sets for the enrichment of the top pathways (default: the cohort's GMT)."""
    return config["report"]["enrichment_gmt"] or cohort_input("gmt")


def training_gpus():
    """GPUs each training job asks the scheduler for (a CUDA device implies one)."""
    gpus = config["training"].get("gpus", 0)
    if config["training"]["device"] == "cuda":
        gpus = max(gpus, 1)
    return gpus


check_inputs()
