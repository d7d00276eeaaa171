"""The report stage: association tables, figures, truth checks, enrichment and a summary.

Model-agnostic: it takes named stacks of per-fold attention files (any model whose
explanation is a pathway x region matrix per test subject); ``settings['model']`` names
the one whose links are reported, the others enter the truth check only.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.io import atomic_path, read_tsv, write_tsv
from neuropathx.reporting.attention import class_means, load_attention
from neuropathx.reporting.contrasts import (
    CONTRASTS,
    contrast_table,
    fold_stability,
    repeat_stability,
    score_matrix,
)
from neuropathx.reporting.enrichment import (
    ENRICHMENT_COLUMNS,
    enrich_genes,
    enrichment_plot,
    genes_behind,
)
from neuropathx.reporting.markdown import report_markdown
from neuropathx.reporting.permutation import (
    permutations_needed,
    subject_attention,
    tested_repeat,
)
from neuropathx.reporting.plots import attention_heatmaps, class_chord_diagrams
from neuropathx.reporting.seed_stability import seed_link_shares, seed_stability_markdown
from neuropathx.reporting.truth import TRUTH_CHECK_COLUMNS, planted_pairs, planted_ranks

log = logging.getLogger(__name__)
GENES_SHOWN = 8
ENRICHED_PATHWAYS = 5  # distinct pathways of the top headline links whose genes are tested
LINKS_ALL_COLUMNS = ["pathway", "region", "contrast", "effect", "p", "p_maxT", "q_bh", "called"]


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


def _contrast_table(
    subjects, stack, contrast: str, n_permutations: int, seed: int, settings, tested=None
):
    """One contrast's ranked link table with the report's threshold and call rule."""
    return contrast_table(
        subjects,
        stack.pathways,
        stack.regions,
        contrast,
        n_permutations,
        seed,
        settings["alpha"],
        settings["call_on"],
        tested=tested,
    )


def link_tables(stack, settings: dict, seed: int, n_permutations: int) -> dict[str, pd.DataFrame]:
    """Ranked table of every link for each contrast (raw, pair), with fold and repeat stability.

    Effects, t and ranks use every repeat (each subject's attention averaged over them); p,
    p_maxT, q_bh and the calls test the first repeat's test attention only, each subject once:
    with repeats pooled, the fixed-attention permutation null is too narrow
    (neuropathx.reporting.permutation).
    """
    subjects = subject_attention(stack)
    tested = subject_attention(stack, repeat=tested_repeat(stack))
    index = {
        (p, r): (i, j) for i, p in enumerate(stack.pathways) for j, r in enumerate(stack.regions)
    }
    tables = {}
    for contrast in CONTRASTS:
        table = _contrast_table(subjects, stack, contrast, n_permutations, seed, settings, tested)
        keys = list(zip(table["pathway"], table["region"], strict=True))
        for column, share in (
            ("stability", fold_stability(stack, contrast, settings["top_k"])),
            ("repeat_stability", repeat_stability(stack, contrast, settings["top_k"])),
        ):
            table[column] = [share[index[k]] for k in keys]
        tables[contrast] = table
    return tables


def model_rankings(attention: dict[str, list], settings: dict, seed: int) -> dict:
    """|t| score matrices of the raw and pair contrasts of every model (no permutations)."""
    rankings = {}
    for name, files in attention.items():
        stack = load_attention(files)
        subjects = subject_attention(stack)
        for contrast in CONTRASTS:
            table = _contrast_table(subjects, stack, contrast, 0, seed, settings)
            rankings[f"{name}_{contrast}"] = score_matrix(table, stack.pathways, stack.regions)
    return rankings


def build_association_report(
    attention: dict[str, list[str | Path]],
    mapping: str | Path,
    evaluation: str | Path,
    truth: str | Path | None,
    cohort: dict | None,
    gmt: str | Path,
    outputs: dict,
    settings: dict,
    seed: int,
    adjustment: str | Path | None = None,
) -> None:
    """Contrasts and their calibrated p-values, figures, truth checks and enrichment.

    ``adjustment``: the evaluation's paragraph on the covariate and site adjustment of the
    reported model (``results/evaluate/adjustment.md``), quoted in the report.

    ``attention``: model name -> its per-fold attention files; ``cohort``: the cohort
    stage's subjects, genetics, imaging and splits tables (for the model-free rankings of
    the truth check; needed only with ``truth``).
    """
    stack = load_attention(attention[settings["model"]])
    log.info("attention of %d test subjects from %d folds", len(stack.labels), stack.n_folds)
    pat, ctl = class_means(stack)
    n_links = len(stack.pathways) * len(stack.regions)
    n_perm = permutations_needed(
        n_links, settings["alpha"], settings["n_permutations"], settings["max_permutations"]
    )
    log.info("%d permutations for %d links per contrast", n_perm, n_links)
    tables = link_tables(stack, settings, seed, n_perm)
    genes = pathway_genes(mapping)
    for table in tables.values():
        table["genes"] = table["pathway"].map(genes).fillna("")
    headline = tables[settings["headline"]]
    headline["seed_stability"] = seed_link_shares(
        attention[settings["model"]],
        headline,
        stack.pathways,
        stack.regions,
        settings["top_k"],
        contrast=settings["headline"],
    )
    write_tsv(
        _attention_matrix(pat, stack.pathways, stack.regions), outputs["patients"], index=True
    )
    write_tsv(
        _attention_matrix(ctl, stack.pathways, stack.regions), outputs["controls"], index=True
    )
    write_tsv(headline.head(settings["top_k"]), outputs["links"])
    links_all = pd.concat([tables[c] for c in CONTRASTS], ignore_index=True)
    write_tsv(links_all[LINKS_ALL_COLUMNS], outputs["links_all"])
    attention_heatmaps(pat, ctl, stack.pathways, stack.regions, outputs["heatmap"])
    class_chord_diagrams(
        pat, ctl, headline, stack.pathways, stack.regions, settings["top_k"], outputs["chord"]
    )
    truth_result = _truth_outputs(
        attention, truth, cohort, headline, stack, outputs, settings, seed
    )
    top_pathways = list(dict.fromkeys(headline["pathway"]))[:ENRICHED_PATHWAYS]
    query, background = genes_behind(mapping, top_pathways)
    enrichment = (
        enrich_genes(query, background, gmt, top_pathways)
        if len(query)
        else pd.DataFrame(columns=ENRICHMENT_COLUMNS)
    )
    write_tsv(enrichment, outputs["enrichment"])
    enrichment_plot(enrichment, outputs["enrichment_plot"])
    first = stack.repeat == tested_repeat(stack)
    text = report_markdown(
        evaluation,
        tables,
        settings,
        n_perm,
        len(np.unique(stack.subjects[first])),
        stack.n_repeats,
        truth_result,
        enrichment,
        n_subjects_all=len(np.unique(stack.subjects)),
    )
    with atomic_path(outputs["markdown"]) as tmp:
        adjusted = Path(adjustment).read_text() if adjustment else ""
        tmp.write_text(
            text + "\n" + seed_stability_markdown(headline, settings["top_k"]) + "\n" + adjusted
        )


def _truth_outputs(attention, truth, cohort, headline, stack, outputs, settings, seed):
    """truth_recovery.tsv and truth_check.tsv (header only without a planted truth)."""
    if not truth:
        write_tsv(
            pd.DataFrame(columns=["pathway", "region", "effect", "scored", "rank"]),
            outputs["truth"],
        )
        write_tsv(pd.DataFrame(columns=TRUTH_CHECK_COLUMNS), outputs["truth_check"])
        return None
    from neuropathx.reporting.model_free import model_free_rankings
    from neuropathx.reporting.truth import truth_check

    pairs = planted_pairs(truth)
    table, recovery = planted_ranks(pairs, headline, settings["top_k"])
    log.info("truth recovery: %s", recovery)
    write_tsv(table, outputs["truth"])
    rankings = model_rankings(attention, settings, seed)
    rankings.update(model_free_rankings(cohort, stack.pathways, stack.regions, seed))
    check = truth_check(rankings, pairs, stack.pathways, stack.regions)
    write_tsv(check, outputs["truth_check"])
    return check, recovery
