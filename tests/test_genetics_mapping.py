"""SNP -> gene -> pathway mapping with strand-aware borders, checked by hand."""

import numpy as np
import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.genetics.mapping import (
    map_snps_to_genes,
    pathway_table,
    pathway_weights,
    read_gene_loc,
    read_gmt,
)

LOC = """1\t1\t1000\t2000\t+\tGA
4\t1\t1500\t1600\t+\tGA2
2\t1\t5000\t6000\t-\tGB
3\t2\t100\t200\t+\tGC
5\t3\t100\t200\t+\tGD
"""
GMT = """P1\tdesc\tGA\tGB\tGA2\tGX
P2\tdesc\tGC
P3\tdesc\tGZ
P4\tdesc\tGD
"""
SNPS = pd.DataFrame(
    {
        "SNP": ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"],
        "CHR": ["1", "1", "1", "1", "1", "1", "2", "1", "1"],
        "BP": [900, 1000, 2000, 2100, 4950, 6050, 150, 3000, 1550],
        "BETA": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    }
)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "genes.loc").write_text(LOC)
    (tmp_path / "sets.gmt").write_text(GMT)
    return read_gene_loc(tmp_path / "genes.loc"), read_gmt(tmp_path / "sets.gmt"), tmp_path


def _pairs(table):
    return sorted(zip(table["SNP"], table["gene"], strict=True))


def test_no_border(files):
    loc, _, _ = files
    got = map_snps_to_genes(SNPS, loc)
    assert _pairs(got) == [("s2", "GA"), ("s3", "GA"), ("s7", "GC"), ("s9", "GA"), ("s9", "GA2")]


def test_strand_aware_borders(files):
    loc, _, _ = files
    # upstream 100 bp, downstream 50 bp: GA(+) [900, 2050]; GB(-) [4950, 6100]; GC(+) [0, 250]
    got = map_snps_to_genes(SNPS, loc, upstream_kb=0.1, downstream_kb=0.05)
    assert _pairs(got) == [
        ("s1", "GA"),
        ("s2", "GA"),
        ("s3", "GA"),
        ("s5", "GB"),
        ("s6", "GB"),
        ("s7", "GC"),
        ("s9", "GA"),
        ("s9", "GA2"),
    ]


def test_entrez_ids(files):
    loc, _, _ = files
    got = map_snps_to_genes(SNPS, loc, gene_id="entrez")
    assert _pairs(got) == [("s2", "1"), ("s3", "1"), ("s7", "3"), ("s9", "1"), ("s9", "4")]


def test_pathway_table_counts_and_filters(files):
    loc, sets, _ = files
    pairs = map_snps_to_genes(SNPS, loc, upstream_kb=0.1, downstream_kb=0.05)
    rows, summary = pathway_table(pairs, SNPS, sets, loc, min_genes=1, max_genes=2)
    s = summary.set_index("pathway")
    assert s.loc["P1", ["n_genes_gmt", "n_genes_located", "n_snps"]].tolist() == [4, 3, 6]
    assert not s.loc["P1", "kept"] and s.loc["P1", "reason"].startswith("more_than_max_genes")
    assert s.loc["P2"].tolist() == [1, 1, 1, True, "kept"]
    assert not s.loc["P3", "kept"] and s.loc["P3", "reason"].startswith("fewer_than_min_genes")
    # a located pathway without SNPs is kept out and counted, not an error
    assert s.loc["P4", ["n_snps", "kept"]].tolist() == [0, False]
    assert s.loc["P4", "reason"].startswith("fewer_than_min_snps")
    # s9 lies in GA and GA2, both in P1: one weight, not two
    weights = pathway_weights(rows, ["P1", "P2"])
    p1 = weights[weights["pathway"] == "P1"]
    assert sorted(p1["SNP"]) == ["s1", "s2", "s3", "s5", "s6", "s9"]
    assert weights.set_index(["SNP", "pathway"]).loc[("s7", "P2"), "BETA"] == 0.7


def test_gmt_without_located_gene(files):
    loc, _, tmp = files
    (tmp / "bad.gmt").write_text("P1\tdesc\tNOPE1\tNOPE2\n")
    with pytest.raises(InputError, match=r"bad\.gmt: none of the 2 genes"):
        pathway_table(
            map_snps_to_genes(SNPS, loc),
            SNPS,
            read_gmt(tmp / "bad.gmt"),
            loc,
            gmt_path=tmp / "bad.gmt",
        )


