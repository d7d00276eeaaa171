import json

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neuropathx.errors import InputError
from neuropathx.evaluation import (
    PAPER_ROWS,
    collect_fold_metrics,
    evaluate_models,
    paper_table_order,
    plot_metrics,
    plt,
    reference_adjustment,
    summarise,
    summary_markdown,
)
from neuropathx.model_comparison import TEST_NAME

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


def _fold(root, model, repeat, fold, value, **extra):
    path = root / model / f"repeat{repeat}" / f"fold{fold}" / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    metrics = {m: value + k / 100 for k, m in enumerate(METRICS)}  # each metric its own value
    path.write_text(json.dumps(metrics | extra))
    return path


def test_fold_table_rows_sorted_numerically_with_seed_spread(tmp_path):
    paths = [
        _fold(tmp_path, "b", 1, 10, 0.5),
        _fold(tmp_path, "b", 1, 2, 0.6, seeds={"auc": [0.5, 0.7, None]}),
        _fold(tmp_path, "a", 10, 1, 0.7),
        _fold(tmp_path, "a", 2, 1, 0.8),
    ]
    folds = collect_fold_metrics(paths)
    assert folds.columns.tolist() == ["model", "repeat", "fold", *METRICS, "n_seeds",
                                      "auc_seed_sd"]  # fmt: skip
    assert folds[["model", "repeat", "fold"]].values.tolist() == [
        ["a", 2, 1], ["a", 10, 1], ["b", 1, 2], ["b", 1, 10]
    ]  # fmt: skip
    assert folds.index.tolist() == [0, 1, 2, 3]
    assert folds["accuracy"].tolist() == [0.8, 0.7, 0.6, 0.5]
    assert folds["kappa"].tolist() == pytest.approx([0.85, 0.75, 0.65, 0.55])
    assert folds["n_seeds"].tolist() == [1, 1, 2, 1]
    assert folds.loc[2, "auc_seed_sd"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert folds["auc_seed_sd"].isna().tolist() == [True, True, False, True]


@pytest.mark.parametrize(
    "path",
    [
        "m/repeat1/fold1/metrics.json.bak",
        "m/repeat/fold1/metrics.json",
        "m/repeat1/fold/metrics.json",
        "m/repeat1/fold1/metricsxjson",
        "repeat1/fold1/metrics.json",
        "m/repeat1/folds1/metrics.json",
    ],
)
def test_fold_paths_of_another_layout(path):
    with pytest.raises(InputError) as err:
        collect_fold_metrics([path])
    assert err.value.path.as_posix() == path
    assert err.value.problem == "path is not of the form <model>/repeat<r>/fold<k>/metrics.json"


def test_missing_metrics_named_in_order(tmp_path):
    path = tmp_path / "m" / "repeat1" / "fold1" / "metrics.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"auc": 0.5, "sensitivity": 0.5, "f1": 0.5}))
    with pytest.raises(InputError) as err:
        collect_fold_metrics([path])
    assert err.value.path == path
    assert err.value.problem == "metrics file lacks ['accuracy', 'specificity', 'kappa']"


def _folds_frame():
    rows = []
    for model, acc, auc in (("z", [0.9, 0.7, 0.8], [0.6, 0.5, 0.7]),
                            ("y", [0.5, 0.6, 0.4], [0.9, 0.8, 0.7])):  # fmt: skip
        for fold in range(3):
            row = {"model": model, "repeat": 1, "fold": fold + 1}
            row |= {m: 0.5 for m in METRICS} | {"accuracy": acc[fold], "auc": auc[fold]}
            rows.append(row)
    return pd.DataFrame(rows)


def test_summarise_without_a_reference_by_hand():
    summary = summarise(_folds_frame())
    assert summary["model"].tolist() == ["z", "y"]  # first-seen order, not sorted
    assert summary["n_folds"].tolist() == [3, 3]
    assert summary["accuracy_mean"].tolist() == pytest.approx([0.8, 0.5])
    assert summary["accuracy_sd"].tolist() == pytest.approx([0.1, 0.1])
    assert summary["auc_mean"].tolist() == pytest.approx([0.6, 0.8])
    assert summary["accuracy_best"].tolist() == [True, False]
    assert summary["auc_best"].tolist() == [False, True]
    # a tie: idxmax over the (name-sorted) group means picks the first name, y
    assert summary["f1_best"].tolist() == [False, True]
    assert summary["f1_sd"].tolist() == [0.0, 0.0]
    assert not any(c.endswith(("_p_vs_reference", "_folds_won")) for c in summary.columns)
    assert "reference" not in summary.columns and "test" not in summary.columns


def test_summarise_against_a_reference_for_every_metric():
    summary = summarise(_folds_frame(), reference="z").set_index("model")
    # accuracy y - z = -.4, -.1, -.4: mean -.3, var .03; 3 folds: n_test/n_train = 1/2
    t = -0.3 / np.sqrt(0.03 * (1 / 3 + 1 / 2))
    assert summary.loc["y", "accuracy_p_vs_reference"] == pytest.approx(2 * stats.t.sf(-t, 2))
    assert summary.loc["y", "accuracy_folds_won"] == "0/3"
    assert summary.loc["y", "auc_folds_won"] == "2/3"  # .3, .3, 0: a tie is not a win
    assert np.isnan(summary.loc["y", "f1_p_vs_reference"])  # no difference at all
    assert summary.loc["z", "auc_folds_won"] == "" and np.isnan(
        summary.loc["z", "auc_p_vs_reference"]
    )
    assert summary["reference"].tolist() == [True, False]
    assert summary["test"].tolist() == [TEST_NAME, TEST_NAME]


def _summary_table(p_value):
    cols = {"model": ["NeuroPathX", "CCA"], "n_folds": [5, 4], "reference": [True, False],
            "auc_folds_won": ["", "1/4"]}  # fmt: skip
    for k, m in enumerate(("accuracy", "sensitivity", "specificity", "auc")):
        cols[f"{m}_mean"] = [0.8 - k / 10, 0.81234 - k / 10]
        cols[f"{m}_sd"] = [0.05, 0.1 + k / 1000]
        cols[f"{m}_best"] = [k % 2 == 1, k % 2 == 0]
        cols[f"{m}_p_vs_reference"] = [np.nan, p_value if k < 2 else 0.5]
    return pd.DataFrame(cols)


def test_summary_markdown_by_hand():
    text = summary_markdown(_summary_table(0.01))
    assert text == (
        "| model | folds | accuracy | sensitivity | specificity | auc | AUC folds won |\n"
        "|---|---|---|---|---|---|---|\n"
        "| NeuroPathX (reference) | 5 | 0.800±0.050 | **0.700±0.050** | 0.600±0.050 "
        "| **0.500±0.050** |  |\n"
        "| CCA | 4 | **0.812±0.100*** | 0.712±0.101* | **0.612±0.102** | 0.512±0.103 | 1/4 |\n"
        "\n"
        "Mean ± SD over folds. Bold: highest mean; *: differs from the reference model "
        "`NeuroPathX` (fixed in config as evaluation.reference_model) at p < 0.05, "
        f"{TEST_NAME}, over repeats × folds. Folds won: folds where the model's AUC beats "
        "the reference's.\n"
    )


def test_summary_markdown_star_below_alpha_only():
    at_alpha = summary_markdown(_summary_table(0.05))
    assert "*" not in at_alpha.replace("**", "").split("\n\n")[0]
    loose = summary_markdown(_summary_table(0.05), alpha=0.1)
    assert "| CCA | 4 | **0.812±0.100*** | 0.712±0.101* |" in loose
    assert "at p < 0.1," in loose


def test_paper_table_order_and_labels():
    names = ["zeta", "neuropathx", "cca", "alpha", "neuropathx_no_sp", "gmind"]
    summary = pd.DataFrame({"model": names, "auc_mean": range(6)})
    table = paper_table_order(summary)
    assert table["model"].tolist() == [
        "CCA", "G-MIND", "NeuroPathX w/o L_sp", "NeuroPathX", "zeta", "alpha"
    ]  # fmt: skip
    assert table["auc_mean"].tolist() == [2, 5, 4, 1, 0, 3]
    assert table.columns.tolist() == ["model", "auc_mean"]
    full = paper_table_order(pd.DataFrame({"model": list(PAPER_ROWS)[::-1]}))
    assert full["model"].tolist() == list(PAPER_ROWS.values())


def test_box_plot_layout(tmp_path, monkeypatch):
    folds = _folds_frame()
    folds.loc[0, "auc"] = np.nan  # dropped, not plotted as a gap
    figures, boxes = [], []
    monkeypatch.setattr(plt, "close", figures.append)
    real_boxplot = matplotlib.axes.Axes.boxplot

    def record(ax, data, *args, **kwargs):
        boxes.append([list(d) for d in data])
        return real_boxplot(ax, data, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "boxplot", record)
    plot_metrics(folds, tmp_path / "box.png")
    # one box per model in first-seen order, holding that model's folds (NaN dropped)
    assert boxes[0] == [[0.9, 0.7, 0.8], [0.5, 0.6, 0.4]]  # accuracy of z, then y
    assert boxes[3] == [[0.5, 0.7], [0.9, 0.8, 0.7]]  # auc: z's first fold is NaN
    png = (tmp_path / "box.png").read_bytes()
    assert png[:4] == b"\x89PNG"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (4 * 4 * 120, 4 * 120)  # 4 panels of 4 x 4 inches at 120 dpi
    (fig,) = figures
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["accuracy", "sensitivity", "specificity", "auc"]
    # one row of four panels, left to right
    assert [ax.get_subplotspec().get_geometry() for ax in axes] == [(1, 4, k, k) for k in range(4)]
    for ax in axes:
        assert ax.get_ylim() == (0.0, 1.0)
        assert [t.get_text() for t in ax.get_xticklabels()] == ["z", "y"]
        assert list(ax.get_xticks()) == [1, 2]
        label = ax.get_xticklabels()[0]
        assert (label.get_rotation(), label.get_ha(), label.get_fontsize()) == (60, "right", 8)
        (line,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        assert list(line.get_ydata()) == [0.5, 0.5]
        assert (line.get_color(), line.get_linewidth()) == ("grey", 0.5)
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[3])
    # z's missing auc fold is dropped, so every drawn line of the auc panel is finite
    assert all(np.isfinite(ln.get_ydata()).all() for ln in axes[3].get_lines())
    assert max(y for ln in axes[3].get_lines() for y in ln.get_ydata()) == 0.9


def test_reference_adjustment_reads_the_reference_folds_only(tmp_path):
    adjusted = {"enabled": True, "imaging": {"covariates": ["age"], "r2": {"mean": 0.2}}}
    other = {"enabled": True, "imaging": {"covariates": ["sex"], "r2": {"mean": 0.4}}}
    paths = [_fold(tmp_path, "ref", 1, 1, 0.5, adjustment=adjusted),
             _fold(tmp_path, "ref", 1, 2, 0.5, adjustment=adjusted),
             _fold(tmp_path, "other", 1, 1, 0.5, adjustment=other),
             tmp_path / "not-a-fold.json"]  # fmt: skip
    text = reference_adjustment(paths, "ref")
    assert "each of 2 folds" in text and "`age`" in text and "`sex`" not in text
    assert "20.0% of a feature's training variance" in text


def test_evaluate_needs_the_reference_and_writes_each_part(tmp_path):
    paths = [_fold(tmp_path, "cca", 1, f, 0.5 + f / 10) for f in (1, 2)]
    paths += [_fold(tmp_path, "neuropathx", 1, f, 0.8 + f / 100) for f in (1, 2)]
    out = {k: tmp_path / f"out.{k}" for k in ("folds", "summary", "markdown", "boxplot",
                                              "adjustment")}  # fmt: skip
    with pytest.raises(ValueError) as err:
        evaluate_models(paths, "gmind", out)
    assert str(err.value) == "reference model 'gmind' has no metrics; models: ['cca', 'neuropathx']"
    assert not out["folds"].exists()
    evaluate_models(paths, "neuropathx", out)
    folds = pd.read_csv(out["folds"], sep="\t")
    pd.testing.assert_frame_equal(folds, collect_fold_metrics(paths), check_dtype=False)
    summary = pd.read_csv(out["summary"], sep="\t", keep_default_na=False, na_values=[""])
    assert summary["model"].tolist() == ["cca", "neuropathx"]
    assert summary["reference"].tolist() == [False, True]
    assert summary["auc_folds_won"].fillna("").tolist() == ["0/2", ""]
    adjustment = out["adjustment"].read_text()
    assert adjustment.startswith("**Covariate adjustment.** None") and adjustment.endswith(".\n")
    table = out["markdown"].read_text()
    assert table.startswith("| model | folds |")
    assert "\n| CCA | 2 | 0.650±0.071 |" in table
    assert "\n| NeuroPathX (reference) | 2 | **0.815±0.007** |" in table
    assert table.endswith("the reference's.\n\n" + adjustment)


def test_summarise_counts_each_models_own_folds():
    folds = _folds_frame()
    folds = folds[~((folds["model"] == "y") & (folds["fold"] == 3))]  # y: folds 1, 2 only
    summary = summarise(folds)
    assert summary["n_folds"].tolist() == [3, 2]
    assert summary["accuracy_mean"].tolist() == pytest.approx([0.8, 0.55])
    assert summary["accuracy_sd"].tolist() == pytest.approx([0.1, np.sqrt(0.005)])


def test_evaluate_reports_the_reference_models_adjustment(tmp_path):
    adjusted = {"enabled": True, "imaging": {"covariates": ["age"], "r2": {"mean": 0.25}}}
    paths = [_fold(tmp_path, "cca", 1, f, 0.5 + f / 10) for f in (1, 2)]
    paths += [_fold(tmp_path, "neuropathx", 1, f, 0.8, adjustment=adjusted) for f in (1, 2)]
    out = {k: tmp_path / f"out.{k}" for k in ("folds", "summary", "markdown", "boxplot",
                                              "adjustment")}  # fmt: skip
    evaluate_models(paths, "neuropathx", out)
    adjustment = out["adjustment"].read_text()
    assert "each of 2 folds" in adjustment and "`age`" in adjustment
    assert "25.0% of a feature's training variance" in adjustment
    assert out["markdown"].read_text().endswith(adjustment)
