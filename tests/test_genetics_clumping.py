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


# Regression tests for mutants that survived (tests/mutation/SUMMARY.md).


def test_p_threshold_is_strict_and_defaults_to_the_schema(clump_input):
    """An index SNP with P exactly 0.1 (plink keeps it: P <= p1) is left out by P < 0.1."""
    import inspect

    import yaml
    from workflow_helpers import REPO

    tmp_path, harmonised = clump_input
    harmonised["P"] = 0.9
    harmonised.loc[0, "P"] = 0.1  # block 0: the only candidate
    harmonised.loc[20, "P"] = 0.0999  # block 2
    ours = clump_sumstats(str(tmp_path / "g"), harmonised, tmp_path / "a" / "b", tmp_path / "l")
    assert ours["SNP"].tolist() == [harmonised["SNP"][20]]
    assert list(ours.columns) == [*harmonised.columns, "TOTAL"]
    assert list(ours.index) == [0]
    schema = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())
    default = schema["properties"]["pathway_scores"]["properties"]["p_threshold"]["default"]
    assert default == inspect.signature(clump_sumstats).parameters["p_threshold"].default
    # the same nested work directory again: it exists now, which is fine
    again = clump_sumstats(str(tmp_path / "g"), harmonised, tmp_path / "a" / "b", tmp_path / "l")
    pd.testing.assert_frame_equal(again, ours)


def test_read_clumped_keeps_ids_as_text_and_has_columns_when_empty(tmp_path):
    empty = read_clumped(tmp_path / "absent.clumped")
    assert empty.empty and list(empty.columns) == ["SNP", "TOTAL"]
    path = tmp_path / "x.clumped"
    path.write_text(
        " CHR    F    SNP   BP        P    TOTAL   NSIG    S05    S01   S001  S0001    SP2\n"
        "   1    1    007  100   1e-05        2      0      0      0      1      1    008(1)\n\n"
    )
    table = read_clumped(path)
    assert table["SNP"].tolist() == ["007"] and table["TOTAL"].tolist() == [2]
