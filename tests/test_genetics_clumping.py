"""LD clumping: our wrapper returns what plink1.9 --clump returns and keeps .bim alleles."""

import subprocess

import numpy as np
import pandas as pd
import pytest

from neuropathx.genetics.clumping import clump_sumstats, read_clumped
from neuropathx.genetics.plink_io import read_bim, write_fileset
from neuropathx.genetics.simulate import default_tables, ld_genotypes

pytestmark = pytest.mark.plink


@pytest.fixture
def clump_input(tmp_path):
    rng = np.random.default_rng(3)
    geno = ld_genotypes(80, 6, 8, rng)  # 6 LD blocks of 8 variants, 20 kb apart
    bim, fam = default_tables(80, len(geno), n_chrom=1, spacing=2_000)
    geno[::2] = 2 - geno[::2]  # A1 is the major allele here: plink1.9 would swap it by default
    write_fileset(tmp_path / "g", geno, bim, fam)
    harmonised = bim[["ID", "CHR", "BP", "A1", "A2"]].rename(columns={"ID": "SNP"})
    harmonised["BETA"] = np.round(rng.normal(0, 0.1, len(bim)), 4)
    harmonised["SE"] = 0.05
    harmonised["P"] = np.round(10 ** -rng.uniform(0, 4, len(bim)), 6)
    return tmp_path, harmonised


def test_clumping_matches_plink19(clump_input):
    tmp_path, harmonised = clump_input
    settings = {"p1": 0.05, "p2": 0.5, "r2": 0.2, "kb": 30}
    ours = clump_sumstats(
        str(tmp_path / "g"),
        harmonised,
        tmp_path / "work",
        tmp_path / "logs",
        clump=settings,
        p_threshold=0.01,
    )
    harmonised.to_csv(tmp_path / "assoc.tsv", sep="\t", index=False)
    subprocess.run(
        f"plink1.9 --bfile {tmp_path / 'g'} --keep-allele-order --clump {tmp_path / 'assoc.tsv'} "
        "--clump-p1 0.05 --clump-p2 0.5 --clump-r2 0.2 --clump-kb 30 --threads 1 "
        f"--out {tmp_path / 'ref'}",
        shell=True,
        check=True,
        capture_output=True,
    )
    ref = read_clumped(tmp_path / "ref.clumped").merge(harmonised, on="SNP")
    ref = ref[ref["P"] < 0.01]
    assert len(ours) > 3  # clumping did something: fewer index SNPs than significant SNPs
    assert (harmonised["P"] < 0.01).sum() > len(ours)
    assert sorted(ours["SNP"]) == sorted(ref["SNP"])
    assert list(ours["TOTAL"]) == list(ref.set_index("SNP").loc[ours["SNP"], "TOTAL"])
    # at most one index SNP per LD block of 8 variants
    block = ours["SNP"].str[2:].astype(int).sub(1) // 8
    assert block.is_unique
    # alleles and effects are those of the .bim / harmonised table, untouched
    h = harmonised.set_index("SNP").loc[ours["SNP"]]
    assert list(ours["A1"]) == list(h["A1"]) and list(ours["BETA"]) == list(h["BETA"])
    bim = read_bim(tmp_path / "g.bim").set_index("ID").loc[ours["SNP"]]
    assert list(ours["A1"]) == list(bim["A1"])
    assert (tmp_path / "logs" / "clump.log").exists()


def test_nothing_significant_gives_empty_table(clump_input):
    tmp_path, harmonised = clump_input
    harmonised["P"] = 0.9
    ours = clump_sumstats(str(tmp_path / "g"), harmonised, tmp_path / "w", tmp_path / "l")
    assert ours.empty
    assert isinstance(ours, pd.DataFrame)
