"""Summary-statistics reading and allele harmonisation, checked case by case by hand."""

import numpy as np
import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.genetics.gwas_formats import read_sumstats
from neuropathx.genetics.sumstats import harmonise, outcome_summary

BIM = pd.DataFrame(
    [
        ("1", "rs1", 0, 100, "A", "G"),
        ("1", "rs2", 0, 200, "A", "G"),
        ("1", "rs3", 0, 300, "A", "G"),
        ("1", "rs4", 0, 400, "A", "G"),
        ("1", "rs5", 0, 500, "A", "T"),
        ("1", "rs6", 0, 600, "A", "G"),
        ("1", "rs7", 0, 700, "C", "T"),
        ("1", "rs8", 0, 700, "C", "A"),
        ("1", "rs9", 0, 900, "A", "C"),
        ("X", "rs10", 0, 1000, "G", "T"),
    ],
    columns=["CHR", "ID", "CM", "BP", "A1", "A2"],
)
# (SNP, CHR, BP, A1, A2, BETA, expected outcome, expected harmonised BETA)
CASES = [
    ("g1", "1", 100, "A", "G", 0.5, "kept_same", 0.5),
    ("g2", "chr1", 200, "G", "A", 0.5, "kept_swapped", -0.5),
    ("g3", "1", 300, "T", "C", 0.2, "kept_strand_flipped", 0.2),
    ("g4", "01", 400, "c", "t", 0.2, "kept_strand_flipped_swapped", -0.2),
    ("g5", "1", 500, "A", "T", 0.1, "dropped_ambiguous", None),
    ("g6", "1", 600, "A", "C", 0.1, "dropped_allele_mismatch", None),
    ("g7", "1", 700, "C", "T", 0.1, "dropped_multiallelic", None),
    ("g8", "2", 50, "A", "G", 0.1, "dropped_not_in_bim", None),
    ("g1b", "1", 100, "G", "A", 0.9, "dropped_duplicate", None),
    ("g9a", "1", 900, "A", "C", 0.1, "dropped_multiallelic", None),
    ("g9b", "1", 900, "A", "G", 0.1, "dropped_multiallelic", None),
    ("g10", "chrX", 1000, "T", "G", -0.3, "kept_swapped", 0.3),
]


def _write_gwas(path, rows, effect_name="BETA"):
    table = pd.DataFrame(rows, columns=["SNP", "CHR", "BP", "A1", "A2", effect_name])
    table["SE"] = 0.1
    table["P"] = 0.01
    table.to_csv(path, sep="\t", index=False)
    return path


def test_every_outcome_by_hand(tmp_path):
    path = _write_gwas(tmp_path / "gwas.tsv", [c[:6] for c in CASES])
    gwas = read_sumstats(path)
    table, outcome = harmonise(gwas, BIM, match_by="chrpos")
    assert list(outcome) == [c[6] for c in CASES]
    kept = [c for c in CASES if c[6].startswith("kept")]
    expected_ids = {100: "rs1", 200: "rs2", 300: "rs3", 400: "rs4", 1000: "rs10"}
    assert list(table["SNP"]) == [expected_ids[c[2]] for c in kept]
    np.testing.assert_allclose(table["BETA"], [c[7] for c in kept])
    # A1/A2 are the .bim's alleles
    bim = BIM.set_index("ID")
    assert list(table["A1"]) == list(bim.loc[table["SNP"], "A1"])
    assert list(table["A2"]) == list(bim.loc[table["SNP"], "A2"])
    summary = outcome_summary(outcome)
    assert summary["n"].sum() == len(CASES)
    counts = dict(zip(summary["outcome"], summary["n"], strict=True))
    assert counts["dropped_multiallelic"] == 3 and counts["kept_swapped"] == 2


def test_ambiguous_kept_when_allowed_matches_same_strand_only(tmp_path):
    path = _write_gwas(tmp_path / "gwas.tsv", [("g5", "1", 500, "T", "A", 0.1)])
    table, outcome = harmonise(read_sumstats(path), BIM, drop_ambiguous=False)
    assert list(outcome) == ["kept_swapped"]
    assert table["BETA"].tolist() == [-0.1]


def test_match_by_rsid_and_odds_ratio(tmp_path):
    rows = [("rs1", "9", 1, "G", "A", 2.0), ("rs2", "9", 1, "A", "G", 0.5)]
    path = _write_gwas(tmp_path / "gwas.tsv", rows, effect_name="OR")
    cols = {"effect": "OR"}
    gwas = read_sumstats(path, cols, effect_type="or", match_by="rsid")
    table, outcome = harmonise(gwas, BIM, match_by="rsid")
    assert list(outcome) == ["kept_swapped", "kept_same"]
    np.testing.assert_allclose(table["BETA"], [-np.log(2.0), np.log(0.5)])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.drop(columns="SE"), r"no column for se \(format custom\)"),
        (lambda t: t.assign(P=[0.5, 1.5]), r"outside \[0, 1\].*line 3"),
        (lambda t: t.assign(P=["abc", "NA"]), r"no usable row.*dropped_missing_value=2"),
    ],
)
def test_bad_sumstats(tmp_path, edit, message):
    path = _write_gwas(tmp_path / "gwas.tsv", [c[:6] for c in CASES[:2]])
    edit(pd.read_csv(path, sep="\t")).to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match=rf"gwas\.tsv: .*{message}"):
        read_sumstats(path)


def test_missing_and_non_numeric_rows_are_dropped_and_counted(tmp_path):
    path = _write_gwas(tmp_path / "gwas.tsv", [c[:6] for c in CASES[:4]])
    table = pd.read_csv(path, sep="\t", dtype=str)
    table.loc[0, "P"], table.loc[2, "BETA"], table.loc[3, "SE"] = "abc", "NA", ""
    table.to_csv(path, sep="\t", index=False)
    gwas = read_sumstats(path)
    _, outcome = harmonise(gwas, BIM)
    assert (
        list(outcome) == ["dropped_missing_value", "kept_swapped"] + ["dropped_missing_value"] * 2
    )


def test_odds_ratio_must_be_positive(tmp_path):
    path = _write_gwas(tmp_path / "gwas.tsv", [("rs1", "1", 100, "A", "G", 0.0)], "OR")
    with pytest.raises(InputError, match="odds ratios must be > 0"):
        read_sumstats(path, {"effect": "OR"}, effect_type="or")
