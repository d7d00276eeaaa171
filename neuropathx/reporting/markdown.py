"""The Markdown summary of the association report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HEADLINE_ARGUMENT = (
    "The headline table is ranked by the **{headline}** contrast. The raw contrast "
    "Ā_PAT − Ā_ND is dominated by region-wide and pathway-wide effects: a region whose "
    "measures differ by diagnosis on their own lifts its whole column, so the top raw links "
    "are a few regions paired with almost every pathway, and a raw call says only that the "
    "region (or the pathway) matters. The pair-specific contrast removes each pathway's row "
    "mean and each region's column mean (double centring) and is large only where that "
    "pairing differs beyond both main effects, which is the claim a region-pathway link "
    "makes. Both tables are in `links_all.tsv`."
)


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def link_rows(links: pd.DataFrame, k: int) -> list[str]:
    """Markdown rows of the first k links of one ranked contrast table."""
    rows = [
        "| rank | pathway | region | effect | t | p | p max-T | q BH | called | stability "
        "| genes |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in links.head(k).iterrows():
        rows.append(
            f"| {r['rank']} | {r['pathway']} | {r['region']} | {r['effect']:+.4f} | "
            f"{r['t']:+.2f} | {_fmt(r['p'])} | {_fmt(r['p_maxT'])} | {_fmt(r['q_bh'])} | "
            f"{'yes' if r['called'] else ''} | {r['stability']:.2f} | {r.get('genes', '')} |"
        )
    return rows


REPEATS_CAUTION = (
    " Caution: with repeated CV, the max-T of the pair-specific contrast exceeded its level "
    "on null cohorts (family-wise error 0.13 at 10 repeats, bench/null_calibration.py); "
    "treat pair-specific calls as provisional."
)


def null_statement(settings: dict, n_permutations: int, n_subjects: int, repeats: int = 1) -> str:
    """What every p-value of the report tests, in words (with a caution for repeated CV)."""
    caution = REPEATS_CAUTION if repeats > 1 else ""
    return (
        f"p-values: two-sided permutation test of each link, {n_permutations} permutations of "
        f"the labels of the {n_subjects} subjects (one label per subject, the same in every CV "
        "repeat). Each subject's attention is centred on its fold's test-subject mean and "
        "averaged over the repeats it was tested in. Null: a subject's label is exchangeable "
        "with its attention of that link (patients and controls have the same distribution), "
        "given the trained fold models. Statistic |t| (pooled two-sample t; same p as "
        "|Ā_PAT − Ā_ND|); p = (1 + #{|t_perm| ≥ |t_obs|}) / (1 + B). p max-T: single-step "
        "Westfall-Young adjusted p (family-wise error over all links of one contrast); q BH: "
        f"Benjamini-Hochberg. Called: {settings['call_on']} < {settings['alpha']}." + caution
    )


def truth_rows(check: pd.DataFrame) -> list[str]:
    """The truth-check table: one row per ranking, all-links and decoy columns side by side."""
    rows = [
        "| ranking | AUROC all | AUPRC all | prec@K all | AUROC decoys | AUPRC decoys | "
        "prec@K decoys |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, part in check.groupby("ranking", sort=False):
        cells = []
        for against in ("all", "decoys"):
            r = part[part["against"] == against].iloc[0]
            cells += [f"{r['auroc']:.3f}", f"{r['auprc']:.3f}", f"{r['precision_at_k']:.2f}"]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def report_markdown(
    evaluation: str | Path,
    tables: dict[str, pd.DataFrame],
    settings: dict,
    n_permutations: int,
    n_subjects: int,
    repeats: int,
    truth: tuple[pd.DataFrame, dict] | None,
    enrichment: pd.DataFrame,
) -> str:
    """The whole report: evaluation, headline and second contrast, truth check, enrichment."""
    summary = Path(evaluation).with_suffix(".md")
    parts = ["# NeuroPathX report", ""]
    if summary.exists():
        parts += ["## Classification (test folds)", "", summary.read_text(), ""]
    k, headline = settings["top_k"], settings["headline"]
    other = "raw" if headline == "pair" else "pair"
    parts += [
        HEADLINE_ARGUMENT.format(headline=headline),
        "",
        null_statement(settings, n_permutations, n_subjects, repeats),
        "",
    ]
    for contrast in (headline, other):
        table = tables[contrast]
        title = "pair-specific (double-centred)" if contrast == "pair" else "raw Ā_PAT − Ā_ND"
        parts += [
            f"## Top {k} links of `{settings['model']}`: {title} contrast",
            "",
            f"{int(table['called'].sum())} of {len(table)} links called. Stability: share of "
            f"folds in which the link is among that fold's top {k} of this contrast.",
            "",
            *link_rows(table, k),
            "",
        ]
    if truth is not None:
        check, recovery = truth
        parts += [
            "## Recovery of the planted truth (demo)",
            "",
            f"{recovery['in_top_k']} of {recovery['planted']} planted pairs are among the top "
            f"{recovery['top_k']} {headline} links of `{settings['model']}` (chance "
            f"{recovery['expected_in_top_k']:.2f}; {recovery['scored']} planted pairs ranked).",
            "",
            "Rankings: `<model>_raw` / `<model>_pair` by |t| of the raw / pair-specific contrast; "
            "`univariate_product` = |d pathway| × |d region|; `elastic_net_interaction` = "
            "pathway × region-measure interaction coefficients (training rows of each fold). "
            "All: planted pairs vs every other link; decoys: planted pairs vs causal pathways "
            "paired with another causal pathway's region (chance AUROC 0.5). K = planted pairs.",
            "",
            *truth_rows(check),
            "",
        ]
    parts += ["## Enrichment of the genes behind the top pathways", ""]
    if len(enrichment):
        parts += ["| term | overlap | p | q BH | query pathway |", "|---|---|---|---|---|"]
        for _, r in enrichment.head(10).iterrows():
            parts.append(
                f"| {r['term']} | {r['overlap']} | {_fmt(r['p'])} | "
                f"{_fmt(r['q_bh'])} | {'yes' if r['query_pathway'] else ''} |"
            )
    else:
        parts.append("No genes behind the top pathways; nothing to test.")
    parts += [
        "",
        "Figures: `attention_heatmap.png` (class means and difference), `top_links_chord.png` "
        "(strongest links of Ā_PAT, of Ā_ND, and of the headline contrast), "
        "`enrichment.png`.",
        "",
    ]
    return "\n".join(parts)
