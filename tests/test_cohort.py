import logging

import numpy as np
import pandas as pd
import pytest

from neuropathx.cohort import (
    CohortArrays,
    build_cohort,
    join_modalities,
    load_cohort,
    match_ids,
    read_participants,
)
from neuropathx.errors import InputError
from neuropathx.splits import make_splits

CODING = {"diagnosis_column": "diagnosis", "case_value": "patient", "control_value": "control"}
CV = {"repeats": 2, "folds": 3, "val_fraction": 0.2}


def _write(tmp_path, n=30, drop_gen=(), drop_img=(), nan_img=(), extra_img=(), qc_out=()):
    ids = [f"sub-{i:02d}" for i in range(n)]
    diag = ["patient" if i % 2 else "control" for i in range(n)]
    diag[0] = "other"  # neither case nor control
    pd.DataFrame(
        {"participant_id": ids, "diagnosis": diag, "age": 30.0, "sex": "F", "site": "A"}
    ).to_csv(tmp_path / "participants.tsv", sep="\t", index=False)
    rng = np.random.default_rng(0)
    gen_ids = [s for s in ids if s not in drop_gen and s not in qc_out]
    gen = pd.DataFrame(rng.normal(size=(len(gen_ids), 3)), columns=["P1", "P2", "P3"])
    gen.insert(0, "participant_id", gen_ids)
    gen.to_csv(tmp_path / "genetics.tsv", sep="\t", index=False)
    img_ids = [s for s in ids if s not in drop_img] + list(extra_img)
    cols = ["lh_a__ThickAvg", "lh_a__GrayVol", "rh_a__ThickAvg", "rh_a__GrayVol"]
    img = pd.DataFrame(rng.normal(size=(len(img_ids), 4)), columns=cols)
    img.insert(0, "participant_id", img_ids)
    for s in nan_img:
        img.loc[img["participant_id"] == s, "lh_a__GrayVol"] = np.nan
    img.to_csv(tmp_path / "imaging.tsv", sep="\t", index=False)
    fam = pd.DataFrame({"fid": gen_ids, "iid": gen_ids, "p": 0, "m": 0, "s": 2, "ph": -9})
    fam.to_csv(tmp_path / "qc.fam", sep=" ", header=False, index=False)
    names = ("subjects", "genetics", "imaging", "splits", "exclusions")
    out = {k: tmp_path / "out" / f"{k}.tsv" for k in names}
    return ids, out


def _build(tmp_path, out, coding=CODING):
    build_cohort(
        tmp_path / "participants.tsv",
        tmp_path / "genetics.tsv",
        tmp_path / "imaging.tsv",
        tmp_path / "qc.fam",
        out,
        coding,
        CV,
        seed=7,
    )


def test_join_counts_every_exclusion(tmp_path):
    ids, out = _write(
        tmp_path, qc_out=["sub-03"], drop_img=["sub-05"], nan_img=["sub-07"], extra_img=["sub-99"]
    )
    _build(tmp_path, out)
    excl = pd.read_csv(out["exclusions"], sep="\t").set_index("participant_id")["reason"]
    assert excl.to_dict() == {
        "sub-00": "diagnosis is neither case nor control",
        "sub-03": "not genotyped or removed by genotype QC",
        "sub-05": "no imaging features",
        "sub-07": "missing imaging feature(s)",
        "sub-99": "not in participants table",
    }
    subjects = pd.read_csv(out["subjects"], sep="\t")
    assert len(subjects) == 30 - 4  # every participant is kept or excluded, none lost
    assert set(subjects["participant_id"]).isdisjoint(excl.index)
    cohort = load_cohort(out["subjects"], out["genetics"], out["imaging"])
    assert cohort.imaging.shape == (26, 2, 2)
    assert cohort.regions == ["lh_a", "rh_a"] and cohort.measures == ["ThickAvg", "GrayVol"]
    assert list(cohort.labels) == [int(s[-2:]) % 2 for s in cohort.subjects]
    splits = pd.read_csv(out["splits"], sep="\t")
    assert set(splits["participant_id"]) == set(cohort.subjects)
    assert len(splits) == 26 * CV["repeats"] * CV["folds"]


