import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neuropathx.errors import InputError
from neuropathx.evaluation import collect_fold_metrics, evaluate_models, summarise

METRICS = ("accuracy", "sensitivity", "specificity", "auc", "f1", "kappa")


def _write_metrics(root, model, values):
    paths = []
    for fold, v in enumerate(values, start=1):
        path = root / model / "repeat1" / f"fold{fold}" / "metrics.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({m: v for m in METRICS} | {"best_epoch": 3}))
        paths.append(path)
    return paths


def test_summary_by_hand(tmp_path):
    a, b = [0.8, 0.7, 0.9, 0.85], [0.6, 0.65, 0.7, 0.5]
    paths = _write_metrics(tmp_path, "good", a) + _write_metrics(tmp_path, "weak", b)
    summary = summarise(collect_fold_metrics(paths), reference="weak").set_index("model")
    assert summary.loc["good", "auc_mean"] == pytest.approx(np.mean(a))
    assert summary.loc["weak", "auc_sd"] == pytest.approx(np.std(b, ddof=1))
    assert summary.loc["good", "auc_best"] and not summary.loc["weak", "auc_best"]
    assert np.isnan(summary.loc["weak", "auc_p_vs_reference"])
    # Nadeau-Bengio by hand: J = 4 folds of 4-fold CV, n_test/n_train = 1/3
    d = np.subtract(a, b)
    t = d.mean() / np.sqrt(d.var(ddof=1) * (1 / 4 + 1 / 3))
    assert summary.loc["good", "auc_p_vs_reference"] == pytest.approx(2 * stats.t.sf(t, 3))
    assert summary.loc["good", "auc_p_vs_reference"] > stats.ttest_rel(a, b).pvalue
    assert summary.loc["good", "auc_folds_won"] == "4/4"
    assert "Nadeau" in summary.loc["good", "test"]


def test_evaluate_writes_tables_and_plot(tmp_path):
    paths = _write_metrics(tmp_path, "neuropathx", [0.8, 0.9]) + _write_metrics(
        tmp_path, "cca", [0.5, 0.55]
    )
    out = {
        k: tmp_path / f"out.{k}" for k in ("folds", "summary", "markdown", "boxplot", "adjustment")
    }
    evaluate_models(paths, "neuropathx", out)
    assert len(pd.read_csv(out["folds"], sep="\t")) == 4
    text = out["markdown"].read_text()
    assert "| NeuroPathX (reference) | 2 | **0.850±0.071**" in text
    assert "corrected resampled t-test" in text
    # these folds record no adjustment: the evaluation (and the report quoting it) says so
    assert out["adjustment"].read_text().startswith("**Covariate adjustment.** None")
    assert out["adjustment"].read_text().strip() in text
    assert out["boxplot"].read_bytes()[:4] == b"\x89PNG"


def test_bad_metric_files(tmp_path):
    path = tmp_path / "m" / "repeat1" / "fold1" / "metrics.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"auc": 0.5}))
    with pytest.raises(InputError, match="metrics file lacks"):
        collect_fold_metrics([path])
    with pytest.raises(InputError, match="not of the form"):
        collect_fold_metrics([tmp_path / "metrics.json"])
