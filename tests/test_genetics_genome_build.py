"""Genome build: a planted build mismatch is caught; chain liftover equals pyliftover."""

import gzip

import numpy as np
import pandas as pd
import pytest
from pyliftover import LiftOver

from neuropathx.errors import InputError
from neuropathx.genetics.genome_build import (
    check_build,
    lift_positions,
    liftover_sumstats,
    read_chain,
)
from neuropathx.genetics.gwas_formats import read_sumstats
from neuropathx.genetics.sumstats import harmonise

# t = the GWAS's build, q = the genotypes' build. chr1: two blocks with a gap (t 5000-5999
# unaligned), the second shifted by 1000; chr2: one reverse-strand block onto chr2;
# chr3: a block onto chr7 (a region that moved chromosome between builds)
CHAIN = """\
chain 1000 chr1 20000 + 0 9000 chr1 21000 + 500 10000 1
5000 1000 1500
3000

chain 900 chr2 10000 + 100 4100 chr2 12000 - 2000 6000 2
4000

chain 800 chr3 9000 + 0 3000 chr7 50000 + 40000 43000 3
3000
"""


@pytest.fixture
def chain_path(tmp_path):
    path = tmp_path / "hgAToHgB.over.chain.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(CHAIN)
    return path


def test_lifted_positions_equal_pyliftover(chain_path):
    chrom = np.repeat(["1", "2", "3", "4"], 10_000).astype(object)
    bp = np.tile(np.arange(1, 10_001), 4)
    new_chr, new_bp, lifted = lift_positions(read_chain(chain_path), chrom, bp)
    oracle = LiftOver(str(chain_path))
    for c, p, nc, nb, ok in zip(chrom, bp, new_chr, new_bp, lifted, strict=True):
        hits = oracle.convert_coordinate(f"chr{c}", int(p) - 1) or []  # None: no such chrom
        assert ok == (len(hits) == 1), (c, p)
        if ok:
            assert (f"chr{nc}", int(nb) - 1) == hits[0][:2], (c, p)
    # by hand: chr1 t 100 -> q 600; t 6001 (1-based) -> q 7001; chr1 gap and chr4 unlifted
    assert lifted.sum() == 5000 + 3000 + 4000 + 3000
    i = {("1", 100): 99, ("1", 6001): 6000}
    assert new_bp[i[("1", 100)]] == 600 and new_bp[i[("1", 6001)]] == 7001


def _bim_and_gwas(tmp_path, chain_path, n=60):
    """Genotype variants on build q; the same rsIDs in a GWAS on build t."""
    rng = np.random.default_rng(0)
    t_pos = np.sort(rng.choice(np.r_[1:5001, 6001:9001], n, replace=False))
    chain = read_chain(chain_path)
    q_chr, q_pos, ok = lift_positions(chain, np.full(n, "1", dtype=object), t_pos)
    assert ok.all()
    ids = [f"rs{i + 1}" for i in range(n)]
    bim = pd.DataFrame(
        {"CHR": q_chr.astype(str), "ID": ids, "CM": 0, "BP": q_pos, "A1": "A", "A2": "G"}
    )
    gwas = pd.DataFrame({"SNP": ids, "CHR": "chr1", "BP": t_pos, "A1": "G", "A2": "A"})
    gwas["BETA"], gwas["SE"], gwas["P"] = rng.normal(0, 0.1, n), 0.05, 0.01
    gwas.to_csv(tmp_path / "gwas_t.tsv", sep="\t", index=False)
    return bim, read_sumstats(tmp_path / "gwas_t.tsv")


def test_planted_build_mismatch_stops_with_both_files_and_the_fix(tmp_path, chain_path):
    bim, gwas = _bim_and_gwas(tmp_path, chain_path)
    # positions t <= 5000 shift by 500; a chr:pos match would pair other variants quietly
    with pytest.raises(InputError) as err:
        check_build(gwas, bim, tmp_path / "gwas_t.tsv", tmp_path / "geno.bim")
    message = str(err.value)
    assert "gwas_t.tsv: looks like a different genome build" in message
    assert "geno.bim" in message and "of 60 rsIDs in both files only 0.0%" in message
    assert "liftover_chain" in message and "match_by: rsid" in message
    # after liftover every position agrees and every SNP harmonises (swapped alleles)
    lifted = liftover_sumstats(gwas, chain_path)
    figures = check_build(lifted, bim, "gwas", "bim")
    assert figures == {"shared_rsids": 60, "position_agreement": 1.0}
    table, outcome = harmonise(lifted, bim)
    assert set(outcome) == {"kept_swapped"}
    np.testing.assert_allclose(table["BETA"], -gwas["BETA"])


def test_same_build_passes_and_off_by_one_is_named(tmp_path, chain_path):
    bim, gwas = _bim_and_gwas(tmp_path, chain_path)
    same = gwas.assign(BP=bim["BP"].to_numpy())
    assert check_build(same, bim, "g", "b")["position_agreement"] == 1.0
    shifted = gwas.assign(BP=bim["BP"].to_numpy() - 1)
    with pytest.raises(InputError, match=r"100% differ by exactly 1 bp: one file may be 0-based"):
        check_build(shifted, bim, "g", "b")


def test_unliftable_rows_are_counted(tmp_path, chain_path):
    gwas = pd.DataFrame(
        {"SNP": ["rs1", "rs2", "rs3"], "CHR": ["1", "1", "22"], "BP": [100, 5500, 100],
         "A1": "A", "A2": "G", "BETA": 0.1, "SE": 0.1, "P": 0.5}
    )  # fmt: skip
    gwas.to_csv(tmp_path / "g.tsv", sep="\t", index=False)
    lifted = liftover_sumstats(read_sumstats(tmp_path / "g.tsv"), chain_path)
    assert list(lifted["OUTCOME"]) == ["", "dropped_not_lifted", "dropped_not_lifted"]
    assert lifted["BP"].iloc[0] == 600
