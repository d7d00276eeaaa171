"""Summary-statistics reading and allele harmonisation, checked case by case by hand."""

import numpy as np
import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.genetics.gwas_formats import read_sumstats
from neuropathx.genetics.sumstats import (
    HARMONISED_COLUMNS,
    OUTCOMES,
    _duplicated,
    complement,
    harmonise,
    normalise_chrom,
    outcome_summary,
)

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


# --- hand-built tables passed to harmonise directly (the reader's checks are not in the way)

GWAS_COLUMNS = ["SNP", "CHR", "BP", "A1", "A2", "BETA", "SE", "P"]


def _gwas(rows, **extra):
    """rows: (SNP, CHR, BP, A1, A2, BETA); SE 0.1 and P 0.01 unless ``extra`` gives columns."""
    table = pd.DataFrame(rows, columns=GWAS_COLUMNS[:6])
    table["SE"], table["P"] = 0.1, 0.01
    for name, values in extra.items():
        table[name] = values
    return table


def _bim(rows):
    """rows: (CHR, ID, BP, A1, A2)."""
    table = pd.DataFrame(rows, columns=["CHR", "ID", "BP", "A1", "A2"])
    table.insert(2, "CM", 0)
    return table


def test_normalise_chrom_and_complement_by_hand():
    raw = pd.Series(["chr1", " 2 ", "chrX", "x", "23", "Y", "chrXY", "MT", "chrM", "01", "10"])
    assert normalise_chrom(raw).tolist() == [
        "1", "2", "23", "23", "23", "24", "25", "26", "26", "1", "10",
    ]  # fmt: skip
    alleles = pd.Series(["A", "C", "G", "T", "N", "AC", "-"])
    assert complement(alleles).tolist() == ["T", "G", "C", "A", "N", "TG", "-"]


def test_chromosome_names_match_plink_codes():
    # plink writes X, Y, XY and MT as 23-26 in a .bim; GWAS files often use letters
    bim = _bim([("23", "x1", 10, "A", "G"), ("24", "y1", 10, "A", "G"),
                ("25", "xy1", 10, "A", "G"), ("26", "mt1", 10, "A", "G")])  # fmt: skip
    gwas = _gwas([("a", "chrX", 10, "A", "G", 0.1), ("b", "Y", 10, "G", "A", 0.2),
                  ("c", "XY", 10, "A", "G", 0.3), ("d", "chrMT", 10, "A", "G", 0.4)])  # fmt: skip
    table, outcome = harmonise(gwas, bim)
    assert list(outcome) == ["kept_same", "kept_swapped", "kept_same", "kept_same"]
    assert table["SNP"].tolist() == ["x1", "y1", "xy1", "mt1"]
    assert table["BETA"].tolist() == [0.1, -0.2, 0.3, 0.4]


def test_position_on_another_chromosome_is_not_in_bim():
    bim = _bim([("1", "rs1", 100, "A", "G"), ("2", "rs2", 200, "A", "G")])
    gwas = _gwas([("a", "2", 100, "A", "G", 0.1), ("b", "1", 200, "A", "G", 0.1),
                  ("c", "2", 200, "A", "G", 0.3)])  # fmt: skip
    table, outcome = harmonise(gwas, bim)
    assert list(outcome) == ["dropped_not_in_bim", "dropped_not_in_bim", "kept_same"]
    assert table["SNP"].tolist() == ["rs2"]


def test_output_columns_values_and_bim_order():
    # GWAS order differs from the .bim's; the table follows the .bim, values from the GWAS row
    bim = _bim([("1", "rs1", 100, "A", "G"), ("1", "rs2", 200, "C", "T"),
                ("3", "rs3", 50, "G", "T")])  # fmt: skip
    gwas = _gwas(
        [("x3", "3", 50, "T", "G", 0.7), ("x1", "1", 100, "A", "G", 0.2),
         ("x2", "1", 200, "G", "A", -0.4)],
        SE=[0.3, 0.05, 0.2], P=[1e-8, 0.5, 0.03],
    )  # fmt: skip
    table, outcome = harmonise(gwas, bim)
    assert list(outcome) == ["kept_swapped", "kept_same", "kept_strand_flipped"]
    assert table.columns.tolist() == HARMONISED_COLUMNS
    assert table.values.tolist() == [
        ["rs1", "1", 100, "A", "G", 0.2, 0.05, 0.5],
        ["rs2", "1", 200, "C", "T", -0.4, 0.2, 0.03],
        ["rs3", "3", 50, "G", "T", -0.7, 0.3, 1e-8],
    ]


