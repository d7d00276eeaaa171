"""neuropathx.imaging.regional_table on hand-built subject records: region-set checks and their
messages, the feature and global tables, robust z and the QC listing, every value by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.imaging.parcellations import DESIKAN_KILLIANY
from neuropathx.imaging.regional_table import (
    QC_COLUMNS,
    build_regional_table,
    flag_missing_etiv,
    flag_regional_values,
    robust_z,
)
from neuropathx.imaging.subjects import HemisphereStats, LoadProblem, SubjectStats


def _hemi(path, regions, base, measures=None):
    values = [[base + 10 * k, base + 10 * k + 1] for k in range(len(regions))]
    return HemisphereStats(path, tuple(regions), values, dict(measures or {}))


def _subject(name, lh=("a", "b"), rh=("a", "c"), base=0.0, etiv=1.5e6, lh_m=None, rh_m=None):
    return SubjectStats(
        name,
        {"lh": _hemi(f"{name}/lh.stats", lh, base, lh_m),
         "rh": _hemi(f"{name}/rh.stats", rh, base + 1000, rh_m)},
        etiv,
    )  # fmt: skip


def _build(loaded, **kw):
    return build_regional_table(loaded, ["V", "T"], parcellation="custom", **kw)


def test_features_columns_and_values_by_hand():
    s1 = _subject("s1")
    s2 = _subject("s2", lh=("b", "a"), base=100.0)  # other file order: matched by name
    table = _build([s1, s2])
    assert table.features.columns.tolist() == [
        "participant_id", "lh_a__V", "lh_a__T", "lh_b__V", "lh_b__T",
        "rh_a__V", "rh_a__T", "rh_c__V", "rh_c__T",
    ]  # fmt: skip
    assert table.features["participant_id"].tolist() == ["s1", "s2"]
    assert table.features.iloc[0, 1:].tolist() == [0, 1, 10, 11, 1000, 1001, 1010, 1011]
    # s2's lh rows are (b, a): a is its second row (110, 111), b its first (100, 101)
    assert table.features.iloc[1, 1:].tolist() == [110, 111, 100, 101, 1100, 1101, 1110, 1111]
    assert table.regions == {"lh": ["a", "b"], "rh": ["a", "c"]}
    assert table.excluded.columns.tolist() == ["participant_id", "reason"]
    assert table.excluded.empty
    assert table.excluded_regions.columns.tolist() == [
        "hemisphere", "region", "n_subjects", "reason"
    ]  # fmt: skip
    assert table.excluded_regions.empty


def test_excluded_regions_dropped_and_counted():
    s1 = _subject("s1", lh=("unknown", "a", "b"), rh=("a", "c", "corpuscallosum"))
    s2 = _subject("s2", lh=("a", "unknown", "b"))
    table = _build([s1, s2])
    assert table.regions == {"lh": ["a", "b"], "rh": ["a", "c"]}
    # s1's lh rows are (unknown, a, b): a is row 1 (10, 11), b row 2 (20, 21)
    assert table.features.iloc[0, 1:5].tolist() == [10, 11, 20, 21]
    reason = "excluded_regions setting (not a cortical parcel)"
    assert table.excluded_regions.values.tolist() == [
        ["lh", "unknown", 2, reason], ["rh", "corpuscallosum", 1, reason]
    ]  # fmt: skip
    custom = _build([s1, s2], exclude_regions=["b", "unknown", "corpuscallosum"])
    assert custom.regions == {"lh": ["a"], "rh": ["a", "c"]}
    kept_all = _build([_subject("s1", lh=("unknown", "a"))], exclude_regions=())
    assert kept_all.regions["lh"] == ["unknown", "a"] and kept_all.excluded_regions.empty


def test_subject_lacking_a_region_of_the_majority():
    subjects = [_subject(f"s{i}") for i in range(4)] + [_subject("s4", rh=("a",))]
    with pytest.raises(InputError) as err:
        _build(subjects)
    assert err.value.path.as_posix() == "s4/rh.stats"
    assert err.value.problem == "subject s4: lacks region 'c' (present in 4 of 5 subjects)"
    table = _build(subjects, missing="drop")
    assert table.features["participant_id"].tolist() == ["s0", "s1", "s2", "s3"]
    assert table.excluded.values.tolist() == [
        ["s4", "s4/rh.stats: subject s4: lacks region 'c' (present in 4 of 5 subjects)"]
    ]


def test_minority_region_is_an_extra_row_of_its_subjects_at_half_too():
    # 2 of 4 subjects have lh region "x": c = n / 2 counts as the extra row of those two
    subjects = [_subject("s0", lh=("a", "b", "x")), _subject("s1"), _subject("s2"),
                _subject("s3", lh=("a", "x", "b"))]  # fmt: skip
    with pytest.raises(InputError) as err:
        _build(subjects)
    assert err.value.path.as_posix() == "s0/lh.stats"
    assert err.value.problem == (
        "subject s0: has region 'x' that 2 of 4 subjects lack (different parcellation or "
        "FreeSurfer version?) (1 more subject(s) with a different region set)"
    )
    table = _build(subjects, missing="drop")
    assert table.features["participant_id"].tolist() == ["s1", "s2"]
    assert table.excluded["participant_id"].tolist() == ["s0", "s3"]
    # one minority-of-three subject: it lacks nothing, the majority lacks its row
    three = [_subject("s0", lh=("a", "b", "x")), _subject("s1"), _subject("s2")]
    with pytest.raises(InputError, match="^s0/lh.stats: subject s0: has region 'x' that 2 of 3"):
        _build(three)


def test_one_reason_per_subject_the_first_region_and_hemisphere():
    # s2 lacks lh b and rh c: its lh problem is its reason; s3 lacks rh a and rh c
    subjects = [_subject("s0"), _subject("s1"), _subject("s2", lh=("a",), rh=("a",)),
                _subject("s3", rh=()), _subject("s4"), _subject("s5")]  # fmt: skip
    table = _build(subjects, missing="drop")
    assert table.excluded.values.tolist() == [
        ["s2", "s2/lh.stats: subject s2: lacks region 'b' (present in 5 of 6 subjects)"],
        ["s3", "s3/rh.stats: subject s3: lacks region 'a' (present in 5 of 6 subjects)"],
    ]


def test_a_tie_between_two_region_sets():
    # 1 of 2 subjects has "x": it is the odd one (c <= n / 2); the other lacks nothing
    subjects = [_subject("s0"), _subject("s1", lh=("a", "b", "x"))]
    table = _build(subjects, missing="drop")
    assert table.features["participant_id"].tolist() == ["s0"]
    assert table.excluded["participant_id"].tolist() == ["s1"]


def test_every_subject_excluded_is_an_error():
    subjects = [_subject("s0", lh=("a", "x")), _subject("s1", lh=("a", "y"))]
    with pytest.raises(InputError) as err:
        _build(subjects, missing="drop")
    assert err.value.path is None
    assert err.value.problem == (
        "every subject was excluded: s0/lh.stats: subject s0: has region 'x' that 1 of 2 "
        "subjects lack (different parcellation or FreeSurfer version?)"
    )


def test_load_problems_error_or_excluded():
    broken = LoadProblem("b", "b/lh.stats", "line 3: expected 10 columns", missing=False)
    absent = LoadProblem("m", "m/lh.stats", "stats file not found", missing=True)
    absent2 = LoadProblem("n", "n", "FreeSurfer subject folder not found", missing=True)
    good = _subject("s0")
    with pytest.raises(InputError) as err:
        _build([absent, good, broken])
    assert err.value.path.as_posix() == "b/lh.stats"
    assert err.value.problem == "subject b: line 3: expected 10 columns"
    with pytest.raises(InputError) as err:
        _build([good, absent, absent2])
    assert err.value.path.as_posix() == "m/lh.stats"
    assert err.value.problem == "subject m: stats file not found (1 more subject(s) with missing)"
    table = _build([absent, good, broken], missing="drop")
    assert table.excluded.values.tolist() == [
        ["m", "m/lh.stats: stats file not found"],
        ["b", "b/lh.stats: line 3: expected 10 columns"],
    ]
    assert table.features["participant_id"].tolist() == ["s0"]


def test_three_broken_files_counted():
    broken = [LoadProblem(s, f"{s}/x", "bad", missing=False) for s in ("b1", "b2", "b3")]
    with pytest.raises(InputError) as err:
        _build([_subject("s0"), *broken])
    assert err.value.problem == "subject b1: bad (2 more subject(s) with errors)"


def test_nothing_readable_and_bad_missing_setting():
    problems = [LoadProblem("m", "m", "folder not found", missing=True)] * 2
    with pytest.raises(InputError) as err:
        _build(problems, missing="drop")
    assert err.value.path is None
    assert err.value.problem == "no subject has readable FreeSurfer stats (2 listed)"
    with pytest.raises(ValueError) as err:
        _build([_subject("s0")], missing="skip")
    assert str(err.value) == "missing must be 'error' or 'drop', got 'skip'"


def test_known_parcellation_lacking_parcels_is_one_error():
    full = DESIKAN_KILLIANY
    lh_short = tuple(r for r in full if r not in ("insula", "cuneus"))
    subjects = [_subject(f"s{i}", lh=full, rh=full) for i in range(3)]
    table = build_regional_table(subjects, ["V", "T"])  # the default parcellation is aparc
    assert table.regions == {"lh": list(full), "rh": list(full)}
    short = [_subject(f"s{i}", lh=full, rh=lh_short) for i in range(3)]
    for missing in ("error", "drop"):
        with pytest.raises(InputError) as err:
            build_regional_table(short, ["V", "T"], missing=missing)
        assert err.value.path.as_posix() == "s0/rh.stats"
        assert err.value.problem == (
            "all 3 subjects lack rh region(s) ['cuneus', 'insula'] of the 'aparc' parcellation: "
            "wrong parcellation setting or a FreeSurfer version/run that did not produce them"
        )
    lh_only = [_subject(f"s{i}", lh=lh_short, rh=full) for i in range(2)]
    with pytest.raises(InputError, match=r"^s0/lh.stats: all 2 subjects lack lh region"):
        build_regional_table(lh_only, ["V", "T"])
    # a parcellation without a known list is checked across subjects only
    assert build_regional_table(short, ["V", "T"], parcellation="BN_Atlas").regions["rh"] == list(
        lh_short
    )


def test_global_measures_and_header_tables():
    lh_m = {"NumVert": 100.0, "MeanThickness": 2.5, "eTIV": 1.0, "BrainSegVol": 9.0, "Q": 3.0}
    rh_m = {"NumVert": 200.0, "WhiteSurfArea": 7.0, "BrainSegVol": 9.5, "R": 4.0}
    s1 = _subject("s1", etiv=1.25e6, lh_m=lh_m, rh_m=rh_m)
    s2 = _subject("s2", etiv=np.nan, lh_m={**lh_m, "NumVert": 101.0}, rh_m=rh_m)
    table = _build([s1, s2])
    glob = table.global_measures
    assert glob.columns.tolist() == [
        "participant_id", "eTIV", "lh_NumVert", "lh_MeanThickness", "rh_NumVert",
        "rh_WhiteSurfArea", "BrainSegVol", "Q",
    ]  # fmt: skip
    assert glob["participant_id"].tolist() == ["s1", "s2"]
    assert glob["eTIV"].iloc[0] == 1.25e6 and np.isnan(glob["eTIV"].iloc[1])
    assert glob["lh_NumVert"].tolist() == [100.0, 101.0]
    assert glob["rh_NumVert"].tolist() == [200.0, 200.0]
    assert glob["BrainSegVol"].tolist() == [9.0, 9.0]  # whole-brain values from lh
    header = table.header_measures
    assert list(header) == ["lh", "rh"]
    assert header["lh"].index.tolist() == ["s1", "s2"]
    assert header["lh"].columns.tolist() == list(lh_m)
    assert header["rh"].loc["s2"].to_dict() == rh_m
    icv = _build([_subject("s1", lh_m={"ICV": 1.0, "MeanThickness": 2.0})]).global_measures
    assert icv.columns.tolist() == ["participant_id", "eTIV", "lh_MeanThickness"]


def test_robust_z_by_hand():
    x = np.array([[1.0, 5.0, 2.0], [2.0, 5.0, np.nan], [4.0, 5.0, 4.0], [10.0, 5.0, 8.0]])
    z = robust_z(x)
    # column 0: median 3, |x - 3| = 2, 1, 1, 7 -> MAD 1.5
    np.testing.assert_allclose(z[:, 0], np.array([-2.0, -1.0, 1.0, 7.0]) / (1.4826 * 1.5))
    assert np.isnan(z[:, 1]).all()  # MAD 0: no scale
    # column 2 without its NaN: median 4, |x - 4| = 2, 0, 4 -> MAD 2
    np.testing.assert_allclose(z[[0, 2, 3], 2], np.array([-2.0, 0.0, 4.0]) / (1.4826 * 2.0))
    assert np.isnan(z[1, 2])


def test_qc_listing_by_hand():
    features = pd.DataFrame(
        {
            "participant_id": ["s1", "s2", "s3", "s4", "s5"],
            "lh_a__V": [1.0, 1.1, 0.9, 1.0, 50.0],  # s5 an outlier
            "rh_b__T": [-10.0, np.nan, 2.0, 3.0, 4.0],  # s1 non-positive and an outlier
            "rh_c__T": [0.0, 3.0, 1.0, 3.0, 2.0],  # s1 zero: non-positive only
        }
    )
    qc = flag_regional_values(features, outlier_z=4.0)
    assert qc.columns.tolist() == QC_COLUMNS
    rows = qc[["participant_id", "region", "measure", "flag"]].values.tolist()
    assert rows == [
        ["s1", "rh_b", "T", "non_positive"],
        ["s1", "rh_b", "T", "robust_outlier"],
        ["s1", "rh_c", "T", "non_positive"],
        ["s2", "rh_b", "T", "missing_value"],
        ["s5", "lh_a", "V", "robust_outlier"],
    ]
    assert qc["value"].tolist()[:3] == [-10.0, -10.0, 0.0] and np.isnan(qc["value"].iloc[3])
    assert qc["value"].iloc[4] == 50.0
    # rh_b without its NaN: median 2.5, |x - 2.5| = 12.5, .5, .5, 1.5 -> MAD 1
    assert qc["robust_z"].iloc[1] == pytest.approx(-12.5 / 1.4826)
    assert qc["robust_z"].iloc[0] == qc["robust_z"].iloc[1]
    # rh_c: median 2, |x - 2| = 2, 1, 1, 1, 0 -> MAD 1
    assert qc["robust_z"].iloc[2] == pytest.approx(-2.0 / 1.4826)
    assert np.isnan(qc["robust_z"].iloc[3])
    # lh_a: median 1, |x - 1| = 0, .1, .1, 0, 49 -> MAD .1
    assert qc["robust_z"].iloc[4] == pytest.approx(49.0 / (1.4826 * 0.1))


def test_qc_outlier_threshold_is_strict_and_defaults_to_4():
    def table(last):  # median 3, MAD 1 whatever the last value (> 4)
        return pd.DataFrame({"participant_id": list("abcde"), "r__V": [2.0, 3.0, 3.0, 4.0, last]})

    exact = table(9.0)
    z = robust_z(exact[["r__V"]].to_numpy())[4, 0]
    assert z == pytest.approx(6.0 / 1.4826)
    assert flag_regional_values(exact, outlier_z=z).empty  # |z| > threshold, not >=
    assert flag_regional_values(exact, outlier_z=z * (1 - 1e-12))["participant_id"].tolist() == [
        "e"
    ]
    assert flag_regional_values(table(3.0 + 4.5 * 1.4826))["participant_id"].tolist() == ["e"]
    assert flag_regional_values(table(3.0 + 3.9 * 1.4826)).empty
    # all values equal: MAD 0, no z, nothing is an outlier
    same = pd.DataFrame({"participant_id": list("abc"), "r__V": [3.0, 3.0, 3.0]})
    assert flag_regional_values(same, outlier_z=0.0).empty


def test_qc_of_an_empty_table():
    qc = flag_regional_values(pd.DataFrame({"participant_id": ["s1"]}))
    assert qc.columns.tolist() == QC_COLUMNS and qc.empty


def test_missing_etiv_rows():
    glob = pd.DataFrame({"participant_id": ["a", "b", "c"], "eTIV": [1.0, np.nan, np.nan]})
    qc = flag_missing_etiv(glob)
    assert qc.columns.tolist() == QC_COLUMNS
    assert qc[["participant_id", "region", "measure", "flag"]].values.tolist() == [
        ["b", "global", "eTIV", "missing_eTIV"], ["c", "global", "eTIV", "missing_eTIV"]
    ]  # fmt: skip
    assert qc["value"].isna().all() and qc["robust_z"].isna().all()


def test_qc_of_one_value_and_of_integer_counts():
    # one subject, one feature: nothing to compare with (MAD undefined) but still checked
    one = flag_regional_values(pd.DataFrame({"participant_id": ["s1"], "lh_a__V": [0.0]}))
    assert one[["participant_id", "region", "measure", "value", "flag"]].values.tolist() == [
        ["s1", "lh_a", "V", 0.0, "non_positive"]
    ]
    assert np.isnan(one["robust_z"].iloc[0])
    # vertex counts are integers: values are reported as floats like every other measure
    counts = pd.DataFrame({"participant_id": ["s1", "s2", "s3"], "lh_a__NumVert": [0, 5, 6]})
    qc = flag_regional_values(counts)
    assert qc["flag"].tolist() == ["non_positive"] and qc["value"].tolist() == [0.0]
    assert qc["value"].dtype == np.float64


def test_qc_zero_mad_column_gives_no_z_and_no_warning():
    # MAD 0 but one value off the median: (9 - 3) / 0 would be inf; z is NaN, not flagged
    features = pd.DataFrame(
        {"participant_id": list("abcd"), "r__V": [3.0, 3.0, 3.0, 9.0], "s__V": [2.0] * 4}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero or 0/0 RuntimeWarning either
        z = robust_z(features[["r__V", "s__V"]].to_numpy())
        qc = flag_regional_values(features, outlier_z=0.5)
    assert np.isnan(z).all()
    assert qc.empty


def test_qc_region_names_may_contain_the_separator():
    # the measure is after the last "__" (as in features.split_feature_columns)
    features = pd.DataFrame({"participant_id": ["s1", "s2"], "lh_G__x__ThickAvg": [1.0, -1.0]})
    qc = flag_regional_values(features)
    assert qc[["participant_id", "region", "measure", "flag"]].values.tolist() == [
        ["s2", "lh_G__x", "ThickAvg", "non_positive"]
    ]