def test_participants_errors(tmp_path):
    path = tmp_path / "p.tsv"
    pd.DataFrame({"participant_id": ["a", "a"], "diagnosis": ["patient", "control"]}).to_csv(
        path, sep="\t", index=False
    )
    with pytest.raises(InputError, match="duplicate participant_id"):
        read_participants(path, CODING)
    pd.DataFrame({"participant_id": ["a", "../b"], "diagnosis": ["patient", "control"]}).to_csv(
        path, sep="\t", index=False
    )
    with pytest.raises(InputError, match="unsafe as a path"):
        read_participants(path, CODING)
    pd.DataFrame({"participant_id": ["a", "b"], "diagnosis": ["patient", "patient"]}).to_csv(
        path, sep="\t", index=False
    )
    with pytest.raises(InputError, match="must hold both 'patient'"):
        read_participants(path, CODING)
    pd.DataFrame({"participant_id": ["a"], "dx": ["patient"]}).to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match=r"p.tsv: missing column\(s\) \['diagnosis'\]"):
        read_participants(path, CODING)


def test_single_class_after_join_is_an_error(tmp_path):
    ids, out = _write(tmp_path, qc_out=[f"sub-{i:02d}" for i in range(1, 30, 2)])
    with pytest.raises(InputError, match="only one class is left"):
        _build(tmp_path, out)


def test_load_cohort_rejects_misaligned_tables(tmp_path):
    ids, out = _write(tmp_path)
    _build(tmp_path, out)
    img = pd.read_csv(out["imaging"], sep="\t")
    img.iloc[::-1].to_csv(out["imaging"], sep="\t", index=False)
    with pytest.raises(InputError, match="subject IDs differ"):
        load_cohort(out["subjects"], out["genetics"], out["imaging"])


def _arrays(**change):
    n, p, r, f = 3, 2, 2, 2
    imaging = np.array([[[100 * i + 10 * j + k for k in range(f)] for j in range(r)]
                        for i in range(n)], dtype=float)  # fmt: skip
    args = dict(subjects=np.array(["a", "b", "c"]), labels=np.array([0, 1, 0]),
                genetics=np.zeros((n, p)), pathways=["P1", "P2"], imaging=imaging,
                regions=["lh_x", "rh_x"], measures=["GrayVol", "ThickAvg"])  # fmt: skip
    return CohortArrays(**{**args, **change})


def test_imaging_flat_is_region_major_like_its_columns():
    arrays = _arrays()
    assert arrays.imaging_flat.tolist() == [[0, 1, 10, 11], [100, 101, 110, 111],
                                            [200, 201, 210, 211]]  # fmt: skip
    assert arrays.imaging_columns == [
        "lh_x__GrayVol", "lh_x__ThickAvg", "rh_x__GrayVol", "rh_x__ThickAvg"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"labels": np.array([0, 1])}, "modalities hold different numbers of subjects"),
        ({"labels": np.zeros((3, 1))}, "modalities hold different numbers of subjects"),
        ({"genetics": np.zeros((2, 2))}, "modalities hold different numbers of subjects"),
        ({"imaging": np.zeros((4, 2, 2))}, "modalities hold different numbers of subjects"),
        ({"pathways": ["P1"]}, "genetics columns do not match pathway names"),
        ({"regions": ["lh_x"]}, "imaging shape does not match region/measure names"),
        ({"measures": ["GrayVol"]}, "imaging shape does not match region/measure names"),
        ({"covariates": pd.DataFrame({"age": [1.0, 2.0]})},
         "covariates hold a different number of subjects"),
    ],
)  # fmt: skip
def test_cohort_arrays_check_every_shape(change, message):
    with pytest.raises(ValueError) as err:
        _arrays(**change)
    assert str(err.value) == f"CohortArrays: {message}"


