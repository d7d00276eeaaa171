import json

import numpy as np
import pandas as pd
import pytest

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


def test_concat_beats_single_modality_on_interaction_free_signal(small_cohort, rng):
    # labels depend on pathway 0 and region 1: the concatenated model sees both.
    roles = _roles(len(small_cohort.subjects), rng)
    train = roles == "train"
    aucs = {}
    for name in ("logreg_concat", "logreg_genetics"):
        result = train_baseline_fold(small_cohort, roles, name, seed=0)
        pred = result.predictions
        fit = pred[pred["split"] == "train"]
        from sklearn.metrics import roc_auc_score

        aucs[name] = roc_auc_score(fit["label"], fit["probability"])
    assert train.sum() == 54
    assert aucs["logreg_concat"] > aucs["logreg_genetics"]


def test_single_class_training_part_is_an_error(small_cohort, rng):
    roles = _roles(len(small_cohort.subjects), rng)
    roles[(roles == "train") & (small_cohort.labels == 1)] = ""
    with pytest.raises(ValueError, match="train part of the fold holds a single class"):
        train_baseline_fold(small_cohort, roles, "logreg_concat", seed=0)


def test_unknown_baseline(small_cohort, rng):
    with pytest.raises(ValueError, match="unknown baseline 'svm'"):
        train_baseline_fold(small_cohort, _roles(80, rng), "svm", seed=0)
