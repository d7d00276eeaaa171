"""Pathway scoring against plink2 --score (the oracle) and against numpy by hand."""

import subprocess

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from neuropathx.genetics.plink_io import open_fileset, write_fileset
from neuropathx.genetics.scoring import score_matrix, score_pathways
from neuropathx.genetics.simulate import default_tables, random_genotypes

N_SAMPLES, N_SNPS, N_PATHWAYS = 61, 50, 4  # plink2 wants >= 50 samples to impute


@pytest.fixture
def scored(tmp_path):
    rng = np.random.default_rng(7)
    geno = random_genotypes(N_SAMPLES, N_SNPS, rng)
    geno[rng.random(geno.shape) < 0.08] = np.nan
    bim, fam = default_tables(N_SAMPLES, N_SNPS)
    write_fileset(tmp_path / "g", geno, bim, fam)
    weights = np.round(rng.normal(0, 0.3, (N_SNPS, N_PATHWAYS)), 4)
    weights[rng.random(weights.shape) < 0.6] = 0.0
    return tmp_path, geno, bim, weights


def _plink2_sums(tmp_path, bim, weights, extra=""):
    table = pd.DataFrame(weights, columns=[f"PW{j}" for j in range(N_PATHWAYS)])
    table.insert(0, "A1", bim["A1"].to_numpy())
    table.insert(0, "ID", bim["ID"].to_numpy())
    table.to_csv(tmp_path / "w.tsv", sep="\t", index=False)
    cmd = (
        f"plink2 --bfile {tmp_path / 'g'} --score {tmp_path / 'w.tsv'} 1 2 header-read "
        f"cols=+scoresums {extra} --score-col-nums 3-{N_PATHWAYS + 2} --threads 1 "
        f"--out {tmp_path / 'p2'}"
    )
    subprocess.run(cmd, shell=True, check=True, capture_output=True)
    out = pd.read_csv(tmp_path / "p2.sscore", sep="\t")
    return out[[f"PW{j}_SUM" for j in range(N_PATHWAYS)]].to_numpy()


@pytest.mark.plink
def test_mean_imputation_matches_plink2(scored):
    tmp_path, _, bim, weights = scored
    ours = score_matrix(open_fileset(tmp_path / "g"), sp.csr_matrix(weights), chunk_size=16)
    ref = _plink2_sums(tmp_path, bim, weights)
    # plink2 prints 6 significant digits
    np.testing.assert_allclose(ours, ref, rtol=5e-6, atol=1e-6)


@pytest.mark.plink
def test_zero_imputation_matches_plink2(scored):
    tmp_path, _, bim, weights = scored
    ours = score_matrix(open_fileset(tmp_path / "g"), sp.csr_matrix(weights), missing_mode="zero")
    ref = _plink2_sums(tmp_path, bim, weights, extra="no-mean-imputation")
    np.testing.assert_allclose(ours, ref, rtol=5e-6, atol=1e-6)


def test_scores_by_hand_and_threads(scored):
    tmp_path, geno, bim, weights = scored
    mean = np.nanmean(geno, axis=1, keepdims=True)
    filled = np.where(np.isnan(geno), mean, geno)
    expected = filled.T @ weights
    fs = open_fileset(tmp_path / "g")
    ours = score_matrix(fs, sp.csr_matrix(weights), chunk_size=8, threads=2)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)
    # long-format weights -> named table with participant_id first
    long = pd.DataFrame(
        [
            (bim["ID"][s], f"PW{j}", weights[s, j])
            for s, j in zip(*np.nonzero(weights), strict=True)
        ],
        columns=["SNP", "pathway", "BETA"],
    )
    table = score_pathways(fs, long[long["pathway"].isin(["PW2", "PW0"])], ["PW2", "PW0"])
    assert list(table.columns) == ["participant_id", "PW2", "PW0"]
    assert table["participant_id"].iloc[0] == "sub-001"
    np.testing.assert_allclose(table[["PW2", "PW0"]].to_numpy(), expected[:, [2, 0]], atol=1e-12)


