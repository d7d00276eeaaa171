"""The cohort stage's covariates: gathered from participants, global measures and PCs, aligned
with subjects.tsv, subjects without a value excluded, and read back for training."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from neuropathx.cohort import build_cohort, load_cohort
from neuropathx.errors import InputError

CODING = {"diagnosis_column": "diagnosis", "case_value": "patient", "control_value": "control"}
CV = {"repeats": 1, "folds": 2, "val_fraction": 0.2}
SETTINGS = {"imaging": ["age", "sex", "eTIV"], "genetics": ["PC1"], "combat_batch": "site"}


def _inputs(tmp_path, n=16):
    rng = np.random.default_rng(1)
    ids = [f"sub-{i:02d}" for i in range(n)]
    age = [str(50 + i) for i in range(n)]
    age[3] = "n/a"
    pd.DataFrame(
        {
            "participant_id": ids,
            "diagnosis": ["patient" if i % 2 else "control" for i in range(n)],
            "age": age,
            "sex": ["M", "F"] * (n // 2),
            "site": ["A", "B", "C", "A"] * (n // 4),
        }
    ).to_csv(tmp_path / "participants.tsv", sep="\t", index=False)
    gen = pd.DataFrame(rng.normal(size=(n, 2)), columns=["P1", "P2"])
    gen.insert(0, "participant_id", ids)
    gen.to_csv(tmp_path / "genetics.tsv", sep="\t", index=False)
    img = pd.DataFrame(rng.normal(size=(n, 2)), columns=["lh_a__GrayVol", "rh_a__GrayVol"])
    img.insert(0, "participant_id", ids)
    img.to_csv(tmp_path / "imaging.tsv", sep="\t", index=False)
    glob = pd.DataFrame({"participant_id": ids, "eTIV": 1.4e6 + 1000 * np.arange(n)})
    glob.loc[5, "eTIV"] = np.nan  # no aseg.stats
    glob.to_csv(tmp_path / "global_measures.tsv", sep="\t", index=False)
    pcs = pd.DataFrame({"participant_id": ids[::-1], "PC1": np.arange(n) / 10, "PC2": 0.0})
    pcs.to_csv(tmp_path / "pcs.tsv", sep="\t", index=False)
    fam = pd.DataFrame({"f": ids, "i": ids, "p": 0, "m": 0, "s": 1, "ph": -9})
    fam.to_csv(tmp_path / "qc.fam", sep=" ", header=False, index=False)
    names = ("subjects", "genetics", "imaging", "splits", "exclusions", "covariates")
    return ids, {k: tmp_path / "out" / f"{k}.tsv" for k in names}


def _build(tmp_path, out, settings=SETTINGS, pcs=True):
    build_cohort(
        tmp_path / "participants.tsv",
        tmp_path / "genetics.tsv",
        tmp_path / "imaging.tsv",
        tmp_path / "qc.fam",
        out,
        CODING,
        CV,
        seed=3,
        covariates=settings,
        global_measures=tmp_path / "global_measures.tsv",
        pcs=tmp_path / "pcs.tsv" if pcs else None,
    )


def test_covariates_aligned_and_incomplete_subjects_excluded(tmp_path):
    ids, out = _inputs(tmp_path)
    _build(tmp_path, out)
    excl = pd.read_csv(out["exclusions"], sep="\t").set_index("participant_id")["reason"]
    assert excl.to_dict() == {
        "sub-03": "missing covariate(s) age",
        "sub-05": "missing covariate(s) eTIV",
    }
    cov = pd.read_csv(out["covariates"], sep="\t")
    subjects = pd.read_csv(out["subjects"], sep="\t")
    assert cov["participant_id"].tolist() == subjects["participant_id"].tolist()
    assert list(cov.columns) == ["participant_id", "age", "sex", "eTIV", "PC1", "site"]
    row = cov.set_index("participant_id").loc["sub-02"]
    assert (row["age"], row["sex"], row["eTIV"], row["site"]) == (52, "M", 1402000.0, "C")
    assert row["PC1"] == pytest.approx(1.3)  # pcs.tsv in another order: matched by ID
    spec = json.loads(out["covariates"].with_suffix(".json").read_text())
    assert spec == {
        "imaging": ["age", "sex", "eTIV"], "genetics": ["PC1"], "categorical": [],
        "batch": "site", "min_group_size": 2, "spline_df": {},
    }  # fmt: skip
    cohort = load_cohort(out["subjects"], out["genetics"], out["imaging"], out["covariates"])
    assert cohort.adjustment == spec and len(cohort.covariates) == len(cohort.subjects) == 14
    assert "participant_id" not in cohort.covariates.columns


def test_unknown_covariate_names_the_tables_and_their_columns(tmp_path):
    _, out = _inputs(tmp_path)
    with pytest.raises(InputError, match="covariate 'PC1' is in none of the tables") as err:
        _build(tmp_path, out, pcs=False)
    assert "'global_measures': ['eTIV']" in str(err.value)
    assert "'site'" in str(err.value)


def test_no_covariates_writes_ids_only(tmp_path):
    ids, out = _inputs(tmp_path)
    _build(tmp_path, out, settings={}, pcs=False)
    cov = pd.read_csv(out["covariates"], sep="\t")
    assert list(cov.columns) == ["participant_id"] and len(cov) == 16