def test_cohort_arrays_take_matching_covariates():
    cov = pd.DataFrame({"age": [1.0, 2.0, 3.0]})
    assert _arrays(covariates=cov).covariates is cov


def test_load_cohort_values_by_hand(tmp_path):
    ids = ["007", "sub-2", "x"]
    pd.DataFrame({"participant_id": ids, "label": [1, 0, 1], "diagnosis": "d"}).to_csv(
        tmp_path / "s.tsv", sep="\t", index=False)  # fmt: skip
    pd.DataFrame({"participant_id": ids, "B": [0.5, 1.5, 2.5], "A": [-1.0, 0.0, 1.0]}).to_csv(
        tmp_path / "g.tsv", sep="\t", index=False)  # fmt: skip
    # measure-major columns in the file: the arrays are still (subject, region, measure)
    img = {"participant_id": ids, "lh_a__T": [1, 2, 3], "rh_a__T": [4, 5, 6],
           "lh_a__V": [7, 8, 9], "rh_a__V": [10, 11, 12]}  # fmt: skip
    pd.DataFrame(img).to_csv(tmp_path / "i.tsv", sep="\t", index=False)
    cohort = load_cohort(tmp_path / "s.tsv", tmp_path / "g.tsv", tmp_path / "i.tsv")
    assert cohort.subjects.tolist() == ids and cohort.subjects.dtype.kind == "U"
    assert cohort.labels.tolist() == [1, 0, 1] and cohort.labels.dtype.kind == "i"
    assert cohort.pathways == ["B", "A"]
    assert cohort.genetics.tolist() == [[0.5, -1.0], [1.5, 0.0], [2.5, 1.0]]
    assert cohort.regions == ["lh_a", "rh_a"] and cohort.measures == ["T", "V"]
    assert cohort.imaging.dtype == float
    assert cohort.imaging[1].tolist() == [[2, 8], [5, 11]]
    assert cohort.covariates is None and cohort.adjustment is None
    pd.DataFrame({"participant_id": ids[::-1], "B": 0.0}).to_csv(
        tmp_path / "g.tsv", sep="\t", index=False)  # fmt: skip
    with pytest.raises(InputError) as err:
        load_cohort(tmp_path / "s.tsv", tmp_path / "g.tsv", tmp_path / "i.tsv")
    assert err.value.path == tmp_path / "g.tsv"
    assert err.value.problem == f"subject IDs differ from {tmp_path / 's.tsv'} (order or content)"


def test_match_ids_other_prefix_and_the_default():
    known = {"p7", "8", "sub-9"}
    assert match_ids(["7", "p8", "p7", "p9", "9"], known, prefix="p") == {"7": "p7", "p8": "8"}
    assert match_ids(["9", "sub-8", "sub-9"], known) == {"9": "sub-9", "sub-8": "8"}


def _participants(tmp_path, ids, diagnosis, column="diagnosis"):
    path = tmp_path / "p.tsv"
    pd.DataFrame({"participant_id": ids, column: diagnosis}).to_csv(path, sep="\t", index=False)
    return path


def test_read_participants_labels_with_the_default_coding(tmp_path):
    path = _participants(tmp_path, ["a", "b", "c", "d"], ["control", "patient", "MCI", None])
    table = read_participants(path, {})
    assert table["label"].tolist() == [0, 1, -1, -1]
    assert table["participant_id"].tolist() == ["a", "b", "c", "d"]


def test_read_participants_configured_coding(tmp_path):
    path = _participants(tmp_path, ["a", "b", "c"], ["AD", "CN", "patient"], column="dx")
    coding = {"diagnosis_column": "dx", "case_value": "AD", "control_value": "CN"}
    assert read_participants(path, coding)["label"].tolist() == [1, 0, -1]


@pytest.mark.parametrize("values", [["patient", "MCI", None], ["control", "MCI", "control"]])
def test_read_participants_need_both_classes(tmp_path, values):
    path = _participants(tmp_path, ["a", "b", "c"], values)
    with pytest.raises(InputError) as err:
        read_participants(path, CODING)
    found = sorted(v for v in set(values) if v is not None)
    assert err.value.path == path and err.value.problem == (
        "column 'diagnosis' must hold both 'patient' (patients) and 'control' (controls); "
        f"found values {found}"
    )


