"""build_pathway_scores end to end on a small fileset: outputs agree with a hand computation."""

import subprocess

import numpy as np
import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.genetics.plink_io import open_fileset, read_dosages, write_fileset
from neuropathx.genetics.simulate import default_tables, ld_genotypes
from neuropathx.genetics.stage import build_pathway_scores, cohort_a1_freq

pytestmark = pytest.mark.plink
SETTINGS = {
    "min_genes": 1,
    "p_threshold": 0.05,
    "clump": {"p1": 0.05, "p2": 0.5, "kb": 30},
    "columns": {"effect": "OR"},
    "effect_type": "or",
}


@pytest.fixture
def inputs(tmp_path):
    rng = np.random.default_rng(11)
    geno = ld_genotypes(60, 8, 6, rng)
    geno[rng.random(geno.shape) < 0.03] = np.nan
    bim, fam = default_tables(60, len(geno), n_chrom=1, spacing=2_000)
    write_fileset(tmp_path / "g", geno, bim, fam)
    gwas = bim[["ID", "CHR", "BP", "A1", "A2"]].rename(columns={"ID": "SNP"}).copy()
    swap = np.arange(len(gwas)) % 3 == 1
    gwas.loc[swap, ["A1", "A2"]] = gwas.loc[swap, ["A2", "A1"]].to_numpy()
    gwas["OR"] = np.round(np.exp(rng.normal(0, 0.1, len(gwas))), 5)
    gwas["SE"] = 0.05
    gwas["P"] = np.round(10 ** -rng.uniform(0, 4, len(gwas)), 6)
    gwas.to_csv(tmp_path / "gwas.tsv", sep="\t", index=False)
    # genes: 8 genes of 10 kb over the 96 kb region, one with no variants (chr 5)
    loc = [(i + 1, 1, i * 12_000 + 1, i * 12_000 + 10_000, "+-"[i % 2], f"G{i}") for i in range(8)]
    loc.append((99, 5, 1, 1000, "+", "GFAR"))
    pd.DataFrame(loc).to_csv(tmp_path / "genes.loc", sep="\t", header=False, index=False)
    (tmp_path / "sets.gmt").write_text(
        "PA\td\tG0\tG1\tG2\nPB\td\tG3\tG4\tG5\tG6\tG7\tNOTLOCATED\nPEMPTY\td\tGFAR\n"
    )
    return tmp_path, geno


def _run(tmp_path, **overrides):
    build_pathway_scores(
        str(tmp_path / "g"),
        str(tmp_path / "gwas.tsv"),
        str(tmp_path / "genes.loc"),
        str(tmp_path / "sets.gmt"),
        str(tmp_path / "out"),
        settings={**SETTINGS, **overrides},
    )
    return tmp_path / "out"


def _read(out, name):
    return pd.read_csv(out / name, sep="\t", dtype={"participant_id": str})


def test_scores_equal_hand_computation(inputs):
    tmp_path, geno = inputs
    out = _run(tmp_path)
    harm = _read(out, "harmonisation_summary.tsv").set_index("outcome")["n"]
    assert harm.sum() == len(geno)
    assert harm["kept_same"] == 32 and harm["kept_swapped"] == 16
    clumped = _read(out, "clumped_snps.tsv")
    assert (clumped["P"] < 0.05).all() and len(clumped) > 0
    summary = _read(out, "pathway_summary.tsv").set_index("pathway")
    assert summary.loc["PB", "n_genes_gmt"] == 6 and summary.loc["PB", "n_genes_located"] == 5
    assert summary.loc["PEMPTY", "n_snps"] == 0 and not summary.loc["PEMPTY", "kept"]
    kept = list(summary.index[summary["kept"]])
    scores = _read(out, "pathway_scores.tsv")
    assert list(scores.columns) == ["participant_id", *kept]
    # by hand: mean-imputed A1 dosage x harmonised BETA over each pathway's clumped SNPs
    fs = open_fileset(tmp_path / "g")
    dosage = read_dosages(fs)
    filled = np.where(np.isnan(dosage), np.nanmean(dosage, axis=1, keepdims=True), dosage)
    row_of = {snp: i for i, snp in enumerate(fs.bim["ID"])}
    sgp = _read(out, "snp_gene_pathway.tsv").drop_duplicates(["SNP", "pathway"])
    assert set(sgp["SNP"]) <= set(clumped["SNP"])
    gwas = pd.read_csv(tmp_path / "gwas.tsv", sep="\t").set_index("SNP")
    for pathway in kept:
        rows = sgp[sgp["pathway"] == pathway]
        # BETA is log(OR), sign flipped where the GWAS alleles were swapped
        sign = np.where(
            gwas.loc[rows["SNP"], "A1"] == fs.bim.set_index("ID").loc[rows["SNP"], "A1"], 1, -1
        )
        np.testing.assert_allclose(rows["BETA"], sign * np.log(gwas.loc[rows["SNP"], "OR"]))
        expected = filled[[row_of[s] for s in rows["SNP"]]].T @ rows["BETA"].to_numpy()
        np.testing.assert_allclose(scores[pathway], expected, atol=1e-8)


def test_no_snp_survives_harmonisation(inputs):
    tmp_path, _ = inputs
    gwas = pd.read_csv(tmp_path / "gwas.tsv", sep="\t")
    gwas["A1"], gwas["A2"] = "I", "D"
    gwas.to_csv(tmp_path / "gwas.tsv", sep="\t", index=False)
    with pytest.raises(
        InputError,
        match=r"gwas\.tsv: no SNP survived harmonisation.*"
        r"dropped_allele_mismatch=48",
    ):
        _run(tmp_path)
    summary = _read(tmp_path / "out", "harmonisation_summary.tsv")
    assert summary["n"].sum() == 48


def test_cohort_allele_frequencies_equal_plink2(inputs, tmp_path):
    """The cohort A1 frequencies that resolve strand-ambiguous SNPs equal plink2 --freq."""
    data, _ = inputs
    fs = open_fileset(data / "g")
    rows = np.array([5, 0, 47, 12])
    subprocess.run(
        ["plink2", "--bfile", str(data / "g"), "--freq", "--out", str(tmp_path / "f")],
        check=True,
        capture_output=True,
    )
    afreq = pd.read_csv(tmp_path / "f.afreq", sep="\t")  # ALT = the .bim A1 allele
    np.testing.assert_allclose(
        cohort_a1_freq(fs, rows), afreq["ALT_FREQS"].to_numpy()[rows], atol=1e-6
    )
