"""Genotype targets on a user's own cohort: only the genetics inputs are needed."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_helpers import copy_workflow, run_snakemake

from neuropathx.genetics.plink_io import read_bim, read_fam
from neuropathx.genetics.simulate import write_qc_fixture

pytestmark = pytest.mark.workflow


def _own_cohort(tmp_path, with_participants=True):
    """A scratch workflow, the own-cohort example config and genetics inputs only."""
    work = copy_workflow(tmp_path / "wf")
    data = tmp_path / "data"
    write_qc_fixture(data / "geno", seed=1)
    fam = read_fam(data / "geno.fam")
    inputs = {"bfile": str(data / "geno"), "sumstats": str(data / "gwas.tsv")}
    inputs |= {"gene_loc": str(data / "genes.loc"), "gmt": str(data / "sets.gmt")}
    for name in ("gwas.tsv", "genes.loc", "sets.gmt"):
        (data / name).write_text("x\n")
    if with_participants:
        dx = np.where(np.arange(len(fam)) % 2 == 0, "CN", "AD")
        pd.DataFrame({"participant_id": fam["IID"], "diagnosis": dx}).to_csv(
            data / "participants.tsv", sep="\t", index=False
        )
        inputs["participants"] = str(data / "participants.tsv")
    (work / "inputs.yaml").write_text(yaml.safe_dump({"inputs": inputs}))
    return work, fam


def _configs():
    return ["--configfile", "config/examples/own-cohort.yaml", "inputs.yaml"]


def test_own_cohort_genotype_qc_runs_with_cn_ad_coding(tmp_path):
    work, fam = _own_cohort(tmp_path)
    result = run_snakemake(work, "--cores", "2", "genotype_qc", *_configs())
    assert result.returncode == 0, result.stdout[-4000:]
    summary = pd.read_csv(work / "results/genotype_qc/qc_summary.tsv", sep="\t")
    note = summary.set_index("step").loc["hwe", "note"]
    n_controls_left = int(note.split()[2])
    assert note.endswith("controls") and 0 < n_controls_left <= (len(fam) + 1) // 2
    assert not (work / "results/imaging_features").exists()
    # the PCs for the cohort stage: participant_id then PC1..PC10, one row per QC'd sample
    pcs = pd.read_csv(work / "results/genotype_qc/pcs.tsv", sep="\t")
    qc_fam = read_fam(work / "results/genotype_qc/qc.fam")
    assert list(pcs.columns) == ["participant_id"] + [f"PC{i}" for i in range(1, 11)]
    assert list(pcs["participant_id"]) == list(qc_fam["IID"])


def test_genetics_targets_need_no_imaging_inputs(tmp_path):
    work, _ = _own_cohort(tmp_path)
    result = run_snakemake(work, "-n", "pathway_scores", *_configs())
    assert result.returncode == 0, result.stdout[-4000:]
    assert "score_pathways" in result.stdout and "extract_imaging" not in result.stdout
    # the imaging target still needs its own input (the example's data/freesurfer is absent)
    result = run_snakemake(work, "-n", "imaging_features", *_configs())
    assert result.returncode != 0 and "data/freesurfer" in result.stdout


def test_hwe_in_controls_needs_the_participants_table(tmp_path):
    work, _ = _own_cohort(tmp_path, with_participants=False)
    result = run_snakemake(work, "-n", "genotype_qc", *_configs())
    assert result.returncode != 0 and "data/participants.tsv" in result.stdout
    (work / "blank.yaml").write_text("inputs:\n  participants: ''\n")
    result = run_snakemake(work, "-n", "genotype_qc", *_configs(), "blank.yaml")
    assert result.returncode != 0 and "inputs.participants not set" in result.stdout
    (work / "no_hwe.yaml").write_text(
        "inputs:\n  participants: ''\ngenotype_qc:\n  hwe_controls_only: false\n"
    )
    result = run_snakemake(work, "-n", "genotype_qc", *_configs(), "no_hwe.yaml")
    assert result.returncode == 0, result.stdout[-4000:]


@pytest.mark.plink
def test_pgen_input_runs_genotype_and_pathway_targets(tmp_path):
    """A .pgen cohort: QC on hard calls, scores from the QC'd dosages (qc_dosage.pgen)."""
    work = copy_workflow(tmp_path / "wf")
    data = tmp_path / "data"
    write_qc_fixture(data / "geno", seed=2)
    subprocess.run(
        ["plink2", "--bfile", str(data / "geno"), "--make-pgen", "--out", str(data / "cohort")],
        check=True,
        capture_output=True,
    )
    bim = read_bim(data / "geno.bim")
    gwas = bim[["ID", "CHR", "BP", "A1", "A2"]].rename(columns={"ID": "SNP"})
    rng = np.random.default_rng(0)
    gwas = gwas.assign(
        BETA=rng.normal(0, 0.1, len(gwas)), SE=0.05, P=rng.uniform(0, 0.2, len(gwas))
    )
    gwas.to_csv(data / "gwas.tsv", sep="\t", index=False)
    genes = [(i + 1, c, s, s + 30_000, "+", f"G{c}_{i}") for i, (c, s) in enumerate(
        (c, s) for c in ("1", "2") for s in range(1, 2_000_000, 100_000))]  # fmt: skip
    pd.DataFrame(genes).to_csv(data / "genes.loc", sep="\t", header=False, index=False)
    symbols = [g[5] for g in genes]
    (data / "sets.gmt").write_text(
        "".join(f"PW{k}\td\t" + "\t".join(symbols[k::4]) + "\n" for k in range(4))
    )
    config = {
        "demo": {"enabled": False},
        "inputs": {"bfile": str(data / "cohort"), "sumstats": str(data / "gwas.tsv"),
                   "gene_loc": str(data / "genes.loc"), "gmt": str(data / "sets.gmt")},
        "genotype_qc": {"input_format": "pgen"},
        "pathway_scores": {"min_genes": 1, "p_threshold": 0.2,
                           "clump": {"p1": 0.2, "p2": 0.2}},
    }  # fmt: skip
    (work / "pgen.yaml").write_text(yaml.safe_dump(config))
    result = run_snakemake(work, "--cores", "2", "pathway_scores", "--configfile", "pgen.yaml")
    assert result.returncode == 0, result.stdout[-4000:]
    qc = work / "results/genotype_qc"
    assert (qc / "qc_dosage.pgen").exists()
    psam = pd.read_csv(qc / "qc_dosage.psam", sep="\t", dtype=str)
    scores = pd.read_csv(work / "results/pathway_scores/pathway_scores.tsv", sep="\t", dtype=str)
    assert list(scores["participant_id"]) == list(psam["#IID"] if "#IID" in psam else psam["IID"])
    assert list(scores["participant_id"]) == list(read_fam(qc / "qc.fam")["IID"])