def test_read_participants_empty_ids_named_by_line(tmp_path):
    ids = ["a", None, "c", None, "e"]
    path = _participants(tmp_path, ids, ["patient", "control"] * 2 + ["control"])
    with pytest.raises(InputError) as err:
        read_participants(path, CODING)
    assert err.value.path == path and err.value.problem == "empty participant_id on line(s) [3, 5]"


def test_duplicates_listed_once_each_at_most_five(tmp_path):
    ids = [f"s{i}" for i in range(7)] * 2 + ["t"]
    path = _participants(tmp_path, ids, ["patient", "control"] * 7 + ["control"])
    with pytest.raises(InputError) as err:
        read_participants(path, CODING)
    assert err.value.path == path
    assert err.value.problem == "duplicate participant_id(s): ['s0', 's1', 's2', 's3', 's4']"


def test_join_modalities_reason_of_each_exclusion_in_order():
    participants = pd.DataFrame(
        {"participant_id": list("abcdefgh"), "label": [-1, 1, 0, 1, 0, 1, 0, 1]}
    )
    gen = pd.DataFrame({"participant_id": list("acdefgh") + ["zz", "yy"],
                        "P": [0.0, 1, np.nan, 2, 3, 4, 5, 6, 7]})  # fmt: skip
    img = pd.DataFrame({"participant_id": list("abcdgh") + ["yy", "xx"],
                        "r__V": [0.0, 1, 2, 3, np.nan, 5, 6, 7]})  # fmt: skip
    genotyped = list("abdefgh") + ["zz"]  # c failed QC; a is unlabelled anyway
    kept, exclusions = join_modalities(participants, gen, img, genotyped)
    assert exclusions.columns.tolist() == ["participant_id", "reason"]
    assert exclusions.values.tolist() == [
        ["a", "diagnosis is neither case nor control"],
        ["b", "no pathway scores"],
        ["c", "not genotyped or removed by genotype QC"],
        ["d", "missing pathway score(s)"],
        ["e", "no imaging features"],
        ["f", "no imaging features"],
        ["g", "missing imaging feature(s)"],
        ["xx", "not in participants table"],
        ["yy", "not in participants table"],
        ["zz", "not in participants table"],
    ]
    assert kept.to_dict("list") == {"participant_id": ["h"], "label": [1]}
    assert kept.index.tolist() == [0]


def test_outputs_in_participants_order_with_the_genetics_values(tmp_path, caplog):
    ids, out = _write(tmp_path, drop_img=["sub-05"])
    gen = pd.read_csv(tmp_path / "genetics.tsv", sep="\t")
    gen.iloc[::-1].to_csv(tmp_path / "genetics.tsv", sep="\t", index=False)  # another order
    caplog.set_level(logging.INFO, logger="neuropathx.cohort")
    _build(tmp_path, out)
    kept = [s for s in ids if s not in ("sub-00", "sub-05")]
    subjects = pd.read_csv(out["subjects"], sep="\t", dtype={"participant_id": str})
    assert subjects.columns.tolist() == ["participant_id", "label", "diagnosis", "age", "sex",
                                         "site"]  # fmt: skip
    assert subjects["participant_id"].tolist() == kept
    assert subjects["label"].tolist() == [int(s[-2:]) % 2 for s in kept]
    written = pd.read_csv(out["genetics"], sep="\t")
    expected = gen.set_index("participant_id").loc[kept].reset_index()
    pd.testing.assert_frame_equal(written, expected)
    assert pd.read_csv(out["imaging"], sep="\t")["participant_id"].tolist() == kept
    splits = pd.read_csv(out["splits"], sep="\t", dtype={"participant_id": str})
    expected = make_splits(np.array(kept), subjects["label"].to_numpy(), 2, 3, 0.2, seed=7)
    pd.testing.assert_frame_equal(splits, expected, check_dtype=False)
    assert "covariates" not in out and not (tmp_path / "out" / "covariates.tsv").exists()
    messages = [r.getMessage() for r in caplog.records]
    assert "cohort: 28 subjects kept, 2 excluded" in messages
    assert "  excluded 1: no imaging features" in messages
    assert "  excluded 1: diagnosis is neither case nor control" in messages
    assert not any("matched up to the prefix" in m for m in messages)


