"""GWAS presets: one small file per tool in that tool's exact layout, and a real plink2 --glm."""

import gzip
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.genetics.gwas_formats import read_sumstats
from neuropathx.genetics.plink_io import read_bim, write_fileset
from neuropathx.genetics.simulate import default_tables, random_genotypes
from neuropathx.genetics.sumstats import harmonise, outcome_summary

DATA = Path(__file__).parent / "data" / "gwas_formats"
BIM = pd.DataFrame(
    [
        ("1", "rs1", 0, 100, "A", "G"),
        ("1", "rs2", 0, 200, "C", "T"),
        ("1", "rs3", 0, 300, "A", "T"),  # strand-ambiguous
        ("2", "rs4", 0, 400, "G", "C"),  # strand-ambiguous
        ("2", "rs5", 0, 500, "A", "C"),
    ],
    columns=["CHR", "ID", "CM", "BP", "A1", "A2"],
)

# plink2 2.00a3.5 --glm cols=+a1freq,+machr2 on a binary trait (header copied from its output);
# rs2: A1 is REF, so the other allele is ALT; rs5: the test failed (NA)
PLINK2_LOGISTIC = (DATA / "plink2.PHENO1.glm.logistic.hybrid").read_text()
# REGENIE v3 step 2 (space-separated, LOG10P); the effect allele is ALLELE1
REGENIE = (DATA / "step2_Y1.regenie").read_text()
# SAIGE step 2 (dosage input: imputationInfo); the effect allele is Allele2
SAIGE = (DATA / "saige_step2.txt").read_text()
# GWAS Catalog GWAS-SSF (harmonised TSV), odds ratios and #NA missing values
GWAS_SSF = (DATA / "GCST000000.h.tsv").read_text()


def _harmonise(tmp_path, text, fmt, name="gwas.txt", a1_freq=None, **kwargs):
    path = tmp_path / name
    path.write_text(text)
    gwas = read_sumstats(path, fmt=fmt, **kwargs)
    table, outcome = harmonise(gwas, BIM, a1_freq=a1_freq)
    return table.set_index("SNP"), list(outcome)


def test_plink2_glm_logistic_other_allele_from_ref_alt(tmp_path):
    table, outcome = _harmonise(tmp_path, PLINK2_LOGISTIC, "plink2_glm")
    # rs1: A1=A other=G -> same; rs2: A1=C (REF) other=T -> same; rs3 A/T dropped (no
    # cohort frequencies given); rs5 NA
    assert outcome == ["kept_same", "kept_same", "dropped_ambiguous", "dropped_missing_value"]
    np.testing.assert_allclose(table["BETA"], [np.log(2), np.log(0.5)])


def test_regenie_log10p_and_info_filter(tmp_path):
    table, outcome = _harmonise(tmp_path, REGENIE, "regenie", min_info=0.8)
    assert outcome == [
        "kept_swapped",
        "dropped_low_info",
        "dropped_ambiguous",
        "dropped_missing_value",
    ]
    assert table.loc["rs1", "BETA"] == -0.1
    np.testing.assert_allclose(table.loc["rs1", "P"], 10**-6.24)


def test_saige_effect_allele_is_allele2_and_maf_filter(tmp_path):
    table, outcome = _harmonise(tmp_path, SAIGE, "saige", min_maf=0.08)
    # rs1: effect G other A -> swapped; rs2: effect C other T -> same; rs5: MAF 0.05
    assert outcome == ["kept_swapped", "kept_same", "dropped_low_maf"]
    np.testing.assert_allclose(table["BETA"], [-0.3, -0.4])


def test_gwas_ssf_odds_ratios_and_hash_na(tmp_path):
    table, outcome = _harmonise(tmp_path, GWAS_SSF, "gwas_ssf")
    assert outcome == ["kept_swapped", "dropped_missing_value", "dropped_ambiguous", "kept_swapped"]
    np.testing.assert_allclose(table["BETA"], [-np.log(1.2), -np.log(1.1)])


