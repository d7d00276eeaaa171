"""Cross-validated evaluation: per-fold metrics of every model, the paper-style table
(mean ± SD over folds) and corrected resampled t-tests against a reference model fixed in
config (``neuropathx.model_comparison``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from neuropathx.adjust import summarise_adjustment  # noqa: E402
from neuropathx.errors import InputError  # noqa: E402
from neuropathx.io import atomic_path, write_tsv  # noqa: E402
from neuropathx.metrics import METRIC_NAMES  # noqa: E402
from neuropathx.model_comparison import TEST_NAME, compare_to_reference  # noqa: E402
from neuropathx.reporting.seed_stability import seed_spread, seed_spread_markdown  # noqa: E402

_FOLD_PATH = re.compile(r"(?P<model>[^/]+)/repeat(?P<repeat>\d+)/fold(?P<fold>\d+)/metrics\.json$")
TABLE_METRICS = ("accuracy", "sensitivity", "specificity", "auc")
# Table 1 of the paper: its rows in its order (model name -> label); other models follow
PAPER_ROWS = {
    "cca": "CCA",
    "gmind": "G-MIND",
    "survpath": "SurvPATH",
    "neuropathx_no_path": "NeuroPathX w/o L_path",
    "neuropathx_no_sp": "NeuroPathX w/o L_sp",
    "neuropathx": "NeuroPathX",
}


def collect_fold_metrics(paths: list[str | Path]) -> pd.DataFrame:
    """One row per (model, repeat, fold) from ``.../<model>/repeat<r>/fold<k>/metrics.json``."""
    rows = []
    for path in paths:
        match = _FOLD_PATH.search(Path(path).as_posix())
        if not match:
            raise InputError(path, "path is not of the form <model>/repeat<r>/fold<k>/metrics.json")
        metrics = json.loads(Path(path).read_text())
        missing = [m for m in METRIC_NAMES if m not in metrics]
        if missing:
            raise InputError(path, f"metrics file lacks {missing}")
        row = {"model": match["model"], "repeat": int(match["repeat"]), "fold": int(match["fold"])}
        row.update({m: metrics[m] for m in METRIC_NAMES})
        row.update(seed_spread(metrics))  # n_seeds, auc_seed_sd (spread of a seed ensemble)
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["model", "repeat", "fold"]).reset_index(drop=True)


def summarise(folds: pd.DataFrame, reference: str | None = None) -> pd.DataFrame:
    """Mean, SD, and (with ``reference``) the corrected resampled t-test against it.

    ``{metric}_best``: highest mean. ``{metric}_p_vs_reference``: two-sided p of the corrected
    resampled t-test over repeats x folds against the reference (NaN for the reference);
    ``{metric}_folds_won``: folds where the model beats the reference, "won/compared".
    """
    models = list(dict.fromkeys(folds["model"]))
    out = pd.DataFrame({"model": models})
    out["n_folds"] = [int((folds["model"] == m).sum()) for m in models]
    keyed = folds.set_index(["model", "repeat", "fold"])
    for metric in METRIC_NAMES:
        means = keyed[metric].groupby(level="model").mean()
        sds = keyed[metric].groupby(level="model").std(ddof=1)
        best = means.idxmax()
        out[f"{metric}_mean"] = [means[m] for m in models]
        out[f"{metric}_sd"] = [sds[m] for m in models]
        out[f"{metric}_best"] = [m == best for m in models]
        if reference is not None:
            pvals, won = compare_to_reference(folds, metric, reference)
            out[f"{metric}_p_vs_reference"] = [pvals[m] for m in models]
            out[f"{metric}_folds_won"] = [won[m] for m in models]
    if reference is not None:
        out["reference"] = [m == reference for m in models]
        out["test"] = TEST_NAME
    return out


def summary_markdown(summary: pd.DataFrame, alpha: float = 0.05) -> str:
    """Paper-style table: mean ± SD; bold = best mean; * = differs from the reference."""
    lines = [
        "| model | folds | " + " | ".join(TABLE_METRICS) + " | AUC folds won |",
        "|---|---|" + "---|" * (len(TABLE_METRICS) + 1),
    ]
    reference = summary.loc[summary["reference"], "model"].iloc[0]
    for _, row in summary.iterrows():
        cells = []
        for m in TABLE_METRICS:
            text = f"{row[f'{m}_mean']:.3f}±{row[f'{m}_sd']:.3f}"
            if row[f"{m}_best"]:
                text = f"**{text}**"
            if row[f"{m}_p_vs_reference"] < alpha:
                text += "*"
            cells.append(text)
        name = f"{row['model']} (reference)" if row["reference"] else row["model"]
        lines.append(f"| {name} | {row['n_folds']} | " + " | ".join(cells)
                     + f" | {row['auc_folds_won']} |")  # fmt: skip
    lines.append("")
    lines.append(
        f"Mean ± SD over folds. Bold: highest mean; *: differs from the reference model "
        f"`{reference}` (fixed in config as evaluation.reference_model) at p < {alpha}, "
        f"{TEST_NAME}, over repeats × folds. Folds won: folds where the model's AUC beats "
        "the reference's."
    )
    return "\n".join(lines) + "\n"


def paper_table_order(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` rows in Table 1's order with its labels; models it lacks follow, in order."""
    names = list(summary["model"])
    order = [m for m in PAPER_ROWS if m in names] + [m for m in names if m not in PAPER_ROWS]
    table = summary.set_index("model").loc[order].reset_index()
    table["model"] = [PAPER_ROWS.get(m, m) for m in table["model"]]
    return table


