"""Unit tests of the demo simulator's parts: .bed packing, OLS GWAS, genes, planted science."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neuropathx.demo import write_aparc_stats
from neuropathx.demo.annotation import simulate_genes
from neuropathx.demo.architecture import latent_sanity_auc, liability, pathway_burdens
from neuropathx.demo.freesurfer_stats import STATS_COLUMNS, simulate_regional_measures
from neuropathx.demo.plink_files import pack_bed, write_plink1
from neuropathx.demo.scenarios import plant_regional_effects
from neuropathx.demo.sumstats import gwas_ols


def test_pack_bed_hand_computed():
    # one SNP, five samples: A1 counts 2, 1, 0, missing, 2 -> codes 00 10 11 01 | 00
    packed = pack_bed(np.array([[2, 1, 0, -1, 2]], dtype=np.int8))
    assert packed == bytes([0x6C, 0x1B, 0x01, 0b01111000, 0b00000000])


@pytest.mark.plink
def test_bed_round_trips_through_plink2(tmp_path, rng):
    dosage = rng.integers(-1, 3, size=(7, 9)).astype(np.int8)
    ids = [f"s{i}" for i in range(9)]
    bim = pd.DataFrame(
        {
            "CHR": 1,
            "SNP": [f"rs{i}" for i in range(7)],
            "CM": 0,
            "BP": np.arange(1, 8) * 100,
            "A1": "A",
            "A2": "G",
        }
    )
    fam = pd.DataFrame({"FID": ids, "IID": ids, "PAT": 0, "MAT": 0, "SEX": 1, "PHENO": -9})
    write_plink1(tmp_path / "t", dosage, bim, fam)
    bim[["SNP", "A1"]].to_csv(tmp_path / "a1.txt", sep="\t", header=False, index=False)
    subprocess.run(
        [
            "plink2",
            "--threads",
            "1",
            "--bfile",
            str(tmp_path / "t"),
            "--export",
            "A",
            "--export-allele",
            str(tmp_path / "a1.txt"),
            "--out",
            str(tmp_path / "t"),
        ],
        check=True,
        capture_output=True,
    )
    raw = pd.read_csv(tmp_path / "t.raw", sep="\t").iloc[:, 6:].to_numpy(dtype=float)
    expected = np.where(dosage.T < 0, np.nan, dosage.T)
    np.testing.assert_array_equal(raw, expected)


def test_write_plink1_rejects_shape_mismatch(tmp_path):
    fam = pd.DataFrame({"FID": ["a"], "IID": ["a"], "PAT": 0, "MAT": 0, "SEX": 1, "PHENO": -9})
    with pytest.raises(ValueError, match="dosage shape"):
        write_plink1(tmp_path / "t", np.zeros((2, 2), np.int8), pd.DataFrame(index=[0]), fam)


def test_gwas_ols_matches_scipy_linregress(rng):
    x = rng.integers(0, 3, size=(5, 150)).astype(np.int8)
    y = 0.3 * x[2] + rng.normal(size=150)
    beta, se, p = gwas_ols(x, y, chunk=2)
    for s in range(5):
        ref = stats.linregress(x[s].astype(float), y)
        assert beta[s] == pytest.approx(ref.slope)
        assert se[s] == pytest.approx(ref.stderr)
        assert p[s] == pytest.approx(ref.pvalue)


def test_simulated_genes_have_realistic_sizes(rng):
    genes = simulate_genes(400, 4, 5_000_000, rng)
    length = genes["stop"] - genes["start"]
    assert len(genes) == 400 and genes["symbol"].iloc[0] == "GENE0001"
    assert length.between(9_000, 101_000).all()
    for _, block in genes.groupby("chr"):
        assert (block["start"].to_numpy()[1:] > block["stop"].to_numpy()[:-1]).all()
        assert block["stop"].max() <= 5_000_000


def test_write_aparc_stats_round_trip_and_errors(tmp_path, rng):
    one = pd.DataFrame({"eTIV": [1.5e6], "age": [60.0], "sex": ["F"], "site_index": [0]})
    values = simulate_regional_measures("aparc", "lh", one, rng)[0]
    from neuropathx.demo.atlases import region_names

    table = pd.DataFrame(values, columns=STATS_COLUMNS, index=pd.Index(region_names("aparc")))
    path = tmp_path / "lh.aparc.stats"
    write_aparc_stats(path, "sub-01", "lh", table, {"eTIV": 1.5e6, "BrainSegVol": 1.1e6})
    text = path.read_text()
    assert (
        "# Measure EstimatedTotalIntraCranialVol, eTIV, Estimated Total Intracranial "
        "Volume, 1500000.000000, mm^3" in text
    )
    assert "# Measure BrainSeg, BrainSegVol, Brain Segmentation Volume, 1100000.000000" in text
    rows = [ln.split() for ln in text.splitlines() if not ln.startswith("#")]
    back = pd.DataFrame(rows).set_index(0).astype(float)
    np.testing.assert_allclose(back[4].to_numpy(), table["ThickAvg"], atol=5e-4)
    np.testing.assert_allclose(back[2].to_numpy(), table["SurfArea"], atol=0.5)
    with pytest.raises(ValueError, match="eTIV"):
        write_aparc_stats(path, "sub-01", "lh", table, {})
    with pytest.raises(ValueError, match="hemi"):
        write_aparc_stats(path, "sub-01", "both", table, {"eTIV": 1.0})
    with pytest.raises(ValueError, match="lacks column"):
        write_aparc_stats(path, "sub-01", "lh", table.drop(columns="CurvInd"), {"eTIV": 1.0})


def test_planted_latent_variables_are_learnable(rng):
    """At demo size (600 subjects), burdens + planted regions reach AUC ~0.8 and fusion wins."""
    n, n_snps = 600, 40
    dosage = rng.binomial(2, rng.uniform(0.05, 0.5, n_snps)[:, None], size=(n_snps, n))
    causal = pd.DataFrame(
        {
            "pathway": np.repeat(["P1", "P2", "P3", "P4"], 10),
            "snp_index": np.arange(n_snps),
            "beta": rng.normal(size=n_snps),
        }
    )
    pathways = ["P1", "P2", "P3", "P4"]
    g = pathway_burdens(dosage, causal, pathways)
    np.testing.assert_allclose(g.std(0), 1)
    np.testing.assert_allclose(g.mean(0), 0, atol=1e-9)
    liab = liability(g, np.ones(4), 0.35, rng)
    patients = liab >= np.quantile(liab, 0.55)
    cov = pd.DataFrame(
        {
            "eTIV": rng.normal(1.5e6, 1.3e5, n),
            "age": rng.normal(62, 9, n),
            "sex": rng.choice(["M", "F"], n),
            "site_index": rng.integers(0, 3, n),
        }
    )
    values = {h: simulate_regional_measures("aparc", h, cov, rng) for h in ("lh", "rh")}
    truth = pd.DataFrame(
        {
            "kind": "pair",
            "pathway": ["P1", "P1", "P2", "P2", "P3", "P3", "P4", "P4"],
            "region": [
                "lh_superiorfrontal",
                "rh_insula",
                "lh_entorhinal",
                "rh_precuneus",
                "lh_fusiform",
                "rh_lingual",
                "lh_cuneus",
                "rh_bankssts",
            ],
            "measure": ["ThickAvg", "GrayVol", "ThickAvg", "SurfArea"] * 2,
            "effect": [-0.75] * 8,
        }
    )
    from neuropathx.demo.atlases import region_names

    planted = plant_regional_effects(
        values, truth, region_names("aparc"), STATS_COLUMNS, g, pathways, patients
    )
    pair = np.array([pathways.index(p) for p in truth["pathway"]])
    y = patients.astype(int)
    auc = latent_sanity_auc(g, planted, pair, y)
    assert 0.75 < auc < 0.97
    genetics_only = stats.mannwhitneyu(g.sum(1)[patients], g.sum(1)[~patients]).statistic
    assert genetics_only / (patients.sum() * (~patients).sum()) < auc - 0.03
    # patients only: the planted measures track their burden with the planted sign
    r_pat = [np.corrcoef(planted[patients, k], g[patients, pair[k]])[0, 1] for k in range(8)]
    r_con = [np.corrcoef(planted[~patients, k], g[~patients, pair[k]])[0, 1] for k in range(8)]
    assert np.mean(r_pat) < -0.35 and abs(np.mean(r_con)) < 0.1