def test_integer_columns_give_float_statistics_and_positions():
    bim = _bim([("1", "rs1", 100, "A", "G"), ("1", "rs2", 200, "A", "G")])
    gwas = pd.DataFrame({"SNP": ["a", "b"], "CHR": [1, 1], "BP": [100.0, 200.0],
                         "A1": ["A", "G"], "A2": ["G", "A"], "BETA": [2, 3], "SE": [1, 1],
                         "P": [0, 1]})  # fmt: skip
    table, outcome = harmonise(gwas, bim)
    assert list(outcome) == ["kept_same", "kept_swapped"]
    assert table["BETA"].tolist() == [2.0, -3.0]
    for column in ("BETA", "SE", "P"):
        assert table[column].dtype == np.float64, column


def test_missing_alleles_or_chromosome_are_missing_values():
    bim = _bim([("1", "rs1", 100, "A", "G"), ("2", "rs2", 100, "A", "G")])
    gwas = _gwas([("a", "1", 100, None, "G", 0.1), ("b", "1", 100, "A", None, 0.1),
                  ("c", None, 100, "A", "G", 0.1), ("d", "2", 100, "A", "G", 0.1)])  # fmt: skip
    table, outcome = harmonise(gwas, bim)
    assert list(outcome) == ["dropped_missing_value"] * 3 + ["kept_same"]
    assert table["SNP"].tolist() == ["rs2"]


def test_plink_zero_allele_with_missing_other_allele():
    # plink's "0" (unknown allele) is the only allele string here: one allele code in all
    bim = _bim([("1", "rs1", 100, "0", "0")])
    gwas = _gwas([("a", "1", 100, "0", None, 0.1)])
    table, outcome = harmonise(gwas, bim)
    assert list(outcome) == ["dropped_missing_value"] and table.empty


def test_every_row_decided_by_the_reader_or_no_rows():
    bim = _bim([("1", "rs1", 100, "A", "G")])
    gwas = _gwas([("a", "1", 100, "A", "G", 0.1), ("b", "1", 100, "G", "A", 0.1)],
                 OUTCOME=["dropped_low_info", "dropped_not_lifted"])  # fmt: skip
    table, outcome = harmonise(gwas, bim)
    assert list(outcome) == ["dropped_low_info", "dropped_not_lifted"] and table.empty
    table, outcome = harmonise(gwas.iloc[:0].drop(columns="OUTCOME"), bim)
    assert len(outcome) == 0 and table.empty and table.columns.tolist() == HARMONISED_COLUMNS
    assert outcome_summary(outcome)["n"].sum() == 0


def test_reader_outcomes_kept_and_others_harmonised():
    bim = _bim([("1", "rs1", 100, "A", "G"), ("1", "rs2", 200, "A", "G")])
    gwas = _gwas([("a", "1", 100, "A", "G", 0.1), ("b", "1", 200, "A", "G", 0.1)],
                 OUTCOME=["dropped_low_maf", ""])  # fmt: skip
    table, outcome = harmonise(gwas, bim)
    assert list(outcome) == ["dropped_low_maf", "kept_same"]
    assert table["SNP"].tolist() == ["rs2"]


def test_single_bim_row_and_a_dropped_row():
    bim = _bim([("1", "rs1", 100, "A", "G")])
    gwas = _gwas([("a", "1", 999, "A", "G", 0.1), ("b", "1", 100, "G", "A", 0.5)])
    table, outcome = harmonise(gwas, bim)
    assert list(outcome) == ["dropped_not_in_bim", "kept_swapped"]
    assert table["BETA"].tolist() == [-0.5]


