"""neuropathx.metrics equals scikit-learn's metrics, ties and edge cases included."""

import math
import warnings

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score, f1_score, roc_auc_score

from neuropathx.metrics import binary_metrics, rank_auc


@pytest.mark.parametrize("seed", range(6))
def test_binary_metrics_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 200))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    prob = np.round(rng.random(n), 1)  # coarse: many tied scores
    got = binary_metrics(y, prob)
    pred = (prob >= 0.5).astype(int)
    assert got["auc"] == pytest.approx(roc_auc_score(y, prob), abs=1e-12)
    assert got["f1"] == pytest.approx(f1_score(y, pred, zero_division=0.0), abs=1e-12)
    assert got["kappa"] == pytest.approx(cohen_kappa_score(y, pred), abs=1e-12)
    assert got["accuracy"] == pytest.approx(np.mean(pred == y))


def test_hand_computed_table():
    # tp 2, fn 1, tn 3, fp 1: sensitivity 2/3, specificity 3/4, F1 4/6,
    # kappa: observed 5/7, chance (3*3 + 4*4)/49 = 25/49 -> (35/49 - 25/49) / (24/49) = 10/24
    y = np.array([1, 1, 1, 0, 0, 0, 0])
    prob = np.array([0.9, 0.8, 0.2, 0.1, 0.3, 0.4, 0.7])
    got = binary_metrics(y, prob)
    assert got["sensitivity"] == pytest.approx(2 / 3)
    assert got["specificity"] == pytest.approx(3 / 4)
    assert got["f1"] == pytest.approx(4 / 6)
    assert got["kappa"] == pytest.approx(10 / 24)
    assert got["auc"] == pytest.approx(9 / 12)  # patient-control pairs ranked right: 4 + 4 + 1


def test_auc_ties_count_half_and_one_class_is_nan():
    assert rank_auc([0, 1], [0.5, 0.5]) == 0.5
    assert rank_auc([0, 0, 1, 1], [0.1, 0.4, 0.4, 0.9]) == pytest.approx(0.875)
    assert math.isnan(rank_auc([1, 1, 1], [0.1, 0.2, 0.3]))
    assert math.isnan(rank_auc([0, 1], [0.1, float("nan")]))
    one_class = binary_metrics(np.ones(4), np.array([0.2, 0.6, 0.7, 0.9]))
    assert math.isnan(one_class["auc"]) and math.isnan(one_class["kappa"])
    assert one_class["f1"] == pytest.approx(2 * 3 / (2 * 3 + 1))


def test_all_predictions_one_class_gives_zero_f1_and_kappa():
    got = binary_metrics(np.array([0, 1, 0, 1]), np.array([0.1, 0.2, 0.3, 0.4]))
    assert got["f1"] == 0.0 and got["kappa"] == 0.0


# Regression tests for mutants that survived (tests/mutation/SUMMARY.md).


def test_undefined_rates_are_nan_and_f1_without_positives_is_zero():
    no_patients = binary_metrics(np.zeros(4), np.array([0.1, 0.2, 0.3, 0.4]))
    assert math.isnan(no_patients["sensitivity"]) and no_patients["specificity"] == 1.0
    assert no_patients["f1"] == 0.0  # no tp, fp or fn: F1 taken as 0, like zero_division=0
    assert math.isnan(no_patients["auc"]) and math.isnan(no_patients["kappa"])


@pytest.mark.parametrize(
    ("y", "prob", "expected"),
    [
        ([1, 1, 0], [0.9, 0.1, 0.1], {"sensitivity": 0.5, "f1": 2 / 3}),  # tp = fn = 1
        ([0, 0, 1], [0.9, 0.1, 0.9], {"specificity": 0.5, "f1": 2 / 3}),  # tn = fp = 1
        ([1, 0, 0, 0], [0.9, 0.9, 0.1, 0.1], {"f1": 2 / 3, "specificity": 2 / 3}),
    ],
)
def test_rates_when_counts_are_equal(y, prob, expected):
    got = binary_metrics(np.array(y), np.array(prob))
    for name, value in expected.items():
        assert got[name] == pytest.approx(value), name


def test_bad_input_messages():
    with pytest.raises(ValueError, match=r"^y_true has shape \(3,\) but prob has shape \(2,\)$"):
        binary_metrics(np.array([0, 1, 0]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="^prob contains NaN or infinite values$"):
        binary_metrics(np.array([0, 1]), np.array([0.1, np.inf]))


def test_one_class_auc_is_nan_without_dividing_by_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a 0/0 would warn
        assert math.isnan(rank_auc([1, 1, 1], [0.1, 0.2, 0.3]))
        assert math.isnan(rank_auc([0, 0], [0.1, 0.2]))
