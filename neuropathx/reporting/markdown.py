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


# measured with bench/null_calibration.py --subjects 200 --folds 5 --seeds 60 (README)
POOLED_PAIR_FWER_R10 = "0.13"
FIRST_PAIR_FWER = "0.05"


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def link_rows(links: pd.DataFrame, k: int, repeats: int = 1) -> list[str]:
    """Markdown rows of the first k links of one ranked contrast table (with repeated CV also
    the share of repeats in which the link is in that repeat's top k)."""
    per_repeat = repeats > 1 and "repeat_stability" in links
    extra = " repeat stability |" if per_repeat else ""
    rows = [
        "| rank | pathway | region | effect | t | p | p max-T | q BH | called | stability |"
        + extra
        + " genes |",
        "|---|---|---|---|---|---|---|---|---|---|" + ("---|" if per_repeat else "") + "---|",
    ]
    for _, r in links.head(k).iterrows():
        cell = f" {r['repeat_stability']:.2f} |" if per_repeat else ""
        rows.append(
            f"| {r['rank']} | {r['pathway']} | {r['region']} | {r['effect']:+.4f} | "
            f"{r['t']:+.2f} | {_fmt(r['p'])} | {_fmt(r['p_maxT'])} | {_fmt(r['q_bh'])} | "
            f"{'yes' if r['called'] else ''} | {r['stability']:.2f} |{cell} {r.get('genes', '')} |"
        )
    return rows


REPEATS_DESIGN = (
    " With {repeats} CV repeats, effect, t, ranks and stability use all {repeats} (each "
    "subject's fold-centred attention averaged over its {repeats} tests, {n_all} subjects), "
    "but p, p max-T, q BH and the calls test the first repeat only. A test subject's "
    "attention carries what its fold model learned from the other subjects' labels; "
    "averaging repeats removes the models' own noise but not that part, and a permutation "
    "of fixed attention under-counts it: on null cohorts the pair-specific max-T with 10 "
    "repeats pooled had a family-wise error of {pooled_fwer} (one repeat: {first_fwer}; "
    "bench/null_calibration.py). Repeat stability: share of the {repeats} repeats in which "
    "the link is among that repeat's own top {k}."
)


def null_statement(
    settings: dict,
    n_permutations: int,
    n_subjects: int,
    repeats: int = 1,
    n_subjects_all: int | None = None,
) -> str:
    """What every p-value of the report tests, in words (and, with repeated CV, which
    repeat it tests and why not all of them)."""
    design = (
        REPEATS_DESIGN.format(
            repeats=repeats,
            n_all=n_subjects_all or n_subjects,
            k=settings["top_k"],
            pooled_fwer=POOLED_PAIR_FWER_R10,
            first_fwer=FIRST_PAIR_FWER,
        )
        if repeats > 1
        else ""
    )
    return (
        f"p-values: two-sided permutation test of each link, {n_permutations} permutations of "
        f"the labels of the {n_subjects} subjects tested in the first CV repeat (each subject "
        "once, by the model of the fold that held it out). Each subject's attention is "
        "centred on its fold's test-subject mean. Null: a subject's label is exchangeable "
        "with its attention of that link (patients and controls have the same distribution), "
        "given the trained fold models (they are not retrained per permutation). Statistic "
        "|t| (pooled two-sample t; same p as |Ā_PAT − Ā_ND|); p = (1 + #{|t_perm| ≥ |t_obs|}) "
        "/ (1 + B). p max-T: single-step Westfall-Young adjusted p (family-wise error over all "
        f"links of one contrast); q BH: Benjamini-Hochberg. Called: {settings['call_on']} < "
        f"{settings['alpha']}." + design
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
    n_subjects_all: int | None = None,
) -> str:
    """The whole report: evaluation, headline and second contrast, truth check, enrichment.

    ``n_subjects``: subjects the p-values test (the first repeat's); ``n_subjects_all``:
    subjects of all repeats (default the same); ``repeats``: CV repeats."""
    summary = Path(evaluation).with_suffix(".md")
    parts = ["# NeuroPathX report", ""]
    if summary.exists():
        parts += ["## Classification (test folds)", "", summary.read_text(), ""]
    k, headline = settings["top_k"], settings["headline"]
    other = "raw" if headline == "pair" else "pair"
    parts += [
        HEADLINE_ARGUMENT.format(headline=headline),
        "",
        null_statement(settings, n_permutations, n_subjects, repeats, n_subjects_all),
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
            *link_rows(table, k, repeats),
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
