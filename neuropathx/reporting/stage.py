"""The report stage: association tables, figures, truth recovery and a Markdown summary."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from neuropathx.io import atomic_path, read_tsv, write_tsv
from neuropathx.reporting.attention import class_means, link_table, load_attention
from neuropathx.reporting.plots import attention_heatmaps, chord_diagram
from neuropathx.reporting.seed_stability import seed_link_shares, seed_stability_markdown
from neuropathx.reporting.truth import truth_recovery

log = logging.getLogger(__name__)
GENES_SHOWN = 8


def pathway_genes(mapping_tsv: str | Path) -> dict[str, str]:
    """Genes with scored SNPs behind each pathway, strongest |BETA| first (comma-joined)."""
    mapping = read_tsv(mapping_tsv, required=["gene", "pathway", "BETA"])
    mapping = mapping.assign(abs_beta=mapping["BETA"].abs())
    best = mapping.groupby(["pathway", "gene"])["abs_beta"].max().reset_index()
    best = best.sort_values(["pathway", "abs_beta"], ascending=[True, False])
    return {p: ",".join(g["gene"].head(GENES_SHOWN)) for p, g in best.groupby("pathway")}


def _attention_matrix(means, pathways, regions) -> pd.DataFrame:
    frame = pd.DataFrame(means, index=pathways, columns=regions)
    frame.index.name = "pathway"
    return frame


def _markdown(evaluation: str | Path, links: pd.DataFrame, recovery: dict | None, settings) -> str:
    summary = Path(evaluation).with_suffix(".md")
    parts = ["# NeuroPathX report", ""]
    if summary.exists():
        parts += ["## Classification (test folds)", "", summary.read_text(), ""]
    k = settings["top_k"]
    parts += [
        f"## Top {k} region-pathway links of `{settings['model']}`",
        "",
        "Ranked by |Ā_PAT − Ā_ND| over all test subjects; stability = share of folds in which",
        f"the link is among the fold's top {k}; p from {settings['n_permutations']} label",
        "permutations within folds; q = Benjamini-Hochberg.",
        "",
        "| rank | pathway | region | Ā_PAT − Ā_ND | stability | p | q | genes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, r in links.head(k).iterrows():
        parts.append(
            f"| {r['rank']} | {r['pathway']} | {r['region']} | {r['difference']:+.4f} | "
            f"{r['stability']:.2f} | {r['p_perm']:.3g} | {r['q_bh']:.3g} | {r['genes']} |"
        )
    parts.append("")
    if recovery is not None:
        parts += [
            "## Recovery of the planted truth (demo)",
            "",
            f"{recovery['in_top_k']} of {recovery['planted']} planted region-pathway pairs are "
            f"among the top {recovery['top_k']} links "
            f"(chance: {recovery['expected_in_top_k']:.2f}); "
            f"{recovery['scored']} planted pairs had their pathway scored; AUROC of "
            f"|Ā_PAT − Ā_ND| for planted vs other links: {recovery['auroc']:.3f}.",
            "",
        ]
    parts += [
        "Figures: `attention_heatmap.png` (class means and difference), "
        "`top_links_chord.png` (top links).",
        "",
    ]
    return "\n".join(parts)


def build_association_report(
    attention_files: list[str | Path],
    mapping: str | Path,
    evaluation: str | Path,
    truth: str | Path | None,
    outputs: dict,
    settings: dict,
    seed: int,
) -> None:
    """Aggregate attention over folds, rank links, draw figures, check the planted truth."""
    stack = load_attention(attention_files)
    log.info("attention of %d test subjects from %d folds", len(stack.labels), stack.n_folds)
    pat, ctl = class_means(stack)
    links = link_table(stack, settings["n_permutations"], settings["top_k"], seed)
    genes = pathway_genes(mapping)
    links["genes"] = links["pathway"].map(genes).fillna("")
    links["seed_stability"] = seed_link_shares(
        attention_files, links, stack.pathways, stack.regions, settings["top_k"]
    )
    write_tsv(
        _attention_matrix(pat, stack.pathways, stack.regions), outputs["patients"], index=True
    )
    write_tsv(
        _attention_matrix(ctl, stack.pathways, stack.regions), outputs["controls"], index=True
    )
    write_tsv(links.head(settings["top_k"]), outputs["links"])
    attention_heatmaps(pat, ctl, stack.pathways, stack.regions, outputs["heatmap"])
    chord_diagram(links.head(settings["top_k"]), outputs["chord"])
    recovery = None
    if truth:
        table, recovery = truth_recovery(links, truth, settings["top_k"])
        log.info("truth recovery: %s", recovery)
        write_tsv(table, outputs["truth"])
    else:
        write_tsv(
            pd.DataFrame(columns=["pathway", "region", "effect", "scored", "rank"]),
            outputs["truth"],
        )
    with atomic_path(outputs["markdown"]) as tmp:
        text = _markdown(evaluation, links, recovery, settings)
        tmp.write_text(text + "\n" + seed_stability_markdown(links, settings["top_k"]))