def test_non_founders_are_left_out_of_the_imputation_frequency(scored):
    tmp_path, geno, bim, weights = scored
    fam = pd.read_csv(tmp_path / "g.fam", sep="\t", header=None, dtype=str)
    fam.iloc[0, 2] = fam.iloc[1, 1]  # sample 1 is the father of sample 0
    fam.to_csv(tmp_path / "g.fam", sep="\t", header=False, index=False)
    mean = np.nanmean(geno[:, 1:], axis=1, keepdims=True)
    expected = np.where(np.isnan(geno), mean, geno).T @ weights
    ours = score_matrix(open_fileset(tmp_path / "g"), sp.csr_matrix(weights))
    np.testing.assert_allclose(ours, expected, atol=1e-12)


# Regression tests for mutants that survived (tests/mutation/SUMMARY.md).


def _few_observed(tmp_path):
    """6 samples x 3 SNPs: SNP 0 observed in one sample only (dosage 2), SNP 1 in none,
    SNP 2 complete; weights (SNP x pathway) with an empty last pathway."""
    nan = np.nan
    geno = np.array([[2, nan, nan, nan, nan, nan], [nan] * 6, [0, 1, 2, 1, 0, 2]], dtype=float)
    bim, fam = default_tables(6, 3)
    write_fileset(tmp_path / "f", geno, bim, fam)
    return open_fileset(tmp_path / "f"), bim


def test_imputation_with_one_and_with_no_observed_genotype(tmp_path):
    fs, _ = _few_observed(tmp_path)
    weights = sp.csr_matrix(np.array([[1.0], [10.0], [0.0]]))
    # SNP 0: mean dosage of the one observed genotype (2); SNP 1: none observed, counts 0
    np.testing.assert_array_equal(score_matrix(fs, weights)[:, 0], [2.0] * 6)
    np.testing.assert_array_equal(score_matrix(fs, weights, missing_mode="zero")[:, 0],
                                  [2.0, 0, 0, 0, 0, 0])  # fmt: skip


def test_score_pathways_passes_the_missing_mode_and_keeps_empty_pathways(tmp_path):
    fs, bim = _few_observed(tmp_path)
    weights = pd.DataFrame({"SNP": [bim["ID"][0], bim["ID"][2]], "pathway": "PA", "BETA": 1.0})
    table = score_pathways(fs, weights, ["PA", "EMPTY"], missing_mode="zero")
    assert table["PA"].tolist() == [2.0, 1.0, 2.0, 1.0, 0.0, 2.0]  # missing counted as 0
    assert table["EMPTY"].tolist() == [0.0] * 6  # a pathway without weights scores 0


def test_weights_naming_unknown_snps_or_pathways_are_an_error(tmp_path):
    fs, bim = _few_observed(tmp_path)
    message = "^weights name SNPs or pathways absent from the fileset / pathway list$"
    unknown_snp = pd.DataFrame({"SNP": ["rs_absent"], "pathway": ["PA"], "BETA": [1.0]})
    with pytest.raises(ValueError, match=message):
        score_pathways(fs, unknown_snp, ["PA"])
    unknown_pathway = pd.DataFrame({"SNP": [bim["ID"][0]], "pathway": ["PB"], "BETA": [1.0]})
    with pytest.raises(ValueError, match=message):
        score_pathways(fs, unknown_pathway, ["PA"])


def test_unknown_missing_mode_is_named(tmp_path):
    fs, _ = _few_observed(tmp_path)
    with pytest.raises(ValueError, match=r"^missing_genotypes must be one of \('mean_impute', "
                       r"'zero'\), got 'drop'$"):  # fmt: skip
        score_matrix(fs, sp.csr_matrix(np.ones((3, 1))), missing_mode="drop")
