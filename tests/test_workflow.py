"""Workflow tests: lint, formatting, dry runs, and the whole pipeline on the tiny demo."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_helpers import REPO, copy_workflow, run_snakemake

pytestmark = pytest.mark.workflow

STAGE_RULES = (
    "demo_cohort",
    "run_genotype_qc",
    "score_pathways",
    "extract_imaging_features",
    "build_cohort",
    "train_neuropathx",
    "train_gmind",
    "train_baseline",
    "evaluate_models",
    "association_report",
    "resolved_config",
)


def test_snakemake_lint_is_clean():
    result = run_snakemake(REPO, "--lint")
    assert result.returncode == 0, result.stdout
    assert "Congratulations, your workflow is in a good condition" in result.stdout


def test_snakefmt_check_is_clean():
    exe = Path(sys.executable).with_name("snakefmt")
    result = subprocess.run([str(exe), "--check", str(REPO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_dry_run_of_default_config_lists_every_stage(tmp_path):
    work = copy_workflow(tmp_path / "wf")
    result = run_snakemake(work, "-n", "--quiet", "rules")
    assert result.returncode == 0, result.stdout
    for rule in STAGE_RULES:
        assert rule in result.stdout, f"{rule} missing from the dry run"
    # 3 NeuroPathX variants + SurvPATH, G-MIND, 4 baselines; 1 repeat x 5 folds
    counts = dict(
        line.split()
        for line in result.stdout.splitlines()
        if len(line.split()) == 2 and line.split()[1].isdigit()
    )
    assert counts.get("train_neuropathx") == "20" and counts.get("train_baseline") == "20"
    assert counts.get("train_gmind") == "5"


def test_disabled_models_are_not_trained(tmp_path):
    work = copy_workflow(tmp_path / "wf")
    off = {m: {"enabled": False} for m in ("neuropathx_no_sp", "gmind", "survpath")}
    (work / "off.yaml").write_text(yaml.safe_dump({"models": off}))
    result = run_snakemake(work, "-n", "--quiet", "rules", "--configfile", "off.yaml")
    assert result.returncode == 0, result.stdout
    counts = dict(
        line.split()
        for line in result.stdout.splitlines()
        if len(line.split()) == 2 and line.split()[1].isdigit()
    )
    assert counts.get("train_neuropathx") == "10" and "train_gmind" not in counts


def test_own_cohort_config_without_inputs_fails_with_a_clear_message(tmp_path):
    work = copy_workflow(tmp_path / "wf")
    (work / "own.yaml").write_text("demo:\n  enabled: false\n")
    result = run_snakemake(work, "-n", "--configfile", "own.yaml")
    assert result.returncode != 0
    for key in ("participants", "bfile", "sumstats", "gene_loc", "gmt", "subjects_dir"):
        assert f"inputs.{key}" in result.stdout
    assert "not set" in result.stdout


def test_invalid_config_is_rejected_before_any_job(tmp_path):
    work = copy_workflow(tmp_path / "wf")
    (work / "bad.yaml").write_text("cv:\n  folds: 1\n")
    result = run_snakemake(work, "-n", "--configfile", "bad.yaml")
    assert result.returncode != 0
    assert "folds" in result.stdout and "minimum" in result.stdout


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The whole pipeline on config/tiny.yaml, once for all the tests below."""
    work = copy_workflow(tmp_path_factory.mktemp("tiny") / "wf")
    result = run_snakemake(work, "--cores", "2", "--configfile", "config/tiny.yaml")
    if result.returncode != 0:
        logs = "\n".join(
            f"== {p}\n{p.read_text()[-3000:]}" for p in (work / "results" / "logs").rglob("*.log")
        )
        pytest.fail(f"tiny demo failed:\n{result.stdout[-6000:]}\n{logs}")
    return work


def _tsv(work, rel):
    return pd.read_csv(work / rel, sep="\t", dtype={"participant_id": str})