def test_prefix_matches_are_logged(tmp_path, caplog):
    ids, out = _write(tmp_path, n=12)
    gen = pd.read_csv(tmp_path / "genetics.tsv", sep="\t")
    gen["participant_id"] = gen["participant_id"].str.removeprefix("sub-")
    gen.to_csv(tmp_path / "genetics.tsv", sep="\t", index=False)
    caplog.set_level(logging.INFO, logger="neuropathx.cohort")
    _build(tmp_path, out)
    messages = [r.getMessage() for r in caplog.records]
    assert "cohort: 12 genetics ID(s) matched up to the prefix 'sub-'" in messages
    assert not any("imaging ID(s) matched" in m or "PLINK ID(s)" in m for m in messages)


def test_subject_columns_without_the_optional_ones(tmp_path):
    ids, out = _write(tmp_path, n=12)
    part = pd.read_csv(tmp_path / "participants.tsv", sep="\t")
    part.drop(columns=["age", "site"]).rename(columns={"diagnosis": "group"}).to_csv(
        tmp_path / "participants.tsv", sep="\t", index=False)  # fmt: skip
    coding = {**CODING, "diagnosis_column": "group"}
    inputs = [tmp_path / f for f in ("participants.tsv", "genetics.tsv", "imaging.tsv", "qc.fam")]
    build_cohort(*inputs, out, coding, CV, seed=7)
    subjects = pd.read_csv(out["subjects"], sep="\t")
    assert subjects.columns.tolist() == ["participant_id", "label", "group", "sex"]


def test_load_cohort_keeps_numeric_looking_ids_as_text(tmp_path):
    ids = ["007", "010", "123"]
    pd.DataFrame({"participant_id": ids, "label": [1.0, 0.0, 1.0]}).to_csv(
        tmp_path / "s.tsv", sep="\t", index=False)  # fmt: skip
    pd.DataFrame({"participant_id": ids, "P": [1, 2, 3]}).to_csv(
        tmp_path / "g.tsv", sep="\t", index=False)  # fmt: skip
    pd.DataFrame({"participant_id": ids, "r__V": [4.0, 5.0, 6.0]}).to_csv(
        tmp_path / "i.tsv", sep="\t", index=False)  # fmt: skip
    cohort = load_cohort(tmp_path / "s.tsv", tmp_path / "g.tsv", tmp_path / "i.tsv")
    assert cohort.subjects.tolist() == ids
    assert cohort.labels.dtype.kind == "i" and cohort.labels.tolist() == [1, 0, 1]
    assert cohort.genetics.dtype == float and cohort.genetics[:, 0].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("table", "column"),
    [("s", "label"), ("s", "participant_id"), ("g", "participant_id"), ("i", "participant_id")],
)
def test_load_cohort_names_a_missing_column(tmp_path, table, column):
    ids = ["a", "b"]
    tables = {"s": {"participant_id": ids, "label": [1, 0]}, "g": {"participant_id": ids, "P": 1.0},
              "i": {"participant_id": ids, "r__V": 2.0}}  # fmt: skip
    del tables[table][column]
    tables[table]["other"] = [0, 0]
    for name, cols in tables.items():
        pd.DataFrame(cols).to_csv(tmp_path / f"{name}.tsv", sep="\t", index=False)
    with pytest.raises(InputError) as err:
        load_cohort(tmp_path / "s.tsv", tmp_path / "g.tsv", tmp_path / "i.tsv")
    assert err.value.path == tmp_path / f"{table}.tsv"
    assert err.value.problem.startswith(f"missing column(s) ['{column}']")