def test_bim_keys_all_in_gwas_and_gwas_key_after_them():
    bim = _bim([("1", "rs1", 100, "A", "G")])
    gwas = _gwas([("rs1", "1", 100, "A", "G", 0.1), ("rs9", "1", 300, "A", "G", 0.1)])
    for match_by in ("chrpos", "rsid"):
        table, outcome = harmonise(gwas, bim, match_by=match_by)
        assert list(outcome) == ["kept_same", "dropped_not_in_bim"], match_by
        assert table["SNP"].tolist() == ["rs1"]


def test_alleles_listing_alternatives_are_multiallelic():
    bim = _bim([("1", "rs1", 100, "A", "G"), ("1", "rs2", 200, "A", "G"),
                ("1", "rs3", 300, "A", "G")])  # fmt: skip
    gwas = _gwas([("a", "1", 100, "A", "G,C", 0.1), ("b", "1", 200, "A,C", "G", 0.1),
                  ("c", "1", 300, "A", "G", 0.1)])  # fmt: skip
    _, outcome = harmonise(gwas, bim)
    assert list(outcome) == ["dropped_multiallelic", "dropped_multiallelic", "kept_same"]


def test_one_allele_in_common_is_a_mismatch():
    # A/C (other strand T/G) shares one allele with each: A as A2, C as A1, T as A2, G as A1
    bim = _bim([("1", "rs1", 100, "G", "A"), ("1", "rs2", 200, "C", "G"),
                ("1", "rs3", 300, "C", "T"), ("1", "rs4", 400, "G", "C")])  # fmt: skip
    gwas = _gwas([(f"g{k}", "1", 100 * k, "A", "C", 0.1) for k in range(1, 5)])
    table, outcome = harmonise(gwas, bim)
    assert list(outcome) == ["dropped_allele_mismatch"] * 4 and table.empty


@pytest.mark.parametrize(
    ("gwas_alleles", "bim_alleles", "expected", "sign"),
    [
        (("A", "G"), ("A", "G"), "kept_same", 1),
        (("G", "A"), ("A", "G"), "kept_swapped", -1),
        (("T", "C"), ("A", "G"), "kept_strand_flipped", 1),
        (("C", "T"), ("A", "G"), "kept_strand_flipped_swapped", -1),
        (("G", "T"), ("C", "A"), "kept_strand_flipped", 1),
        (("T", "G"), ("C", "A"), "kept_strand_flipped_swapped", -1),
        (("AC", "G"), ("TG", "C"), "kept_strand_flipped", 1),
        (("G", "AC"), ("TG", "C"), "kept_strand_flipped_swapped", -1),
        (("C", "G"), ("A", "G"), "dropped_ambiguous", 0),
        (("A", "C"), ("A", "G"), "dropped_allele_mismatch", 0),
    ],
)
def test_one_snp_alone_whatever_alleles_are_seen_first(gwas_alleles, bim_alleles, expected, sign):
    # alone, only these alleles are coded: their complements get new codes, in a new order
    bim = _bim([("1", "rs1", 100, *bim_alleles)])
    gwas = _gwas([("a", "1", 100, *gwas_alleles, 0.25)])
    table, outcome = harmonise(gwas, bim)
    assert list(outcome) == [expected]
    assert table["BETA"].tolist() == ([0.25 * sign] if sign else [])


def test_duplicate_detection_with_keys_too_large_to_pack():
    # keys past 2**62 / n_alleles**2 go through the frame path; packing them would wrap
    # around int64 and make (2**42, 0, 1) and (2**24, 0, 1) look equal with 2**20 alleles
    k = np.array([2**42, 2**24, 2**42, 5], dtype=np.int64)
    lo, hi = np.array([0, 0, 0, 0]), np.array([1, 1, 1, 1])
    assert _duplicated(k, lo, hi, 2**20).tolist() == [False, False, True, False]
    small = np.array([3, 3, 3, 4], dtype=np.int64)
    assert _duplicated(small, np.array([0, 0, 1, 0]), np.array([1, 1, 1, 1]), 4).tolist() == [
        False, True, False, False,
    ]  # fmt: skip
    assert _duplicated(np.array([], dtype=np.int64), lo[:0], hi[:0], 4).tolist() == []


