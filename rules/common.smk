# Input helpers shared by all stages: paths resolved from the config, model lists,
# per-rule parameters. No rules here.

DEMO = "results/demo"


def demo_enabled():
    return bool(config["demo"]["enabled"])


def check_inputs():
    """Fail, naming every missing key, when the imaging stage's inputs are incomplete.

    Called when the DAG needs the imaging rule; the genetics inputs are checked by the
    rules that read them (``required_inputs``), so ``genotype_qc`` and ``pathway_scores``
    run with the genetics inputs only."""
    if demo_enabled():
        return
    genetics = {"bfile", "sumstats", "gene_loc", "gmt"}
    empty = [
        f"inputs.{k}"
        for k, v in config["inputs"].items()
        if not v and k not in genetics
    ]
    if config["imaging"]["input"] == "volumetric":
        empty = [k for k in empty if k != "inputs.subjects_dir"]
    if empty:
        raise WorkflowError(
            f"config: demo.enabled is false but {', '.join(empty)} not set; point them at "
            "your cohort's files (see config/examples/own-cohort.yaml)"
        )


def required_inputs(*keys, optional=()):
    """Input function of a rule: its cohort files by key, failing (only when the rule is
    needed) with the config keys that are not set; ``bfile`` gives bed/bim/fam entries.
    """

    def files(wildcards):
        missing = [f"inputs.{k}" for k in keys if not cohort_input(k)]
        if missing:
            raise WorkflowError(
                f"config: demo.enabled is false but {', '.join(missing)} not set; point "
                "them at your cohort's files (see config/examples/own-cohort.yaml)"
            )
        out = {}
        for key in dict.fromkeys([*keys, *(k for k in optional if cohort_input(k))]):
            if key == "bfile":
                out.update(genotype_files(cohort_input(key)))
            else:
                out[key] = cohort_input(key)
        return out

    return files


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
    check_inputs()
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


def genotype_format():
    """Layout of the raw genotypes: the demo writes .bed; else genotype_qc.input_format."""
    return "bed" if demo_enabled() else config["genotype_qc"]["input_format"]


def genotype_files(path):
    """The raw genotype files by name: .bed/.bim/.fam, .pgen/.pvar/.psam, a VCF or a BGEN."""
    fmt = genotype_format()
    if fmt == "bed":
        return dict(zip(("bed", "bim", "fam"), bfile_parts(path)))
    if fmt == "pgen":
        return dict(
            zip(("pgen", "pvar", "psam"), multiext(path, ".pgen", ".pvar", ".psam"))
        )
    files = {"genotypes": path}
    if fmt == "bgen":
        sample = config["genotype_qc"]["bgen_sample"]
        files["sample"] = sample or path.removesuffix(".bgen") + ".sample"
    return files


def qc_dosage_files():
    """QC'd dosages written beside the hard calls when the input is imputed (not .bed)."""
    if genotype_format() == "bed":
        return []
    return multiext("results/genotype_qc/qc_dosage", ".pgen", ".pvar", ".psam")


def pathway_score_inputs(wildcards):
    """GWAS, gene locations, gene sets; the QC'd dosages when the input has them."""
    files = required_inputs("sumstats", "gene_loc", "gmt")(wildcards)
    if qc_dosage_files():
        files["dosage"] = "results/genotype_qc/qc_dosage.pgen"
    return files


def genotype_qc_inputs(wildcards):
    """Genotypes; the participants table too (required when HWE is tested in controls)."""
    needs = ["participants"] if config["genotype_qc"]["hwe_controls_only"] else []
    return required_inputs("bfile", *needs, optional=["participants"])(wildcards)


def pca_inputs(wildcards):
    """The QC'd genotypes; the participants table too when set (colours the PCA plot)."""
    qc = dict(zip(("bed", "bim", "fam"), bfile_parts("results/genotype_qc/qc")))
    return qc | required_inputs(optional=["participants"])(wildcards)


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


def training_gpus():
    """GPUs each training job asks the scheduler for (a CUDA device implies one)."""
    gpus = config["training"].get("gpus", 0)
    if config["training"]["device"] == "cuda":
        gpus = max(gpus, 1)
    return gpus
