"""Entry points of the genotype_qc and pathway_scores stages (called by the Snakemake rules)."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.errors import InputError
from neuropathx.genetics.clumping import DEFAULT_CLUMP, clump_sumstats
from neuropathx.genetics.genome_build import check_build, liftover_sumstats
from neuropathx.genetics.genotype_inputs import (
    hard_call_fileset,
    score_dosages,
    write_qc_dosages,
)
from neuropathx.genetics.gwas_formats import DEFAULT_COLUMNS, read_sumstats
from neuropathx.genetics.mapping import (
    map_snps_to_genes,
    pathway_table,
    pathway_weights,
    read_gene_loc,
    read_gmt,
)
from neuropathx.genetics.plink_cli import check_plink_tools, run_plink
from neuropathx.genetics.plink_io import allele_counts, bed_matrix, open_fileset
from neuropathx.genetics.qc import QC_DEFAULTS, run_qc_steps, summary_table
from neuropathx.genetics.qc_plots import plot_qc
from neuropathx.genetics.scoring import score_pathways
from neuropathx.genetics.sumstats import harmonise, outcome_summary
from neuropathx.io import read_tsv, write_tsv

log = logging.getLogger(__name__)

PARTICIPANT_CODING = {"diagnosis_column": "diagnosis", "control_value": "control"}
SCORE_DEFAULTS = {
    "format": "custom",
    "columns": DEFAULT_COLUMNS,
    "min_info": 0.0,
    "min_maf": 0.0,
    "ambiguous_band": [0.4, 0.6],
    "build_check": True,
    "liftover_chain": "",
    "effect_type": "beta",
    "match_by": "chrpos",
    "drop_ambiguous": True,
    "p_threshold": 0.1,
    "clump": DEFAULT_CLUMP,
    "gene_border_kb": {"upstream": 0, "downstream": 0},
    "gene_id": "symbol",
    "min_genes": 5,
    "max_genes": 500,
    "min_snps": 1,
    "missing_genotypes": "mean_impute",
}


def _merge(defaults: dict, settings: dict) -> dict:
    """Settings over defaults, one level of nested dicts merged key by key."""
    merged = dict(defaults)
    for key, value in settings.items():
        if isinstance(value, dict) and isinstance(defaults.get(key), dict):
            merged[key] = {**defaults[key], **value}
        else:
            merged[key] = value
    return merged


def _read_plink_table(path: str) -> pd.DataFrame:
    table = pd.read_csv(path, sep="\t", dtype={"IID": str, "ID": str})
    return table.rename(columns=lambda c: c.lstrip("#"))


def _controls(participants: str | None, needed: bool, coding: dict | None) -> list[str] | None:
    """IIDs of the controls, by the configured diagnosis column and control value."""
    if not needed:
        return None
    if participants is None:
        raise InputError(None, "hwe_controls_only is set but no participants table was given")
    coding = {**PARTICIPANT_CODING, **(coding or {})}
    column, value = coding["diagnosis_column"], str(coding["control_value"])
    table = read_tsv(participants, required=["participant_id", column], dtype=str)
    controls = table.loc[table[column].str.strip() == value, "participant_id"]
    if controls.empty:
        found = sorted(table[column].dropna().unique())[:10]
        raise InputError(
            participants,
            f"hwe_controls_only: no row has {column} == {value!r} (values found: {found}); "
            "set participants.control_value to the value marking controls",
        )
    return list(controls)


def _write_plink_versions(path: Path) -> None:
    tools = check_plink_tools()
    for tool in tools:
        log.info("%s: %s (%s)", tool.tool, tool.version, tool.path)
    rows = [(t.tool, t.version, t.path) for t in tools]
    write_tsv(pd.DataFrame(rows, columns=["software", "version", "path"]), path)


def run_genotype_qc(
    bfile: str,
    out_dir: str,
    *,
    settings: dict,
    participants: str | None = None,
    coding: dict | None = None,
    threads: int = 1,
) -> None:
    """QC genotypes: writes qc.bed/.bim/.fam, removal tables, summary and plots.

    ``bfile`` is a PLINK 1/2 prefix or a VCF/BGEN file (``settings['input_format']``); for
    non-.bed input the QC'd dosages are also written as qc_dosage.pgen/.pvar/.psam. Starts by
    resolving plink2 and PLINK 1.9 (stops with how to get them when missing) and writes the
    versions that run to ``plink_versions.tsv``."""
    s = _merge(QC_DEFAULTS, settings)
    fmt = s.get("input_format", "bed")
    out = Path(out_dir)
    log_dir = out / "plink_logs"
    out.mkdir(parents=True, exist_ok=True)
    _write_plink_versions(out / "plink_versions.tsv")
    controls = _controls(participants, bool(s["hwe_controls_only"]), coding)
    with tempfile.TemporaryDirectory(dir=out, prefix=".qc_work_") as tmp:
        work = Path(tmp)
        sample = s.get("bgen_sample", "")
        prefix = hard_call_fileset(bfile, fmt, work, log_dir, bgen_sample=sample, threads=threads)
        fileset = open_fileset(prefix)
        miss = run_plink(
            ["--bfile", prefix, "--missing"], work / "input_missingness", log_dir, threads=threads
        )
        smiss = _read_plink_table(f"{miss}.smiss")
        vmiss = _read_plink_table(f"{miss}.vmiss")
        state = run_qc_steps(fileset, work, log_dir, s, controls, threads)
        final = run_plink(
            state.filter_args() + ["--make-bed"], work / "qc", log_dir, threads=threads
        )
        for ext in ("bed", "bim", "fam"):
            os.replace(f"{final}.{ext}", out / f"qc.{ext}")
        if fmt != "bed":
            keep, extract = work / "keep.txt", work / "extract.txt"
            dosage = work / "qc_dosage"
            write_qc_dosages(bfile, fmt, keep, extract, dosage, log_dir, bgen_sample=sample,
                             threads=threads)  # fmt: skip
            for ext in ("pgen", "pvar", "psam"):
                os.replace(f"{dosage}.{ext}", out / f"qc_dosage.{ext}")
    write_tsv(
        pd.DataFrame(state.removed_samples, columns=["FID", "IID", "step", "reason"]),
        out / "removed_samples.tsv",
    )
    write_tsv(
        pd.DataFrame(state.removed_variants, columns=["ID", "step", "reason"]),
        out / "removed_variants.tsv",
    )
    write_tsv(summary_table(state), out / "qc_summary.tsv")
    plot_qc(smiss, vmiss, state.het, s, out / "qc_plots.png")
    log.info(
        "QC kept %d/%d samples, %d/%d variants",
        len(state.samples),
        fileset.n_samples,
        len(state.variants),
        fileset.n_variants,
    )


def cohort_a1_freq(fileset, rows):
    """Frequency of the .bim A1 allele among the non-missing genotypes of the given rows."""
    rows = np.asarray(rows)
    order = np.argsort(rows)
    packed = np.asarray(bed_matrix(fileset)[rows[order]])
    a1, missing = allele_counts(packed, fileset.n_samples)
    with np.errstate(divide="ignore", invalid="ignore"):
        freq = a1 / (2.0 * (fileset.n_samples - missing))
    out = np.empty(len(rows))
    out[order] = freq
    return out


def build_pathway_scores(
    bfile: str,
    sumstats: str,
    gene_loc: str,
    gmt: str,
    out_dir: str,
    *,
    settings: dict,
    dosage_pfile: str | None = None,
    threads: int = 1,
) -> None:
    """Harmonise, clump, map SNPs to pathways and score every subject on every kept pathway
    (from the hard calls of ``bfile``, or from the dosages of ``dosage_pfile`` when given)."""
    check_plink_tools()  # before any work: a missing PLINK stops here with how to get it
    s = _merge(SCORE_DEFAULTS, settings)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fileset = open_fileset(bfile)
    gwas = read_sumstats(
        sumstats,
        s["columns"],
        fmt=s["format"],
        effect_type=s["effect_type"],
        match_by=s["match_by"],
        min_info=float(s["min_info"]),
        min_maf=float(s["min_maf"]),
    )
    if s["liftover_chain"]:
        gwas = liftover_sumstats(gwas, s["liftover_chain"])
    if s["build_check"] and s["match_by"] == "chrpos" and gwas["SNP"].notna().any():
        build = check_build(gwas, fileset.bim, sumstats, f"{bfile}.bim")
        log.info("build check: %s", build)
    harmonised, outcome = harmonise(
        gwas,
        fileset.bim,
        match_by=s["match_by"],
        drop_ambiguous=bool(s["drop_ambiguous"]),
        a1_freq=lambda rows: cohort_a1_freq(fileset, rows),
        ambiguous_band=tuple(s["ambiguous_band"]),
    )
    counts = outcome_summary(outcome)
    write_tsv(counts, out / "harmonisation_summary.tsv")
    write_tsv(harmonised, out / "harmonised_sumstats.tsv")
    if harmonised.empty:
        detail = ", ".join(f"{r.outcome}={r.n}" for r in counts.itertuples() if r.n)
        raise InputError(sumstats, f"no SNP survived harmonisation against {bfile}.bim ({detail})")

    with tempfile.TemporaryDirectory(dir=out, prefix=".clump_work_") as tmp:
        clumped = clump_sumstats(
            bfile,
            harmonised,
            tmp,
            out / "plink_logs",
            clump=s["clump"],
            p_threshold=float(s["p_threshold"]),
            threads=threads,
        )
    write_tsv(clumped, out / "clumped_snps.tsv")
    if clumped.empty:
        raise InputError(sumstats, f"no SNP with P < {s['p_threshold']} left after clumping")

    loc = read_gene_loc(gene_loc)
    gene_sets = read_gmt(gmt)
    border = s["gene_border_kb"]
    snp_genes = map_snps_to_genes(
        clumped,
        loc,
        upstream_kb=border["upstream"],
        downstream_kb=border["downstream"],
        gene_id=s["gene_id"],
    )
    rows, summary = pathway_table(
        snp_genes,
        clumped,
        gene_sets,
        loc,
        gene_id=s["gene_id"],
        min_genes=int(s["min_genes"]),
        max_genes=int(s["max_genes"]),
        min_snps=int(s["min_snps"]),
        gmt_path=gmt,
    )
    write_tsv(rows, out / "snp_gene_pathway.tsv")
    write_tsv(summary, out / "pathway_summary.tsv")
    kept = list(summary.loc[summary["kept"], "pathway"])
    if not kept:
        raise InputError(
            gmt,
            f"no pathway passed the size and SNP-count filters; see {out / 'pathway_summary.tsv'}",
        )
    weights = pathway_weights(rows, kept)
    if dosage_pfile:
        scores = score_dosages(dosage_pfile, weights, kept, missing_mode=s["missing_genotypes"])
    else:
        scores = score_pathways(
            fileset, weights, kept, missing_mode=s["missing_genotypes"], threads=threads
        )
    write_tsv(scores, out / "pathway_scores.tsv")
    log.info("scored %d subjects on %d pathways", len(scores), len(kept))
