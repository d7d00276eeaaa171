"""Imputed input (.pgen with dosages, VCF with DS): QC on hard calls, scores from dosages
equal to plink2 --score cols=+scoresums on the same .pgen."""

import subprocess

import numpy as np
import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.genetics.genotype_inputs import read_psam_ids, read_pvar_ids, score_dosages
from neuropathx.genetics.plink_io import read_bim, read_fam
from neuropathx.genetics.stage import run_genotype_qc

pytestmark = pytest.mark.plink
N, M = 64, 40
LENIENT = {"geno": 0.2, "mind": 0.2, "maf": 0.0, "hwe": 1e-50, "het_sd": 100, "king_cutoff": 0.45}


def _plink2(*args):
    subprocess.run(["plink2", *map(str, args), "--threads", "1"], check=True, capture_output=True)


@pytest.fixture(scope="module")
def imputed(tmp_path_factory):
    """A VCF with GT:DS (2 % missing, uncertain dosages) and plink2's .pgen of it."""
    tmp = tmp_path_factory.mktemp("imputed")
    rng = np.random.default_rng(8)
    freq = rng.uniform(0.1, 0.6, M)
    header = [
        "##fileformat=VCFv4.2",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=DS,Number=1,Type=Float,Description="ALT dosage">',
        "##contig=<ID=1,length=10000000>",
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
                  + [f"s{i:02d}" for i in range(N)]),
    ]  # fmt: skip
    rows = []
    for v in range(M):
        calls = rng.binomial(2, freq[v], N)
        dosage = np.clip(calls + rng.normal(0, 0.05, N), 0, 2).round(3)
        cells = []
        for c, d in zip(calls, dosage, strict=True):
            if rng.random() < 0.02:
                cells.append("./.:.")
            else:
                cells.append(f"{['0/0', '0/1', '1/1'][c]}:{d}")
        ref, alt = "ACGT"[v % 4], "ACGT"[(v + 1) % 4]
        rows.append("\t".join(["1", str(1000 * (v + 1)), f"rs{v + 1}", ref, alt, ".", "PASS",
                               ".", "GT:DS", *cells]))  # fmt: skip
    (tmp / "imputed.vcf").write_text("\n".join(header + rows) + "\n")
    _plink2("--vcf", tmp / "imputed.vcf", "dosage=DS", "--make-pgen", "--out", tmp / "imputed")
    _plink2("--pfile", tmp / "imputed", "--export", "bgen-1.2", "--out", tmp / "imputed")
    return tmp


def _weights(ids, rng):
    chosen = rng.choice(ids, 25, replace=False)
    return pd.DataFrame(
        {"SNP": np.r_[chosen, chosen[:10]], "pathway": ["P1"] * 25 + ["P2"] * 10,
         "BETA": np.round(rng.normal(0, 0.2, 35), 4)}
    )  # fmt: skip


def _plink2_scores(prefix, weights, tmp):
    wide = weights.pivot(index="SNP", columns="pathway", values="BETA").fillna(0.0)
    bim_a1 = read_bim(f"{tmp / 'qc'}.bim").set_index("ID")["A1"]  # = ALT of the .pvar
    wide.insert(0, "A1", bim_a1[wide.index].to_numpy())
    wide.index.name = "ID"
    wide.to_csv(tmp / "w.tsv", sep="\t")
    _plink2("--pfile", prefix, "--score", tmp / "w.tsv", 1, 2, "header-read", "cols=+scoresums",
            "--score-col-nums", "3-4", "--out", tmp / "p2")  # fmt: skip
    return pd.read_csv(tmp / "p2.sscore", sep="\t", dtype={"#IID": str})


@pytest.mark.parametrize("fmt", ["pgen", "vcf", "bgen"])
def test_qc_on_hard_calls_scores_from_dosages_equal_plink2(imputed, tmp_path, fmt):
    source = imputed / {"pgen": "imputed", "vcf": "imputed.vcf", "bgen": "imputed.bgen"}[fmt]
    run_genotype_qc(str(source), str(tmp_path), settings={**LENIENT, "input_format": fmt})
    # the hard calls and the dosages hold the same QC'd samples and variants, in order
    fam, bim = read_fam(tmp_path / "qc.fam"), read_bim(tmp_path / "qc.bim")
    dosage = str(tmp_path / "qc_dosage")
    assert list(read_psam_ids(dosage)) == list(fam["IID"]) and len(fam) == N
    assert list(read_pvar_ids(dosage)) == list(bim["ID"]) and len(bim) == M
    weights = _weights(bim["ID"].to_numpy(), np.random.default_rng(1))
    ours = score_dosages(dosage, weights, ["P1", "P2"])
    plink = _plink2_scores(dosage, weights, tmp_path)
    assert list(plink["#IID"]) == list(ours["participant_id"])
    np.testing.assert_allclose(ours[["P1", "P2"]], plink[["P1_SUM", "P2_SUM"]], atol=2e-4)
    # dosages, not hard calls: the scores differ from scoring the rounded genotypes
    _plink2("--bfile", tmp_path / "qc", "--score", tmp_path / "w.tsv", 1, 2, "header-read",
            "cols=+scoresums", "--score-col-nums", "3-4", "--out", tmp_path / "hard")  # fmt: skip
    hard = pd.read_csv(tmp_path / "hard.sscore", sep="\t")
    assert np.abs(hard["P1_SUM"].to_numpy() - ours["P1"].to_numpy()).max() > 1e-2


def test_missing_pgen_parts_are_named(tmp_path):
    with pytest.raises(InputError, match=r"cohort\.pvar: file not found \(inputs\.bfile"):
        (tmp_path / "cohort.pgen").write_bytes(b"")
        run_genotype_qc(str(tmp_path / "cohort"), str(tmp_path / "o"),
                        settings={"input_format": "pgen"})  # fmt: skip
