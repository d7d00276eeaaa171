import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from neuropathx.cohort import CohortArrays
from neuropathx.models import baselines
from neuropathx.models.baselines import train_baseline_fold, write_baseline_outputs


def _roles(n, rng):
    roles = np.array(["train"] * n, dtype=object)
    idx = rng.permutation(n)
    roles[idx[:16]] = "test"
    roles[idx[16:26]] = "val"
    return roles


@pytest.mark.parametrize("name", ["logreg_concat", "logreg_imaging", "logreg_genetics", "cca"])
def test_baselines_predict_and_write(tmp_path, small_cohort, rng, name):
    roles = _roles(len(small_cohort.subjects), rng)
    result = train_baseline_fold(small_cohort, roles, name, seed=0)
    write_baseline_outputs(result, tmp_path)
    pred = pd.read_csv(tmp_path / "predictions.tsv", sep="\t")
    assert list(pred.columns) == ["participant_id", "split", "label", "probability"]
    assert (pred["split"] == "test").sum() == 16
    assert pred["probability"].between(0, 1).all()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["n_train"] == 54 and metrics["n_val"] == 10 and metrics["n_test"] == 16
    # metrics are those of the written test predictions
    test = pred[pred["split"] == "test"]
    acc = ((test["probability"] >= 0.5).astype(int) == test["label"]).mean()
    assert metrics["accuracy"] == pytest.approx(acc)


def _additive_cohort(n: int, seed: int) -> CohortArrays:
    """Labels from pathway 0 + region 1 (no interaction): each modality holds half the signal."""
    rng = np.random.default_rng(seed)
    genetics, imaging = rng.normal(size=(n, 6)), rng.normal(size=(n, 5, 2))
    liability = genetics[:, 0] + imaging[:, 1, 0] + 0.5 * rng.normal(size=n)
    return CohortArrays(
        np.array([f"s{i}" for i in range(n)]),
        (liability > np.median(liability)).astype(int),
        genetics,
        [f"P{j}" for j in range(6)],
        imaging,
        [f"lh_r{k}" for k in range(5)],
        ["ThickAvg", "GrayVol"],
    )


def test_concat_beats_single_modality_on_held_out_subjects():
    """Judged on the test part only: 150 held-out subjects, AUC ~0.95 vs ~0.8 expected."""
    cohort = _additive_cohort(500, seed=3)
    roles = np.array(["train"] * 300 + ["val"] * 50 + ["test"] * 150, dtype=object)
    aucs = {}
    for name in ("logreg_concat", "logreg_genetics", "logreg_imaging"):
        result = train_baseline_fold(cohort, roles, name, seed=0)
        test = result.predictions[result.predictions["split"] == "test"]
        aucs[name] = roc_auc_score(test["label"], test["probability"])
        assert result.metrics["auc"] == pytest.approx(aucs[name])  # metrics are test metrics
    assert aucs["logreg_concat"] > max(aucs["logreg_genetics"], aucs["logreg_imaging"]) + 0.05
    assert min(aucs["logreg_genetics"], aucs["logreg_imaging"]) > 0.65  # each sees half


def _perturbed(cohort: CohortArrays, rows: np.ndarray) -> CohortArrays:
    genetics, imaging, labels = cohort.genetics.copy(), cohort.imaging.copy(), cohort.labels.copy()
    genetics[rows] = genetics[rows] * -5.0 + 40.0
    imaging[rows] = imaging[rows] * 7.0 - 3.0
    labels[rows] = 1 - labels[rows]
    return CohortArrays(
        cohort.subjects, labels, genetics, cohort.pathways, imaging, cohort.regions,
        cohort.measures,
    )  # fmt: skip


@pytest.mark.parametrize("name", ["logreg_concat", "logreg_imaging", "logreg_genetics", "cca"])
def test_test_rows_do_not_leak_into_the_fit(small_cohort, rng, name):
    """Test features and labels changed: same C, same predictions for every other subject."""
    roles = _roles(len(small_cohort.subjects), rng)
    test = roles == "test"
    base = train_baseline_fold(small_cohort, roles, name, seed=0)
    other = train_baseline_fold(_perturbed(small_cohort, test), roles, name, seed=0)
    assert other.metrics["selected_C"] == base.metrics["selected_C"]
    keep = base.predictions["split"] != "test"
    np.testing.assert_array_equal(
        other.predictions["probability"][keep], base.predictions["probability"][keep]
    )
    assert other.metrics["validation"] == base.metrics["validation"]


@pytest.mark.parametrize("name", ["logreg_concat", "logreg_imaging", "logreg_genetics", "cca"])
def test_validation_rows_only_choose_c(small_cohort, rng, name, monkeypatch):
    """With one C to choose from, validation rows changed leave the fitted model unchanged:
    scaler, CCA and classifier see training rows only."""
    monkeypatch.setattr(baselines, "C_GRID", (0.3,))
    roles = _roles(len(small_cohort.subjects), rng)
    val = roles == "val"
    base = train_baseline_fold(small_cohort, roles, name, seed=0)
    other = train_baseline_fold(_perturbed(small_cohort, val), roles, name, seed=0)
    keep = base.predictions["split"] != "val"
    np.testing.assert_array_equal(
        other.predictions["probability"][keep], base.predictions["probability"][keep]
    )
    assert other.metrics["auc"] == base.metrics["auc"]


def test_single_class_training_part_is_an_error(small_cohort, rng):
    roles = _roles(len(small_cohort.subjects), rng)
    roles[(roles == "train") & (small_cohort.labels == 1)] = ""
    with pytest.raises(ValueError, match="train part of the fold holds a single class"):
        train_baseline_fold(small_cohort, roles, "logreg_concat", seed=0)


def test_unknown_baseline(small_cohort, rng):
    with pytest.raises(ValueError, match="unknown baseline 'svm'"):
        train_baseline_fold(small_cohort, _roles(80, rng), "svm", seed=0)