def test_tiny_every_stage_produced_its_outputs(tiny_run):
    manifest = (REPO / "tests" / "data" / "tiny_manifest.txt").read_text().split()
    produced = sorted(
        str(p.relative_to(tiny_run))
        for p in (tiny_run / "results").rglob("*")
        if p.is_file()
        and "/demo/freesurfer/" not in str(p)
        and "/logs/" not in str(p)
        and "/benchmarks/" not in str(p)
    )
    assert produced == sorted(manifest)


def test_tiny_every_subject_accounted_for(tiny_run):
    participants = _tsv(tiny_run, "results/demo/participants.tsv")
    subjects = _tsv(tiny_run, "results/cohort/subjects.tsv")
    exclusions = _tsv(tiny_run, "results/cohort/exclusions.tsv")
    assert set(subjects["participant_id"]) | set(exclusions["participant_id"]) >= set(
        participants["participant_id"]
    )
    assert set(subjects["participant_id"]).isdisjoint(exclusions["participant_id"])
    qc = _tsv(tiny_run, "results/genotype_qc/qc_summary.tsv")
    removed = _tsv(tiny_run, "results/genotype_qc/removed_samples.tsv")
    fam = pd.read_csv(tiny_run / "results/genotype_qc/qc.fam", sep=r"\s+", header=None)
    assert len(fam) + len(removed) == len(participants)
    assert qc["samples_removed"].sum() == len(removed)


def test_tiny_tables_are_complete(tiny_run):
    genetics = _tsv(tiny_run, "results/cohort/genetics.tsv")
    imaging = _tsv(tiny_run, "results/cohort/imaging.tsv")
    assert not genetics.isna().any().any() and not imaging.isna().any().any()
    assert imaging.shape[1] == 1 + 68 * 4
    assert genetics.shape[1] >= 3
    assert list(genetics["participant_id"]) == list(imaging["participant_id"])


def test_tiny_training_outputs_per_fold(tiny_run):
    config = yaml.safe_load((tiny_run / "results/config/resolved_config.yaml").read_text())
    splits = _tsv(tiny_run, "results/cohort/splits.tsv")
    disabled = [m for m, spec in config["models"].items() if spec.get("enabled", True) is False]
    assert disabled == ["neuropathx_region"]  # off by default: not trained
    assert not (tiny_run / "results/train/neuropathx_region").exists()
    for model in [*config["models"], *config["baselines"]]:
        if model in disabled:
            continue
        for fold in (1, 2):
            d = tiny_run / f"results/train/{model}/repeat1/fold{fold}"
            metrics = json.loads((d / "metrics.json").read_text())
            for key in ("accuracy", "sensitivity", "specificity", "auc", "f1"):
                assert 0.0 <= metrics[key] <= 1.0, (model, key, metrics[key])
            pred = _tsv(tiny_run, d / "predictions.tsv")
            test_ids = splits.query(f"repeat == 1 and fold == {fold} and role == 'test'")
            assert sorted(pred.loc[pred["split"] == "test", "participant_id"]) == sorted(
                test_ids["participant_id"]
            )
            architecture = config["models"].get(model, {}).get("architecture", "neuropathx")
            if architecture == "gmind":  # feature importance instead of attention
                importance = _tsv(tiny_run, d / "feature_importance.tsv")
                assert importance["keep_probability"].between(0, 1).all()
            elif model in config["models"]:
                with np.load(d / "attention.npz", allow_pickle=False) as att:
                    a = att["attention"]
                    assert a.dtype == np.float16 and a.shape[0] == len(test_ids)
                    assert ((a >= 0) & (a < 1)).all()


def test_tiny_report_and_provenance(tiny_run):
    links = _tsv(tiny_run, "results/report/top_links.tsv")
    assert len(links) == 10 and links["p"].between(0, 1).all()
    assert (links["p_maxT"] >= links["p"]).all()
    links_all = _tsv(tiny_run, "results/report/links_all.tsv")
    assert set(links_all["contrast"]) == {"raw", "pair"}
    truth = _tsv(tiny_run, "results/report/truth_recovery.tsv")
    assert len(truth) >= 2
    check = _tsv(tiny_run, "results/report/truth_check.tsv")
    assert {"univariate_product", "elastic_net_interaction", "neuropathx_no_sp_pair"} <= set(
        check["ranking"]
    )
    report = (tiny_run / "results/report/report.md").read_text()
    assert "Recovery of the planted truth" in report
    versions = _tsv(tiny_run, "results/config/package_versions.tsv").set_index("software")
    assert versions.loc["torch", "version"].startswith("2.13.0")