def test_bad_loc_and_gmt(tmp_path):
    (tmp_path / "a.loc").write_text("1\t1\t100\t50\t+\tGA\n")
    with pytest.raises(InputError, match=r"a\.loc: start > stop"):
        read_gene_loc(tmp_path / "a.loc")
    (tmp_path / "b.gmt").write_text("P1\td\tGA\nP1\td\tGB\n")
    with pytest.raises(InputError, match=r"b\.gmt: line 2: duplicate pathway name 'P1'"):
        read_gmt(tmp_path / "b.gmt")


# Regression tests for mutants that survived (tests/mutation/SUMMARY.md).


@pytest.mark.parametrize(("up", "down"), [(2, 0), (0, 2), (1.5, 0.5)])
def test_borders_in_kb_are_exact_to_the_base_pair(tmp_path, up, down):
    """+ strand gene 10,000-20,000 and - strand gene 50,000-60,000, on one chromosome."""
    (tmp_path / "g.loc").write_text("1\t1\t10000\t20000\t+\tPLUS\n2\t1\t50000\t60000\t-\tMINUS\n")
    loc = read_gene_loc(tmp_path / "g.loc")
    u, d = int(up * 1000), int(down * 1000)
    edges = {  # (just inside, just outside) of each window edge
        "PLUS": [(10000 - u, 10000 - u - 1), (20000 + d, 20000 + d + 1)],
        "MINUS": [(50000 - d, 50000 - d - 1), (60000 + u, 60000 + u + 1)],
    }
    bps = [bp for pairs in edges.values() for pair in pairs for bp in pair]
    snps = pd.DataFrame({"SNP": [f"b{bp}" for bp in bps], "CHR": "1", "BP": bps})
    got = map_snps_to_genes(snps, loc, upstream_kb=up, downstream_kb=down)
    expected = sorted((f"b{i}", g) for g, pairs in edges.items() for i, _ in pairs)
    assert _pairs(got) == expected


def test_unknown_gene_id_is_named():
    with pytest.raises(ValueError, match="^gene_id must be 'symbol' or 'entrez', got 'ensembl'$"):
        map_snps_to_genes(SNPS, pd.DataFrame(columns=["chr"]), gene_id="ensembl")


def test_pathway_table_with_entrez_ids(files, tmp_path):
    loc, _, _ = files
    (tmp_path / "entrez.gmt").write_text("P1\tdesc\t1\t2\t4\t99\nP2\tdesc\t3\n")
    sets = read_gmt(tmp_path / "entrez.gmt")
    pairs = map_snps_to_genes(SNPS, loc, gene_id="entrez")
    rows, summary = pathway_table(pairs, SNPS, sets, loc, gene_id="entrez", min_genes=1)
    s = summary.set_index("pathway")
    assert s.loc["P1", ["n_genes_gmt", "n_genes_located", "n_snps"]].tolist() == [4, 3, 3]
    assert s.loc["P2"].tolist() == [1, 1, 1, True, "kept"]


def test_pathway_size_limits_are_inclusive_and_tables_keep_their_columns(files):
    loc, sets, _ = files
    pairs = map_snps_to_genes(SNPS, loc, upstream_kb=0.1, downstream_kb=0.05)
    rows, summary = pathway_table(pairs, SNPS, sets, loc, min_genes=3, max_genes=3)
    s = summary.set_index("pathway")
    assert s.loc["P1", ["n_genes_located", "kept"]].tolist() == [3, True]  # 3 is in [3, 3]
    assert s.loc["P2", "reason"].startswith("fewer_than_min_genes")
    assert list(rows.columns) == ["SNP", "CHR", "BP", "gene", "pathway", "BETA"]
    assert list(rows.index) == list(range(len(rows)))
    weights = pathway_weights(rows, ["P1"])
    assert list(weights.columns) == ["SNP", "pathway", "BETA"]
    assert list(weights.index) == list(range(len(weights)))


def test_function_defaults_equal_the_config_schema():
    """One source of truth: pathway_table's defaults are the schema's."""
    import inspect

    import yaml
    from workflow_helpers import REPO

    schema = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())
    keys = schema["properties"]["pathway_scores"]["properties"]
    params = inspect.signature(pathway_table).parameters
    for name in ("min_genes", "max_genes", "min_snps"):
        assert params[name].default == keys[name]["default"], name


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "file is empty: no genes"),
        ("1\t1\t100\t200\t+\n",
         "expected 6 columns (gene_id chr start stop strand symbol), found 5"),
        ("1\t1\t100\t200\t+\tGA\n2\t1\t1e3\t2000\t+\tGB\n3\t1\tx\t9\t+\tGC\n",
         "column 'start' must be integers; line 3 is not"),
        ("1\t1\t100\t200\t+\tGA\n2\t1\t100\tend\t+\tGB\n",
         "column 'stop' must be integers; line 2 is not"),
        ("1\t1\t100\t200\t+\tGA\n2\t1\t100\t200\t.\tGB\n3\t1\t1\t2\t*\tGC\n",
         "strand must be '+' or '-', found '.'"),
    ],
)  # fmt: skip
def test_bad_gene_loc_messages(tmp_path, text, problem):
    path = tmp_path / "genes.loc"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_gene_loc(path)
    assert err.value.path == path and err.value.problem == problem


