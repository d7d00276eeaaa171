"""Tests of the demo cohort simulator on a tiny cohort: formats, planted mess, determinism."""

from __future__ import annotations

import filecmp
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas_plink import read_plink1_bin

from neuropathx.demo import simulate_demo_cohort
from neuropathx.demo.atlases import region_names
from neuropathx.demo.freesurfer_stats import STATS_COLUMNS
from neuropathx.demo.genomes import COMPLEMENT

TINY = dict(
    n_subjects=60,
    n_discovery=200,
    n_chromosomes=2,
    chromosome_mb=1.0,
    n_genes=40,
    n_pathways=8,
    n_causal_pathways=2,
    seed=7,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    simulate_demo_cohort(out, **TINY)
    return out


def _bim(demo: Path) -> pd.DataFrame:
    return pd.read_csv(
        demo / "genotypes.bim", sep="\t", header=None, names=["CHR", "SNP", "CM", "BP", "A1", "A2"]
    )


def _stats_rows(path: Path) -> tuple[list[str], pd.DataFrame]:
    lines = path.read_text().splitlines()
    comments = [ln for ln in lines if ln.startswith("#")]
    header = next(ln for ln in comments if ln.startswith("# ColHeaders")).split()[2:]
    rows = [ln.split() for ln in lines if not ln.startswith("#")]
    return comments, pd.DataFrame(rows, columns=header)


def _plink2(*args: str) -> None:
    subprocess.run(
        ["plink2", "--threads", "1", "--memory", "1000", *args], check=True, capture_output=True
    )


def test_all_outputs_written(demo):
    expected = [
        "genotypes.bed",
        "genotypes.bim",
        "genotypes.fam",
        "gwas_sumstats.tsv",
        "sumstats_planted.tsv",
        "genes.loc",
        "pathways.gmt",
        "participants.tsv",
        "truth.tsv",
        "truth_aparc.tsv",
        "confounders.tsv",
        "injected_qc_problems.tsv",
        "demo_manifest.json",
        "causal_snps.tsv",
        "planted_latent.tsv",
    ]
    assert all((demo / f).is_file() for f in expected)
    assert not list(demo.glob(".*"))  # no scratch files left behind


def test_fam_and_participants_agree(demo):
    fam = pd.read_csv(demo / "genotypes.fam", sep=" ", header=None)
    part = pd.read_csv(demo / "participants.tsv", sep="\t")
    assert list(part.columns) == ["participant_id", "diagnosis", "age", "sex", "site"]
    assert list(fam[0]) == list(fam[1]) == list(part["participant_id"])
    assert part["participant_id"].iloc[0] == "sub-0001"
    assert (fam[5] == -9).all()
    assert list(fam[4]) == list(part["sex"].map({"M": 1, "F": 2}))
    assert set(part["site"]) == {"site1", "site2", "site3"}
    assert set(part["diagnosis"]) == {"patient", "control"}
    assert abs((part["diagnosis"] == "patient").mean() - 0.45) < 0.03


def test_bim_layout(demo):
    bim = _bim(demo)
    assert bim["SNP"].str.match(r"^rs\d+$").all() and bim["SNP"].is_unique
    assert set(bim["CHR"]) == {1, 2}
    for _, block in bim.groupby("CHR"):
        assert block["BP"].is_monotonic_increasing and block["BP"].is_unique
    assert set(bim["A1"]) | set(bim["A2"]) == set("ACGT")
    assert (bim["A1"] != bim["A2"]).all()
    ambiguous = bim["A1"].map(COMPLEMENT) == bim["A2"]
    assert 0.05 < ambiguous.mean() < 0.30  # strand-ambiguous SNPs exist, as in real data


@pytest.mark.plink
def test_plink2_reads_genotypes_and_counts_a1(demo, tmp_path):
    bim = _bim(demo)
    bim[["SNP", "A1"]].to_csv(tmp_path / "a1.txt", sep="\t", header=False, index=False)
    _plink2(
        "--bfile",
        str(demo / "genotypes"),
        "--freq",
        "--export",
        "A",
        "--export-allele",
        str(tmp_path / "a1.txt"),
        "--out",
        str(tmp_path / "x"),
    )
    freq = pd.read_csv(tmp_path / "x.afreq", sep="\t")
    assert list(freq["ID"]) == list(bim["SNP"])
    assert list(freq["ALT"]) == list(bim["A1"])  # A1 (column 5) is plink2's ALT
    raw = pd.read_csv(tmp_path / "x.raw", sep="\t")
    assert list(raw.columns[6:]) == [f"{s}_{a}" for s, a in zip(bim["SNP"], bim["A1"], strict=True)]
    plink_dosage = raw.iloc[:, 6:].to_numpy(dtype=float)  # samples x SNPs, counts A1
    g = read_plink1_bin(str(demo / "genotypes.bed"), verbose=False, ref="a0")
    pp = g.values  # pandas_plink counts .bim column 5 (its "a0") with ref="a0"
    np.testing.assert_array_equal(np.isnan(pp), np.isnan(plink_dosage))
    ok = ~np.isnan(pp)
    np.testing.assert_array_equal(pp[ok], plink_dosage[ok])
    np.testing.assert_allclose(np.nanmean(pp, axis=0) / 2, freq["ALT_FREQS"], atol=1e-6)
    missing = np.isnan(pp).mean()
    assert 0.01 < missing < 0.05  # ~1% random plus the planted bad samples/SNPs


def test_injected_qc_problems_are_real(demo):
    qc = pd.read_csv(demo / "injected_qc_problems.tsv", sep="\t")
    g = read_plink1_bin(str(demo / "genotypes.bed"), verbose=False, ref="a0")
    x = g.values  # samples x SNPs, A1 (ALT) counts
    ids, snps = list(g.sample.values), list(g.snp.values)
    kinds = qc.groupby("kind")["id"].apply(list)
    for sub in kinds["sample_high_missing"]:
        assert np.isnan(x[ids.index(sub)]).mean() > 0.15
    normal = np.nanmean(x == 1, axis=1).mean()
    for sub in kinds["sample_excess_het"]:
        assert np.nanmean(x[ids.index(sub)] == 1) > normal + 0.1
    for snp in kinds["snp_high_missing"]:
        assert np.isnan(x[:, snps.index(snp)]).mean() > 0.12
    for snp in kinds["snp_hwe_violation"]:
        assert np.nansum(x[:, snps.index(snp)] == 1) == 0
    for snp in kinds["snp_monomorphic"]:
        assert np.nansum(x[:, snps.index(snp)]) == 0
    assert len(kinds["duplicate_sample"]) == 1 and len(kinds["related_sample"]) == 1
    causal = set(pd.read_csv(demo / "causal_snps.tsv", sep="\t")["SNP"])
    assert not causal & set(qc["id"])


@pytest.mark.plink
def test_planted_duplicate_and_relative_found_by_king(demo, tmp_path):
    _plink2("--bfile", str(demo / "genotypes"), "--make-king-table", "--out", str(tmp_path / "k"))
    kin = pd.read_csv(tmp_path / "k.kin0", sep="\t")
    qc = pd.read_csv(demo / "injected_qc_problems.tsv", sep="\t").set_index("kind")

    def kinship(kind: str) -> float:
        a = qc.loc[kind, "id"]
        b = qc.loc[kind, "detail"].split(" of ")[-1].split()[0]
        hit = kin[
            ((kin["IID1"] == a) & (kin["IID2"] == b)) | ((kin["IID1"] == b) & (kin["IID2"] == a))
        ]
        return float(hit["KINSHIP"].iloc[0])

    assert kinship("duplicate_sample") > 0.35
    assert 0.177 < kinship("related_sample") < 0.354


def test_gene_loc_and_gmt(demo):
    genes = pd.read_csv(
        demo / "genes.loc",
        sep=r"\s+",
        header=None,
        names=["id", "chr", "start", "stop", "strand", "symbol"],
    )
    assert len(genes) == 40 and genes["symbol"].is_unique
    assert (genes["stop"] > genes["start"]).all() and set(genes["strand"]) <= {"+", "-"}
    for _, block in genes.groupby("chr"):
        assert (block["start"].to_numpy()[1:] > block["stop"].to_numpy()[:-1]).all()
    gmt = [ln.split("\t") for ln in (demo / "pathways.gmt").read_text().splitlines()]
    assert len(gmt) == 8 and all(row[0].startswith("PATHWAY_") for row in gmt)
    assert all(set(row[2:]) <= set(genes["symbol"]) and len(row) > 4 for row in gmt)


def test_sumstats_planted_mess_is_real(demo):
    ss = pd.read_csv(demo / "gwas_sumstats.tsv", sep="\t")
    assert list(ss.columns) == ["SNP", "CHR", "BP", "A1", "A2", "BETA", "SE", "P", "N"]
    assert (ss["N"] == 200).all() and ss["P"].between(0, 1).all() and (ss["SE"] > 0).all()
    planted = pd.read_csv(demo / "sumstats_planted.tsv", sep="\t")
    bim = _bim(demo).set_index("SNP")
    merged = ss.set_index("SNP").join(bim, rsuffix="_bim", how="left")
    kinds = planted.groupby("kind")["SNP"].apply(set)
    assert set(kinds.index) == {"swapped", "strand_flipped", "ambiguous", "mismatch", "absent"}
    assert kinds["absent"] and not kinds["absent"] & set(bim.index)
    m = merged.drop(index=list(kinds["absent"]))
    comp = lambda s: s.map(COMPLEMENT)  # noqa: E731
    same = (m["A1"] == m["A1_bim"]) & (m["A2"] == m["A2_bim"])
    swapped = (m["A1"] == m["A2_bim"]) & (m["A2"] == m["A1_bim"])
    flipped = (comp(m["A1"]) == m["A1_bim"]) & (comp(m["A2"]) == m["A2_bim"])
    ambiguous = comp(m["A1_bim"]) == m["A2_bim"]
    assert set(m.index[ambiguous]) == kinds["ambiguous"]
    clean = ~ambiguous
    assert set(m.index[clean & swapped]) == kinds["swapped"] - kinds["ambiguous"]
    assert set(m.index[clean & flipped & ~same]) == kinds["strand_flipped"]
    pair = m["A1"] + m["A2"]
    bim_pairs = m["A1_bim"] + m["A2_bim"], m["A2_bim"] + m["A1_bim"]
    comp_pairs = [comp(m["A1_bim"]) + comp(m["A2_bim"]), comp(m["A2_bim"]) + comp(m["A1_bim"])]
    neither = (pair != bim_pairs[0]) & (pair != bim_pairs[1])
    neither &= (pair != comp_pairs[0]) & (pair != comp_pairs[1])
    assert set(m.index[neither]) == kinds["mismatch"]
    assert 0.2 < len(kinds["swapped"]) / len(m) < 0.4
    assert set(m.index[clean & same]).isdisjoint(planted["SNP"])


def test_gwas_points_at_causal_snps(demo):
    ss = pd.read_csv(demo / "gwas_sumstats.tsv", sep="\t").set_index("SNP")
    causal = pd.read_csv(demo / "causal_snps.tsv", sep="\t")
    p = ss["P"]
    assert (p.loc[causal["SNP"]] < 0.05).mean() > 2 * (p < 0.05).mean()


def test_freesurfer_stats_layout(demo):
    regions = region_names("aparc")
    assert len(regions) == 34
    for hemi in ("lh", "rh"):
        path = demo / "freesurfer" / "sub-0003" / "stats" / f"{hemi}.aparc.stats"
        comments, table = _stats_rows(path)
        assert comments[0].startswith("# Table of FreeSurfer cortical parcellation")
        assert f"# hemi {hemi}" in comments and "# subjectname sub-0003" in comments
        assert any(c.startswith("# Measure EstimatedTotalIntraCranialVol, eTIV,") for c in comments)
        assert "# generating_program mris_anatomical_stats" in comments
        assert list(table.columns) == ["StructName", *STATS_COLUMNS]
        assert list(table["StructName"]) == regions
    tables = [
        _stats_rows(d / "stats" / "lh.aparc.stats")[1].set_index("StructName").astype(float)
        for d in sorted((demo / "freesurfer").iterdir())
    ]
    mean = sum(tables) / len(tables)
    assert 6000 < mean.loc["superiorfrontal", "SurfArea"] < 9500
    assert 2.9 < mean.loc["entorhinal", "ThickAvg"] < 3.6
    assert 1.4 < mean.loc["pericalcarine", "ThickAvg"] < 1.9


def test_truth_refers_to_existing_pathways_and_regions(demo):
    """The default (mixed) scenario: one additive pathway with a pair, one coupled pathway."""
    truth = pd.read_csv(demo / "truth.tsv", sep="\t", keep_default_na=False)
    assert list(truth.columns) == ["kind", "pathway", "region", "measure", "effect"]
    pathways = {ln.split("\t")[0] for ln in (demo / "pathways.gmt").read_text().splitlines()}
    regions = {f"{h}_{r}" for h in ("lh", "rh") for r in region_names("aparc")}
    kinds = truth.groupby("kind")
    assert set(kinds.groups) == {"additive_pathway", "additive_region", "coupling", "pair"}
    with_region = truth[truth["kind"] != "additive_pathway"]
    assert set(with_region["region"]) <= regions and with_region["region"].is_unique
    assert set(with_region["measure"]) <= {"ThickAvg", "GrayVol", "SurfArea"}
    assert (truth.loc[truth["kind"] == "additive_pathway", ["region", "measure"]] == "").all().all()
    assert (truth.loc[truth["kind"] == "additive_region", "pathway"] == "").all()
    assert kinds.get_group("pair")["effect"].between(-1.0, -0.5).all()
    assert kinds.get_group("coupling")["effect"].between(0.5, 0.8).all()
    assert kinds.get_group("additive_region")["effect"].between(-0.6, -0.3).all()
    assert (kinds.get_group("additive_pathway")["effect"] > 0).all()
    manifest = json.loads((demo / "demo_manifest.json").read_text())
    named = set(truth["pathway"]) - {""}
    assert named <= pathways and named == set(manifest["causal_pathways"])
    assert manifest["counts"]["subjects"] == 60 and manifest["parameters"]["seed"] == 7
    assert manifest["parameters"]["scenario"] == "mixed"
    coupled = set(kinds.get_group("coupling")["pathway"])
    assert not coupled & set(kinds.get_group("additive_pathway")["pathway"])


def test_confounders_table_lists_the_sizes_in_force(demo, tmp_path):
    conf = pd.read_csv(demo / "confounders.tsv", sep="\t", keep_default_na=False)
    assert list(conf.columns) == ["covariate", "affects", "measure", "key", "effect", "unit"]
    assert dict(zip(conf["key"], conf["effect"], strict=True))["age_dx"] == 0.3
    small = dict(TINY, n_subjects=30, n_discovery=100, n_chromosomes=1, seed=3)
    simulate_demo_cohort(tmp_path, confounders={"enabled": False}, **small)
    off = pd.read_csv(tmp_path / "confounders.tsv", sep="\t")
    assert (off["effect"] == 0).all()
    with pytest.raises(ValueError, match="unknown key"):
        simulate_demo_cohort(tmp_path / "x", confounders={"age": 1.0}, **small)


def test_planted_shift_is_visible_in_patients(demo):
    """Patients' pair measure correlates with their burden (negative effect)."""
    truth = pd.read_csv(demo / "truth.tsv", sep="\t", keep_default_na=False)
    latent = pd.read_csv(demo / "planted_latent.tsv", sep="\t")
    part = pd.read_csv(demo / "participants.tsv", sep="\t")
    patient = (part["diagnosis"] == "patient").to_numpy()
    row = truth[truth["kind"] == "pair"].iloc[0]
    hemi, region = row["region"].split("_", 1)
    vals = np.array(
        [
            float(
                _stats_rows(demo / "freesurfer" / s / "stats" / f"{hemi}.aparc.stats")[1]
                .set_index("StructName")
                .loc[region, row["measure"]]
            )
            for s in part["participant_id"]
        ]
    )
    g = latent[row["pathway"]].to_numpy()
    assert np.corrcoef(vals[patient], g[patient])[0, 1] < -0.3


def test_same_seed_gives_identical_files(demo, tmp_path):
    simulate_demo_cohort(tmp_path, **TINY)
    files = sorted(p.relative_to(demo) for p in demo.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    match, mismatch, errors = filecmp.cmpfiles(demo, tmp_path, files, shallow=False)
    assert not mismatch and not errors


def test_destrieux_and_bad_parcellation(tmp_path):
    small = dict(TINY, n_subjects=30, n_discovery=100, n_chromosomes=1, seed=3)
    simulate_demo_cohort(tmp_path, parcellations=("aparc", "aparc.a2009s"), **small)
    names = region_names("aparc.a2009s")
    assert len(names) == 74 and len(set(names)) == 74
    comments, table = _stats_rows(
        tmp_path / "freesurfer" / "sub-0001" / "stats" / "rh.aparc.a2009s.stats"
    )
    assert list(table["StructName"]) == names
    assert "# AnnotationFile ../label/rh.aparc.a2009s.annot" in comments
    truth = pd.read_csv(tmp_path / "truth_aparc.a2009s.tsv", sep="\t", keep_default_na=False)
    assert set(truth["region"]) - {""} <= {f"{h}_{r}" for h in ("lh", "rh") for r in names}
    first = pd.read_csv(tmp_path / "truth_aparc.tsv", sep="\t", keep_default_na=False)
    additive = first[first["kind"] == "additive_pathway"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        additive, truth[truth["kind"] == "additive_pathway"].reset_index(drop=True)
    )
    with pytest.raises(ValueError, match="parcellations"):
        simulate_demo_cohort(tmp_path / "x", parcellations=("BN_Atlas",), **small)