def test_ambiguous_snps_resolved_by_allele_frequencies(tmp_path):
    # cohort A1 frequencies: rs3 (A1=A) 0.12, rs4 (A1=G) 0.83
    freq = {2: 0.12, 3: 0.83}

    def a1_freq(rows):
        return np.array([freq.get(int(r), 0.5) for r in rows])

    table, outcome = _harmonise(tmp_path, PLINK2_LOGISTIC, "plink2_glm", a1_freq=a1_freq)
    # rs3: GWAS effect A at 0.9, cohort A at 0.12 -> the GWAS is on the other strand: its
    # A is the cohort's T, so the effect of one more cohort A1 (A) is -log(1.5)
    assert outcome[2] == "kept_ambiguous_other_strand"
    np.testing.assert_allclose(table.loc["rs3", "BETA"], -np.log(1.5))
    table, outcome = _harmonise(tmp_path, GWAS_SSF, "gwas_ssf", a1_freq=a1_freq)
    # rs4: GWAS effect G at 0.85, cohort G (A1) at 0.83 -> same strand, same allele
    assert outcome[2] == "kept_ambiguous_same_strand"
    np.testing.assert_allclose(table.loc["rs4", "BETA"], np.log(0.8))
    # inside the band (GWAS EAF 0.45): cannot tell, dropped
    path = tmp_path / "band.txt"
    path.write_text(GWAS_SSF.replace("0.8\t0.05\t0.85", "0.8\t0.05\t0.45"))
    _, outcome = harmonise(read_sumstats(path, fmt="gwas_ssf"), BIM, a1_freq=a1_freq)
    assert outcome[2] == "dropped_ambiguous"
    _, outcome = harmonise(
        read_sumstats(path, fmt="gwas_ssf"), BIM, a1_freq=a1_freq, ambiguous_band=(0.44, 0.46)
    )
    assert outcome[2] == "dropped_ambiguous"  # cohort 0.83 is fine but GWAS 0.45 is inside
    _, outcome = harmonise(
        read_sumstats(path, fmt="gwas_ssf"), BIM, a1_freq=a1_freq, ambiguous_band=(0.3, 0.4)
    )
    assert outcome[2] == "kept_ambiguous_other_strand"  # 0.45 < 0.5 < 0.83


def test_wrong_preset_and_missing_filter_column(tmp_path):
    path = tmp_path / "gwas.txt"
    path.write_text(REGENIE)
    with pytest.raises(InputError, match=r"gwas\.txt: no column for .* \(format saige\).*saige"):
        read_sumstats(path, fmt="saige")
    path.write_text(PLINK2_LOGISTIC.replace("\tMACH_R2", "").replace("\t0.98", ""))
    with pytest.raises(InputError, match=r"min_info is 0\.3 but the file has no info column"):
        read_sumstats(path, fmt="plink2_glm", min_info=0.3)


@pytest.mark.plink
def test_real_plink2_glm_output_goes_through(tmp_path):
    """plink2 --glm with a covariate on a .bed: every ADD row harmonises back to the .bim."""
    rng = np.random.default_rng(3)
    geno = random_genotypes(120, 30, rng)
    geno[4] = 0  # constant: plink2 writes NA with CONST_OMITTED_ALLELE
    bim, fam = default_tables(120, 30)
    fam["PHENO"] = np.round(rng.normal(size=120) + 0.3 * np.nan_to_num(geno[0]), 4).astype(str)
    write_fileset(tmp_path / "g", geno, bim, fam)
    cov = pd.DataFrame({"FID": fam["IID"], "IID": fam["IID"], "AGE": rng.normal(50, 5, 120)})
    cov.to_csv(tmp_path / "cov.txt", sep="\t", index=False)
    subprocess.run(
        ["plink2", "--bfile", str(tmp_path / "g"), "--glm", "--covar", str(tmp_path / "cov.txt"),
         "--threads", "1", "--out", str(tmp_path / "a")],
        check=True, capture_output=True,
    )  # fmt: skip
    glm_path = tmp_path / "a.PHENO1.glm.linear"
    glm = pd.read_csv(glm_path, sep="\t")
    assert len(glm) == 60  # ADD and AGE rows
    gwas = read_sumstats(glm_path, fmt="plink2_glm")
    table, outcome = harmonise(gwas, read_bim(tmp_path / "g.bim"))
    counts = outcome_summary(outcome).set_index("outcome")["n"]
    assert counts["dropped_not_additive_test"] == 29  # the AGE rows that have values
    assert counts["dropped_missing_value"] == 2  # rs5: ADD and AGE rows are NA
    assert counts["kept_same"] + counts["kept_swapped"] == 29
    add = glm[(glm["TEST"] == "ADD") & glm["BETA"].notna()].set_index("ID")
    bim_a1 = bim.set_index("ID")["A1"]
    sign = np.where(add["A1"] == bim_a1[add.index], 1, -1)
    np.testing.assert_allclose(table.set_index("SNP").loc[add.index, "BETA"], sign * add["BETA"])


def test_gzipped_file_reads_the_same(tmp_path):
    with gzip.open(tmp_path / "gwas.tsv.gz", "wt") as fh:
        fh.write(GWAS_SSF)
    (tmp_path / "gwas.tsv").write_text(GWAS_SSF)
    plain = read_sumstats(tmp_path / "gwas.tsv", fmt="gwas_ssf")
    packed = read_sumstats(tmp_path / "gwas.tsv.gz", fmt="gwas_ssf")
    pd.testing.assert_frame_equal(plain, packed)