def test_tiny_rerun_has_nothing_to_do(tiny_run):
    result = run_snakemake(tiny_run, "-n", "--configfile", "config/tiny.yaml")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout


def test_tiny_rerun_of_one_stage(tiny_run):
    scores = (tiny_run / "results/pathway_scores/pathway_scores.tsv").read_bytes()
    result = run_snakemake(
        tiny_run,
        "--cores",
        "2",
        "--configfile",
        "config/tiny.yaml",
        "--forcerun",
        "score_pathways",
        "--until",
        "score_pathways",
    )
    assert result.returncode == 0, result.stdout
    assert (tiny_run / "results/pathway_scores/pathway_scores.tsv").read_bytes() == scores


def test_html_report_bundles_figures(tiny_run):
    result = run_snakemake(tiny_run, "--configfile", "config/tiny.yaml", "--report", "report.zip")
    assert result.returncode == 0, result.stdout
    assert (tiny_run / "report.zip").stat().st_size > 10_000
    shutil.rmtree(tiny_run / ".snakemake" / "log", ignore_errors=True)


def test_destrieux_switch_runs_end_to_end(tmp_path):
    """The demo's Destrieux files feed the whole pipeline on a config switch (148 regions)."""
    work = copy_workflow(tmp_path / "wf")
    (work / "destrieux.yaml").write_text(
        "demo: {parcellations: [aparc, aparc.a2009s]}\n"
        "imaging: {parcellation: aparc.a2009s}\n"
        "models: {neuropathx: {}}\n"
        "baselines: [logreg_concat]\n"
    )
    result = run_snakemake(
        work, "--cores", "2", "--configfile", "config/tiny.yaml", "destrieux.yaml"
    )
    assert result.returncode == 0, result.stdout[-5000:]
    imaging = _tsv(work, "results/cohort/imaging.tsv")
    assert imaging.shape[1] == 1 + 148 * 4
    assert "lh_G_and_S_frontomargin__ThickAvg" in imaging.columns
    truth = _tsv(work, "results/report/truth_recovery.tsv")
    regions = {c.rpartition("__")[0] for c in imaging.columns[1:]}
    assert len(truth) >= 2 and set(truth["region"]) <= regions  # planted in Destrieux regions
    with np.load(work / "results/train/neuropathx/repeat1/fold1/attention.npz") as att:
        assert att["attention"].shape[2] == 148


def test_tiny_harmonisation_accounts_for_the_planted_allele_problems(tiny_run):
    """Every planted swap, strand flip, ambiguous and mismatched record ends where it should."""
    outcome = _tsv(tiny_run, "results/pathway_scores/harmonisation_summary.tsv")
    n = dict(zip(outcome["outcome"], outcome["n"], strict=True))
    planted = _tsv(tiny_run, "results/demo/sumstats_planted.tsv")
    bim = pd.read_csv(tiny_run / "results/genotype_qc/qc.bim", sep="\t", header=None)
    kinds = planted[planted["SNP"].isin(set(bim[1]))].groupby("SNP")["kind"].apply(frozenset)
    assert n["kept_swapped"] == sum(k == {"swapped"} for k in kinds)
    assert n["kept_strand_flipped"] == sum(k == {"strand_flipped"} for k in kinds)
    # a mismatch whose GWAS alleles happen to be A/T or C/G is dropped as ambiguous first
    dropped = n["dropped_ambiguous"] + n["dropped_allele_mismatch"]
    assert dropped == sum(bool(k & {"ambiguous", "mismatch"}) for k in kinds)
    sumstats = _tsv(tiny_run, "results/demo/gwas_sumstats.tsv")
    assert n["dropped_not_in_bim"] == (~sumstats["SNP"].isin(set(bim[1]))).sum()
    assert sum(n.values()) == len(sumstats)


COMPLEMENT = str.maketrans("ACGT", "TGCA")