def plot_metrics(folds: pd.DataFrame, path: str | Path) -> None:
    """One box plot per metric, one box per model."""
    models = list(dict.fromkeys(folds["model"]))
    fig, axes = plt.subplots(
        1, len(TABLE_METRICS), figsize=(4 * len(TABLE_METRICS), 4), sharey=True
    )
    for ax, metric in zip(axes, TABLE_METRICS, strict=True):
        ax.boxplot([folds.loc[folds["model"] == m, metric].dropna() for m in models])
        ax.set_xticks(range(1, len(models) + 1), models, rotation=60, ha="right", fontsize=8)
        ax.set_title(metric)
        ax.set_ylim(0, 1)
        ax.axhline(0.5, color="grey", lw=0.5, ls="--")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def reference_adjustment(metric_paths: list[str | Path], reference: str) -> str:
    """What the reference model's folds adjusted for (covariates, ComBat) and how much
    variance that explained, as a markdown paragraph (``adjust.summarise_adjustment``)."""
    folds = [
        json.loads(Path(p).read_text())
        for p in metric_paths
        if (m := _FOLD_PATH.search(Path(p).as_posix())) and m["model"] == reference
    ]
    return summarise_adjustment(folds)


def evaluate_models(metric_paths: list[str | Path], reference: str, outputs: dict) -> None:
    """The evaluation stage: fold table, summary table (TSV and Markdown), box plots."""
    folds = collect_fold_metrics(metric_paths)
    if reference not in set(folds["model"]):
        raise ValueError(
            f"reference model {reference!r} has no metrics; models: {sorted(set(folds['model']))}"
        )
    summary = summarise(folds, reference)
    write_tsv(folds, outputs["folds"])
    write_tsv(summary, outputs["summary"])
    adjustment = reference_adjustment(metric_paths, reference)
    with atomic_path(outputs["adjustment"]) as tmp:
        tmp.write_text(adjustment + "\n")
    with atomic_path(outputs["markdown"]) as tmp:
        tmp.write_text(
            summary_markdown(paper_table_order(summary))
            + seed_spread_markdown(folds)
            + "\n"
            + adjustment
            + "\n"
        )
    plot_metrics(folds, outputs["boxplot"])