def test_outcome_summary_of_plain_strings():
    # e.g. outcomes read back from a TSV: not a categorical, absent outcomes still listed
    summary = outcome_summary(pd.Series(["kept_same", "dropped_duplicate", "kept_same"]))
    assert summary["outcome"].tolist() == OUTCOMES
    expected = {o: 0 for o in OUTCOMES} | {"kept_same": 2, "dropped_duplicate": 1}
    assert summary["n"].tolist() == [expected[o] for o in OUTCOMES]


# A/T and C/G SNPs, strand told by frequencies: EAF is the GWAS effect allele's frequency,
# the cohort gives the frequency of the .bim's A1. (GWAS alleles, EAF, cohort A1 freq,
# expected outcome, expected sign of BETA), worked by hand with the band 0.4-0.6:
AMBIGUOUS = [
    # same letters, both rare (0.2, 0.25): same strand
    (("A", "T"), 0.2, 0.25, "kept_ambiguous_same_strand", 1),
    # same letters, GWAS A at 0.2 but cohort A at 0.8: the GWAS A is the cohort's T
    (("A", "T"), 0.2, 0.8, "kept_ambiguous_other_strand", -1),
    # swapped letters: GWAS T at 0.2, cohort T at 1 - 0.8 = 0.2: same strand, swapped
    (("T", "A"), 0.2, 0.8, "kept_ambiguous_same_strand", -1),
    # swapped letters, GWAS T at 0.2, cohort T at 0.8: other strand, so T is the cohort's A
    (("T", "A"), 0.2, 0.2, "kept_ambiguous_other_strand", 1),
    (("C", "G"), 0.9, 0.7, "kept_ambiguous_same_strand", 1),
    # GWAS G at 0.9, cohort G at 1 - 0.7: other strand, so the GWAS G is the cohort's C (A1)
    (("G", "C"), 0.9, 0.7, "kept_ambiguous_other_strand", 1),
    # band edges are outside the open band (0.4, 0.6)
    (("A", "T"), 0.4, 0.6, "kept_ambiguous_other_strand", -1),
    (("A", "T"), 0.6, 0.4, "kept_ambiguous_other_strand", -1),
    (("A", "T"), 0.6, 0.6, "kept_ambiguous_same_strand", 1),
    # one frequency inside the band, or unknown: strand cannot be told
    (("A", "T"), 0.45, 0.1, "dropped_ambiguous", 0),
    (("A", "T"), 0.59, 0.1, "dropped_ambiguous", 0),
    (("A", "T"), 0.1, 0.41, "dropped_ambiguous", 0),
    (("A", "T"), 0.1, 0.55, "dropped_ambiguous", 0),
    (("T", "A"), 0.1, 0.45, "dropped_ambiguous", 0),
    (("A", "T"), np.nan, 0.1, "dropped_ambiguous", 0),
    (("A", "T"), 0.1, np.nan, "dropped_ambiguous", 0),
]


def _ambiguous_inputs(cases, bim_alleles=None):
    bim_alleles = bim_alleles or [("A", "T") if set(c[0]) == {"A", "T"} else ("C", "G")
                                  for c in cases]  # fmt: skip
    bim = _bim([("1", f"rs{k}", 100 * (k + 1), *a) for k, a in enumerate(bim_alleles)])
    gwas = _gwas(
        [(f"g{k}", "1", 100 * (k + 1), *c[0], 0.3) for k, c in enumerate(cases)],
        EAF=[c[1] for c in cases],
    )  # fmt: skip
    freq = np.array([c[2] for c in cases])
    asked = []

    def a1_freq(rows):
        asked.append(np.asarray(rows).tolist())
        return freq[rows]

    return gwas, bim, a1_freq, asked


