# Input helpers shared by all stages: paths resolved from the config, model lists,
# per-rule parameters. No rules here.

import re

from neuropathx.imaging.stats_paths import stats_files_read  # standard library only

DEMO = "results/demo"
#: participants.tsv as checked against its schema: the table every later stage reads
CHECKED_PARTICIPANTS = "results/cohort/participants_checked.tsv"


def demo_enabled():
    return bool(config["demo"]["enabled"])


def check_inputs(keys):
    """Fail, naming every missing key, when inputs that a requested stage needs are not set.
    Called from input functions, so that a target needs only its own inputs."""
    if demo_enabled():
        return
    if config["imaging"]["input"] == "volumetric":
        keys = [k for k in keys if k != "subjects_dir"]
    empty = [f"inputs.{k}" for k in keys if not config["inputs"][k]]
    if empty:
        raise WorkflowError(
            f"config: demo.enabled is false but {', '.join(empty)} not set; point them at "
            "your cohort's files (see config/examples/own-cohort.yaml)"
        )


def all_inputs_set(wildcards):
    """Input function of the default target: a full run needs every input (none returned)."""
    check_inputs(list(config["inputs"]))
    return []


def required_inputs(*keys, optional=()):
    """Input function of a rule: its cohort files by key, failing (only when the rule is
    needed) with the config keys that are not set; ``bfile`` gives bed/bim/fam entries.
    """

    def files(wildcards):
        check_inputs(list(keys))
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
    """FreeSurfer SUBJECTS_DIR and every stats file the stage reads (so that editing or
    deleting one reruns it), or for volumetric input the image table and the atlas."""
    check_inputs(["participants", "subjects_dir"])  # (subjects_dir not for volumetric)
    files = {"participants": CHECKED_PARTICIPANTS}
    if config["imaging"]["input"] == "volumetric":
        for key in ("images", "atlas", "atlas_labels"):
            if not config["imaging"][key]:
                raise WorkflowError(
                    f"config: imaging.input is volumetric but imaging.{key} is empty"
                )
            files[key] = config["imaging"][key]
    else:
        files["subjects_dir"] = cohort_input("subjects_dir")
        files["stats"] = freesurfer_stats_files()
    return files


def freesurfer_stats_files():
    """Existing ``<subject>/stats/?h.<parcellation>.stats`` (or alias) and ``aseg.stats`` of
    every participant. None for the demo: its SUBJECTS_DIR is one output of the demo rule.
    """
    if demo_enabled():
        return []
    return stats_files_read(
        config["inputs"]["subjects_dir"],
        config["inputs"]["participants"],
        config["imaging"]["parcellation"],
        config["participants"]["id_prefix"],
    )


def participants_input(wildcards):
    """The user's (or the demo's) participants.tsv, for the schema check."""
    check_inputs(["participants"])
    return {"participants": cohort_input("participants")}


def covariate_inputs(wildcards):
    """Covariate sources of the cohort stage: eTIV and other global measures always, the
    genetic PCs only when the covariates name PC1, PC2 ... The cohort needs every input.
    """
    check_inputs(list(config["inputs"]))
    files = {"global_measures": "results/imaging_features/global_measures.tsv"}
    names = config["covariates"]["imaging"] + config["covariates"]["genetics"]
    if any(re.fullmatch(r"PC\d+", n) for n in names):
        files["pcs"] = "results/genotype_qc/pcs.tsv"
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
    """The ``models:`` variants to train (``enabled: false`` leaves one out)."""
    return [m for m, v in config["models"].items() if v.get("enabled", True)]


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


def architecture(model):
    """The network a ``models:`` variant trains (neuropathx, gmind or survpath)."""
    return config["models"][model].get("architecture", "neuropathx")


def attention_models():
    """Variants whose folds write attention.npz (all but G-MIND)."""
    return [m for m in neuropathx_models() if architecture(m) != "gmind"]


def gmind_models():
    """G-MIND variants: they write feature_importance.tsv instead of attention."""
    return [m for m in neuropathx_models() if architecture(m) == "gmind"]


def neuropathx_params(wildcards):
    """The flat parameter dict of one variant: model (NeuroPathX only) + training + overrides."""
    neuropathx = architecture(wildcards.model) == "neuropathx"
    params = dict(config["model"]) if neuropathx else {}
    params.update(
        {
            k: v
            for k, v in config["training"].items()
            if k not in ("device", "threads", "gpus", "kernel")
        }
    )
    params.update(config["models"][wildcards.model])
    params.pop("enabled", None)
    return params


def report_attention_models():
    """Models whose attention the report reads: the reported one first, then the other
    variants with attention (the ablations, SurvPATH) for the truth check."""
    return list(dict.fromkeys([config["report"]["model"]] + attention_models()))


def enrichment_gmt():
    """Gene sets for the enrichment of the top pathways (default: the cohort's GMT)."""
    return config["report"]["enrichment_gmt"] or cohort_input("gmt")


def training_gpus():
    """GPUs each training job asks the scheduler for (a CUDA device implies one)."""
    gpus = config["training"].get("gpus", 0)
    if config["training"]["device"] == "cuda":
        gpus = max(gpus, 1)
    return gpus


def train_env():
    """The training job's conda env: the CUDA build of PyTorch when the config asks for a GPU."""
    return "../envs/train-gpu.yaml" if training_gpus() > 0 else "../envs/train.yaml"