def _harmonised_by_hand(gwas: pd.DataFrame, bim: pd.DataFrame) -> pd.Series:
    """GWAS effect per .bim ID, signed for the .bim's A1, from the two files alone: match on
    chr:pos, drop A/T and C/G, flip the sign of swapped (and strand-flipped swapped) alleles."""
    where = {(str(c), int(p)): (i, a1, a2) for c, i, p, a1, a2 in bim[[0, 1, 3, 4, 5]].values}
    signed = {}
    for chrom, bp, a1, a2, beta in gwas[["CHR", "BP", "A1", "A2", "BETA"]].values:
        hit = where.get((str(chrom), int(bp)))
        if hit is None or a1.translate(COMPLEMENT) == a2:  # absent, or strand-ambiguous
            continue
        snp, b1, b2 = hit
        flipped = (a1.translate(COMPLEMENT), a2.translate(COMPLEMENT))
        if (a1, a2) == (b1, b2) or flipped == (b1, b2):
            signed[snp] = beta
        elif (a2, a1) == (b1, b2) or flipped[::-1] == (b1, b2):
            signed[snp] = -beta
    return pd.Series(signed, name="BETA")


@pytest.mark.plink
def test_tiny_pathway_scores_equal_plink2_on_weights_derived_by_hand(tiny_run, tmp_path):
    """The pipeline's pathway scores equal plink2 --score on weights built here from the raw
    inputs only (GWAS file, QC'd .bim, genes.loc, .gmt; plink1.9 --clump run by hand), so
    harmonisation, clumping and mapping are under test; signs checked against the .bim."""
    config = yaml.safe_load((tiny_run / "results/config/resolved_config.yaml").read_text())
    ps = config["pathway_scores"]
    assert ps["effect_type"] == "beta" and ps["match_by"] == "chrpos" and ps["drop_ambiguous"]
    assert ps["gene_border_kb"] == {"upstream": 0, "downstream": 0}
    demo, qc = tiny_run / "results/demo", tiny_run / "results/genotype_qc/qc"
    gwas = pd.read_csv(demo / "gwas_sumstats.tsv", sep="\t").rename(
        columns={v: k.upper() if k != "effect" else "BETA" for k, v in ps["columns"].items()}
    )
    bim = pd.read_csv(f"{qc}.bim", sep=r"\s+", header=None, dtype={0: str})
    signed = _harmonised_by_hand(gwas, bim)
    swapped = bim.set_index(1).loc[signed.index, 4] != gwas.set_index("SNP").loc[signed.index, "A1"]
    assert swapped.sum() > 100  # the check means something: many planted swaps and flips
    harmonised = _tsv(tiny_run, "results/pathway_scores/harmonised_sumstats.tsv").set_index("SNP")
    assert sorted(harmonised.index) == sorted(signed.index)
    np.testing.assert_array_equal(harmonised.loc[signed.index, "BETA"], signed)  # signs too
    a1_of = dict(zip(bim[1], bim[4], strict=True))
    assert (harmonised.index.map(a1_of) == harmonised["A1"]).all()  # effect allele: .bim A1

    p_of = gwas.assign(ID=gwas["SNP"]).set_index("ID")["P"]
    candidates = pd.DataFrame({"SNP": signed.index, "P": p_of.loc[signed.index].to_numpy()})
    candidates[candidates["P"] < ps["p_threshold"]].to_csv(
        tmp_path / "c.tsv", sep="\t", index=False
    )
    c = ps["clump"]
    subprocess.run(
        ["plink1.9", "--bfile", str(qc), "--keep-allele-order", "--clump", str(tmp_path / "c.tsv"),
         "--clump-p1", str(c["p1"]), "--clump-p2", str(c["p2"]), "--clump-r2", str(c["r2"]),
         "--clump-kb", str(c["kb"]), "--clump-snp-field", "SNP", "--clump-field", "P",
         "--threads", "1", "--out", str(tmp_path / "clump")],
        check=True, capture_output=True,
    )  # fmt: skip
    index_snps = pd.read_csv(tmp_path / "clump.clumped", sep=r"\s+")["SNP"].tolist()
    clumped = _tsv(tiny_run, "results/pathway_scores/clumped_snps.tsv")
    assert sorted(clumped["SNP"]) == sorted(index_snps)

    genes = pd.read_csv(demo / "genes.loc", sep=r"\s+", header=None, dtype={1: str})
    members = {}
    for line in (demo / "pathways.gmt").read_text().splitlines():
        name, _, *symbols = line.split("\t")
        for symbol in symbols:
            members.setdefault(symbol, set()).add(name)
    pos = bim.set_index(1).loc[index_snps]
    weights = {}
    for snp, chrom, bp in zip(index_snps, pos[0], pos[3], strict=True):
        inside = genes[(genes[1] == chrom) & (genes[2] <= bp) & (bp <= genes[3])]
        for pathway in set().union(*(members.get(g, set()) for g in inside[5])):
            weights[(snp, pathway)] = signed[snp]  # once per pathway, however many genes
    table = pd.Series(weights).unstack(fill_value=0.0)

    scores = _tsv(tiny_run, "results/pathway_scores/pathway_scores.tsv")
    pathways = list(scores.columns[1:])
    assert set(pathways) <= set(table.columns)
    table = table[pathways]
    table.insert(0, "A1", [a1_of[s] for s in table.index])
    table.index.name = "ID"
    table.to_csv(tmp_path / "w.tsv", sep="\t")
    subprocess.run(
        ["plink2", "--bfile", str(qc), "--score", str(tmp_path / "w.tsv"), "1", "2",
         "header-read", "cols=+scoresums", "--score-col-nums", f"3-{len(pathways) + 2}",
         "--threads", "1", "--out", str(tmp_path / "p2")],
        check=True, capture_output=True,
    )  # fmt: skip
    plink = pd.read_csv(tmp_path / "p2.sscore", sep="\t", dtype={"IID": str})
    assert list(plink["IID"]) == list(scores["participant_id"])
    expected = plink[[f"{p}_SUM" for p in pathways]].to_numpy()
    np.testing.assert_allclose(scores[pathways].to_numpy(), expected, rtol=1e-5, atol=1e-5)


