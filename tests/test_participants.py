"""participants.tsv checked against its schema first: every problem at once, BIDS conventions
accepted; IDs matched across modalities up to the BIDS prefix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neuropathx.cohort import build_cohort, match_ids
from neuropathx.errors import InputError
from neuropathx.imaging.stage import build_imaging_features
from neuropathx.imaging.synthetic import random_parc_values, write_subject_stats
from neuropathx.participants import check_participants

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "participants.schema.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "participants.tsv"
    p.write_text(text)
    return p


def test_bids_conventions_accepted_and_normalised(tmp_path):
    p = _write(
        tmp_path,
        "\ufeffparticipant_id\tdiagnosis\tage\tsex\tsite\n"
        "sub-01\tpatient\t61.5\tmale\tA\n"
        "sub-02\tcontrol\tn/a\t2\tB\n"
        "sub-03\tcontrol\t70\tF\tn/a\n"
        "sub-04\tpatient\t\t1\tA\n",
    )
    table = check_participants(p, SCHEMA)
    assert table["sex"].tolist() == ["M", "F", "F", "M"]
    assert table["age"].tolist() == ["61.5", "", "70", ""]
    assert table["site"].tolist() == ["A", "B", "", "A"]


def test_every_problem_listed_at_once(tmp_path):
    p = _write(
        tmp_path,
        "participant_id\tdiagnosis\tage\tsex\n"
        "sub-01\tpatient\t-4\tM\n"
        "../x\tcontrol\t50\tF\n"
        "sub-03\tcontrol\tfifty\tX\n"
        "sub-01\tcontrol\t50\tF\n"
        "n/a\tcontrol\t50\tF\n",
    )
    with pytest.raises(InputError) as err:
        check_participants(p, SCHEMA)
    msg = str(err.value)
    assert str(p) in msg and "6 problem(s) against participants.schema.yaml" in msg
    assert "line 2 (sub-01), age: -4.0 is less than the minimum of 0" in msg
    assert "line 3 (../x), participant_id: '../x' does not match" in msg
    assert "line 4 (sub-03), age: 'fifty' is not of type 'number'" in msg
    assert "line 4 (sub-03), sex: 'X' is not one of ['M', 'F']" in msg
    assert "participant_id 'sub-01' on lines [2, 5] (duplicate)" in msg
    assert "line 6, row: 'participant_id' is a required property" in msg


def test_missing_column_and_configured_diagnosis_column(tmp_path):
    p = _write(tmp_path, "participant_id\tgroup\nsub-01\tAD\n")
    with pytest.raises(InputError, match=r"missing column 'diagnosis' \(found \['participant_id'"):
        check_participants(p, SCHEMA)
    assert len(check_participants(p, SCHEMA, {"diagnosis_column": "group"})) == 1


def test_match_ids_up_to_the_prefix():
    known = {"sub-01", "sub-02", "03"}
    assert match_ids(["01", "sub-02", "sub-03", "04"], known) == {"01": "sub-01", "sub-03": "03"}
    assert match_ids(["01"], known, prefix="") == {}


def test_prefix_on_one_side_only_joins_the_modalities(tmp_path):
    """participants.tsv says sub-XX; FreeSurfer folders and PLINK IIDs say XX."""
    rng = np.random.default_rng(0)
    ids = [f"{i:02d}" for i in range(12)]
    fs = tmp_path / "fs"
    for s in ids:
        write_subject_stats(fs, s, {h: random_parc_values(rng, 34) for h in ("lh", "rh")})
    diag = ["patient" if i % 2 else "control" for i in range(12)]
    part = tmp_path / "participants.tsv"
    pd.DataFrame({"participant_id": [f"sub-{s}" for s in ids], "diagnosis": diag}).to_csv(
        part, sep="\t", index=False
    )
    build_imaging_features(str(fs), str(part), str(tmp_path / "img"), settings={})
    img = pd.read_csv(tmp_path / "img" / "regional_features.tsv", sep="\t")
    assert img["participant_id"].tolist() == [f"sub-{s}" for s in ids]
    gen = pd.DataFrame(rng.normal(size=(12, 2)), columns=["P1", "P2"])
    gen.insert(0, "participant_id", ids)
    gen.to_csv(tmp_path / "gen.tsv", sep="\t", index=False)
    fam = pd.DataFrame({"f": ids, "i": ids, "p": 0, "m": 0, "s": 1, "ph": -9})
    fam.to_csv(tmp_path / "qc.fam", sep=" ", header=False, index=False)
    names = ("subjects", "genetics", "imaging", "splits", "exclusions")
    out = {k: tmp_path / "out" / f"{k}.tsv" for k in names}
    coding = {"diagnosis_column": "diagnosis", "case_value": "patient", "control_value": "control"}
    cv = {"repeats": 1, "folds": 2, "val_fraction": 0.2}
    args = (part, tmp_path / "gen.tsv", tmp_path / "img" / "regional_features.tsv")
    build_cohort(*args, tmp_path / "qc.fam", out, coding, cv, seed=1)
    assert len(pd.read_csv(out["subjects"], sep="\t")) == 12
    assert pd.read_csv(out["exclusions"], sep="\t").empty
    with pytest.raises(InputError, match=r"only one class is left \(0 subjects\)"):
        build_cohort(*args, tmp_path / "qc.fam", out, {**coding, "id_prefix": ""}, cv, seed=1)
