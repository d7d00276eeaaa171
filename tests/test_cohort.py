import numpy as np
import pandas as pd
import pytest

from neuropathx.cohort import build_cohort, load_cohort, read_participants
from neuropathx.errors import InputError

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


def _build(tmp_path, out):
    build_cohort(
        tmp_path / "participants.tsv",
        tmp_path / "genetics.tsv",
        tmp_path / "imaging.tsv",
        tmp_path / "qc.fam",
        out,
        CODING,
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