def _tables(tmp_path, part_ids, gen_ids, img_ids, fam_ids):
    diag = ["patient" if i % 2 else "control" for i in range(len(part_ids))]
    pd.DataFrame({"participant_id": part_ids, "diagnosis": diag}).to_csv(
        tmp_path / "participants.tsv", sep="\t", index=False)  # fmt: skip
    gen = pd.DataFrame({"participant_id": gen_ids, "P1": np.arange(len(gen_ids)) / 4})
    gen.to_csv(tmp_path / "genetics.tsv", sep="\t", index=False)
    img = pd.DataFrame({"participant_id": img_ids, "lh_a__V": np.arange(len(img_ids)) + 0.5})
    img.to_csv(tmp_path / "imaging.tsv", sep="\t", index=False)
    fam = pd.DataFrame({"f": fam_ids, "i": fam_ids, "p": 0, "m": 0, "s": 1, "ph": -9})
    fam.to_csv(tmp_path / "qc.fam", sep=" ", header=False, index=False)
    names = ("subjects", "genetics", "imaging", "splits", "exclusions")
    return {k: tmp_path / "out" / f"{k}.tsv" for k in names}


def test_configured_prefix_matches_imaging_and_plink_ids(tmp_path, caplog):
    ids = [f"{i:02d}" for i in range(12)]
    part = [f"P-{i}" for i in ids]
    out = _tables(tmp_path, part, part, ids, ids)
    caplog.set_level(logging.INFO, logger="neuropathx.cohort")
    _build(tmp_path, out, coding={**CODING, "id_prefix": "P-"})
    messages = [r.getMessage() for r in caplog.records]
    assert "cohort: 12 imaging ID(s) matched up to the prefix 'P-'" in messages
    assert "cohort: 12 PLINK ID(s) matched up to the prefix 'P-'" in messages
    assert not any("genetics ID(s)" in m for m in messages)
    assert pd.read_csv(out["exclusions"], sep="\t").empty
    img = pd.read_csv(out["imaging"], sep="\t")
    assert img["participant_id"].tolist() == part
    assert img["lh_a__V"].tolist() == [k + 0.5 for k in range(12)]


def test_configured_prefix_matches_genetics_ids_too(tmp_path, caplog):
    ids = [f"{i:02d}" for i in range(12)]
    part = [f"P-{i}" for i in ids]
    out = _tables(tmp_path, part, ids, part, part)
    caplog.set_level(logging.INFO, logger="neuropathx.cohort")
    _build(tmp_path, out, coding={**CODING, "id_prefix": "P-"})
    messages = [r.getMessage() for r in caplog.records]
    assert "cohort: 12 genetics ID(s) matched up to the prefix 'P-'" in messages
    assert pd.read_csv(out["exclusions"], sep="\t").empty
    gen = pd.read_csv(out["genetics"], sep="\t")
    assert gen["participant_id"].tolist() == part
    assert gen["P1"].tolist() == [k / 4 for k in range(12)]


def test_numeric_looking_ids_stay_text(tmp_path):
    ids = [f"{i:03d}" for i in range(12)]
    out = _tables(tmp_path, ids, ids, ids, ids)
    _build(tmp_path, out)
    assert pd.read_csv(out["exclusions"], sep="\t").empty
    for name in ("subjects", "genetics", "imaging"):
        table = pd.read_csv(out[name], sep="\t", dtype=str)
        assert table["participant_id"].tolist() == ids


@pytest.mark.parametrize("name", ["genetics", "imaging"])
def test_modality_table_without_ids_or_with_duplicates_is_named(tmp_path, name):
    ids = [f"sub-{i:02d}" for i in range(12)]
    _tables(tmp_path, ids, ids, ids, ids)
    path = tmp_path / f"{name}.tsv"
    table = pd.read_csv(path, sep="\t")
    table.rename(columns={"participant_id": "id"}).to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError) as err:
        _build(tmp_path, {})
    assert err.value.path == path and err.value.problem.startswith(
        "missing column(s) ['participant_id']"
    )
    table.iloc[[0, 1, 1]].to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError) as err:
        _build(tmp_path, {})
    assert err.value.path == path
    assert err.value.problem == "duplicate participant_id(s): ['sub-01']"