def test_ambiguous_strand_told_by_frequencies():
    gwas, bim, a1_freq, asked = _ambiguous_inputs(AMBIGUOUS)
    table, outcome = harmonise(gwas, bim, a1_freq=a1_freq)
    assert list(outcome) == [c[3] for c in AMBIGUOUS]
    assert asked == [list(range(len(AMBIGUOUS)))]  # .bim rows of the ambiguous SNPs
    kept = [k for k, c in enumerate(AMBIGUOUS) if c[4]]
    assert table["SNP"].tolist() == [f"rs{k}" for k in kept]
    assert table["BETA"].tolist() == [0.3 * AMBIGUOUS[k][4] for k in kept]


def test_ambiguous_band_setting_and_exact_half():
    cases = [(("A", "T"), 0.35, 0.2, None, None), (("A", "T"), 0.2, 0.65, None, None),
             (("A", "T"), 0.5, 0.2, None, None), (("A", "T"), 0.2, 0.5, None, None),
             (("A", "T"), 0.25, 0.2, None, None)]  # fmt: skip
    gwas, bim, a1_freq, _ = _ambiguous_inputs(cases)
    _, outcome = harmonise(gwas, bim, a1_freq=a1_freq, ambiguous_band=(0.3, 0.7))
    assert list(outcome) == ["dropped_ambiguous"] * 4 + ["kept_ambiguous_same_strand"]
    # an empty band leaves every frequency outside it, but 0.5 still tells no side
    _, outcome = harmonise(gwas, bim, a1_freq=a1_freq, ambiguous_band=(0.5, 0.5))
    assert list(outcome) == ["kept_ambiguous_same_strand", "kept_ambiguous_other_strand",
                             "dropped_ambiguous", "dropped_ambiguous",
                             "kept_ambiguous_same_strand"]  # fmt: skip


def test_ambiguous_needs_eaf_cohort_frequencies_and_matching_letters():
    cases = AMBIGUOUS[:2]
    gwas, bim, a1_freq, asked = _ambiguous_inputs(cases)
    _, outcome = harmonise(gwas, bim)  # no cohort frequencies
    assert list(outcome) == ["dropped_ambiguous"] * 2
    _, outcome = harmonise(gwas.drop(columns="EAF"), bim, a1_freq=a1_freq)
    assert list(outcome) == ["dropped_ambiguous"] * 2 and asked == []
    _, outcome = harmonise(gwas, bim, a1_freq=a1_freq, drop_ambiguous=False)
    assert list(outcome) == ["kept_same", "kept_same"] and asked == []
    # A/T against A/C or T/G shares letters but is not the same SNP; C/G is not A/T
    gwas, bim, a1_freq, asked = _ambiguous_inputs(
        [AMBIGUOUS[0]] * 4, bim_alleles=[("A", "C"), ("T", "G"), ("C", "G"), ("G", "T")]
    )
    _, outcome = harmonise(gwas, bim, a1_freq=a1_freq)
    assert list(outcome) == ["dropped_ambiguous"] * 4 and asked == []


def test_unambiguous_snps_ignore_frequencies():
    bim = _bim([("1", "rs1", 100, "A", "G"), ("1", "rs2", 200, "A", "T")])
    gwas = _gwas([("a", "1", 100, "A", "G", 0.1), ("b", "1", 200, "A", "T", 0.2)],
                 EAF=[0.1, 0.1])  # fmt: skip
    asked = []

    def a1_freq(rows):
        asked.append(np.asarray(rows).tolist())
        return np.array([0.9] * len(rows))

    table, outcome = harmonise(gwas, bim, a1_freq=a1_freq)
    assert list(outcome) == ["kept_same", "kept_ambiguous_other_strand"]
    assert asked == [[1]] and table["BETA"].tolist() == [0.1, -0.2]