def _jobs_to_rerun(work: Path, override: dict | None, tmp_path: Path) -> dict[str, int]:
    """Rule -> job count of a dry run after ``override``, triggered by changed params (and
    what depends on those jobs): the mtime trigger is left out so that the test's outcome
    does not depend on other tests having touched outputs of the same run."""
    args = [
        "-n",
        "--quiet",
        "rules",
        "--rerun-triggers",
        "params",
        "--configfile",
        "config/tiny.yaml",
    ]
    if override:
        extra = tmp_path / "override.yaml"
        extra.write_text(yaml.safe_dump(override))
        args.append(str(extra))
    result = run_snakemake(work, *args)
    assert result.returncode == 0, result.stdout[-3000:]
    if "Nothing to be done" in result.stdout:
        return {}
    table = result.stdout.split("Job stats:")[1].split("total")[0]
    rows = (line.split() for line in table.splitlines())
    return {r[0]: int(r[1]) for r in rows if len(r) == 2 and r[1].isdigit()}


def test_changing_a_config_value_reruns_exactly_the_jobs_it_affects(tiny_run, tmp_path):
    """README: "Changing a config value reruns exactly the jobs whose parameters changed"
    (and what depends on their outputs); resolved_config records every value, so it reruns."""
    assert _jobs_to_rerun(tiny_run, None, tmp_path) == {}
    # 4 attention models (3 NeuroPathX variants, SurvPATH) and G-MIND, x 1 repeat x 2 folds;
    # the linear baselines do not use training.lr
    assert _jobs_to_rerun(tiny_run, {"training": {"lr": 0.002}}, tmp_path) == {
        "train_neuropathx": 8,
        "train_gmind": 2,
        "evaluate_models": 1,
        "association_report": 1,
        "resolved_config": 1,
        "all": 1,
    }
    assert _jobs_to_rerun(tiny_run, {"report": {"top_k": 7}}, tmp_path) == {
        "association_report": 1,
        "resolved_config": 1,
        "all": 1,
    }