def test_missing_files_are_named(tmp_path):
    for reader in (read_gene_loc, read_gmt):
        with pytest.raises(InputError) as err:
            reader(tmp_path / "absent.txt")
        assert err.value.path == tmp_path / "absent.txt" and err.value.problem == "file not found"


def test_gene_loc_layout_whitespace_comments_one_base_genes_and_chr_prefix(tmp_path):
    """MAGMA .loc files are whitespace-separated; '#' lines are comments; a gene may be one
    base long; 'chr1' is chromosome 1."""
    path = tmp_path / "genes.loc"
    path.write_text("# NCBI37.3\n1  chr1 100\t100 + ONEBASE\n2\tchr2   50 90\t-\tGB\n")
    loc = read_gene_loc(path)
    assert loc["symbol"].tolist() == ["ONEBASE", "GB"] and loc["chr"].tolist() == ["1", "2"]
    assert loc["start"].dtype == np.int64 and loc["stop"].tolist() == [100, 90]
    snps = pd.DataFrame({"SNP": ["a", "b"], "CHR": ["1", "2"], "BP": [100, 60]})
    assert _pairs(map_snps_to_genes(snps, loc)) == [("a", "ONEBASE"), ("b", "GB")]


def test_gmt_layout_and_messages(tmp_path):
    path = tmp_path / "sets.gmt"
    path.write_text("P1\tspaces in the description\tGA\tMAX\n\nP2\tno genes\nP3\td\tGB\nP4\t\t\n")
    assert read_gmt(path) == {"P1": ["GA", "MAX"], "P2": [], "P3": ["GB"], "P4": []}
    path.write_text("P1\td\tGA\nP2\n")
    with pytest.raises(InputError) as err:
        read_gmt(path)
    assert err.value.path == path
    assert err.value.problem == "line 2: expected 'name<TAB>description<TAB>genes...'"
    path.write_text("\n\n")
    with pytest.raises(InputError) as err:
        read_gmt(path)
    assert err.value.path == path and err.value.problem == "no pathways"


def test_snps_on_later_chromosomes_and_empty_results(tmp_path):
    """A chromosome of genes without SNPs does not end the search; no pair at all gives the
    empty table with its columns; the index is unique across chromosomes."""
    path = tmp_path / "genes.loc"
    path.write_text("1\t5\t100\t200\t+\tG5\n2\t1\t100\t200\t+\tG1\n3\t2\t100\t200\t+\tG2\n")
    loc = read_gene_loc(path)
    snps = pd.DataFrame({"SNP": ["a", "b"], "CHR": ["1", "2"], "BP": [150, 150]})
    got = map_snps_to_genes(snps, loc)
    assert _pairs(got) == [("a", "G1"), ("b", "G2")] and got.index.is_unique
    none = map_snps_to_genes(snps.assign(CHR=["9", "9"]), loc)  # no SNP on a gene's chromosome
    assert none.empty and list(none.columns) == ["SNP", "CHR", "BP", "gene"]


def test_default_pathway_size_limits_by_calling(tmp_path):
    """min_genes 5 and max_genes 500 by default, both inclusive (the signature test above
    cannot see a changed default through mutmut's wrapper, a call can)."""
    n = 501
    loc = pd.DataFrame(
        {"gene_id": [str(i) for i in range(n)], "chr": "1", "start": np.arange(n) * 100 + 1,
         "stop": np.arange(n) * 100 + 50, "strand": "+", "symbol": [f"G{i}" for i in range(n)]}
    )  # fmt: skip
    snps = pd.DataFrame({"SNP": [f"s{i}" for i in range(n)], "CHR": "1",
                         "BP": np.arange(n) * 100 + 10, "BETA": 1.0})  # fmt: skip
    genes = [f"G{i}" for i in range(n)]
    sets = {"P4": genes[:4], "P5": genes[:5], "P500": genes[:500], "P501": genes}
    _, summary = pathway_table(map_snps_to_genes(snps, loc), snps, sets, loc)
    kept = summary.set_index("pathway")["kept"]
    assert kept.to_dict() == {"P4": False, "P5": True, "P500": True, "P501": False}