def _with_pcs(tmp_path, pcs_ids, pcs_column="participant_id"):
    ids = [f"{i:03d}" for i in range(12)]
    out = _tables(tmp_path, ids, ids, ids, ids)
    pcs = pd.DataFrame({pcs_column: pcs_ids, "PC1": np.arange(12) / 8, "PC2": 1.0})
    pcs.to_csv(tmp_path / "pcs.tsv", sep="\t", index=False)
    return ids, {**out, "covariates": tmp_path / "out" / "covariates.tsv"}


def _build_pcs(tmp_path, out, settings):
    inputs = [tmp_path / f for f in ("participants.tsv", "genetics.tsv", "imaging.tsv", "qc.fam")]
    build_cohort(*inputs, out, CODING, CV, seed=7, covariates=settings, pcs=tmp_path / "pcs.tsv")


def test_pcs_matched_by_text_ids(tmp_path):
    ids, out = _with_pcs(tmp_path, [f"{i:03d}" for i in range(12)][::-1])
    _build_pcs(tmp_path, out, {"genetics": ["PC1"]})
    cov = pd.read_csv(out["covariates"], sep="\t", dtype={"participant_id": str})
    assert cov["participant_id"].tolist() == ids
    assert cov["PC1"].tolist() == [k / 8 for k in range(12)][::-1]


def test_pcs_table_without_ids_and_unknown_covariate_named(tmp_path):
    ids, out = _with_pcs(tmp_path, [f"{i:03d}" for i in range(12)], pcs_column="IID")
    with pytest.raises(InputError) as err:
        _build_pcs(tmp_path, out, {"genetics": ["PC1"]})
    assert err.value.path == tmp_path / "pcs.tsv"
    assert err.value.problem.startswith("missing column(s) ['participant_id']")
    ids, out = _with_pcs(tmp_path, ids)
    with pytest.raises(InputError, match=r"'pcs': \['PC1', 'PC2'\]"):
        _build_pcs(tmp_path, out, {"genetics": ["PC9"]})


@pytest.mark.parametrize("name", ["genetics", "imaging"])
def test_unsafe_id_in_a_modality_table_names_it(tmp_path, name):
    ids = [f"sub-{i:02d}" for i in range(12)]
    _tables(tmp_path, ids, ids, ids, ids)
    path = tmp_path / f"{name}.tsv"
    table = pd.read_csv(path, sep="\t")
    table.loc[3, "participant_id"] = "../x"
    table.to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match="unsafe as a path") as err:
        _build(tmp_path, {})
    assert err.value.path == path


def test_single_class_error_names_the_participants_table(tmp_path):
    ids, out = _write(tmp_path, qc_out=[f"sub-{i:02d}" for i in range(1, 30, 2)])
    with pytest.raises(InputError) as err:
        _build(tmp_path, out)
    assert err.value.path == tmp_path / "participants.tsv"


def test_default_coding(tmp_path):
    ids = [f"sub-{i:02d}" for i in range(12)]
    out = _tables(tmp_path, ids, ids, ids, ids)
    _build(tmp_path, out, coding={})
    subjects = pd.read_csv(out["subjects"], sep="\t")
    assert subjects.columns.tolist() == ["participant_id", "label", "diagnosis"]
    assert subjects["label"].tolist() == [k % 2 for k in range(12)]


def test_empty_ids_listed_five_at_most(tmp_path):
    ids = ["a", "b"] + [None] * 6
    path = _participants(tmp_path, ids, ["patient", "control"] * 4)
    with pytest.raises(InputError) as err:
        read_participants(path, CODING)
    assert err.value.problem == "empty participant_id on line(s) [4, 5, 6, 7, 8]"
