"""The demo cohort simulator: one call writes a whole cohort in real file formats."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import msprime
import numpy as np
import pandas as pd

from neuropathx.demo import annotation, architecture, qc_problems, sumstats
from neuropathx.demo.atlases import PARCELLATIONS, region_names
from neuropathx.demo.freesurfer_stats import (
    STATS_COLUMNS,
    simulate_regional_measures,
    stats_text,
)
from neuropathx.demo.genomes import is_strand_ambiguous, simulate_genomes
from neuropathx.demo.plink_files import write_plink1
from neuropathx.demo.scenarios import (
    PAIR_KINDS,
    Confounders,
    diagnose,
    plan_effects,
    plant_regional_effects,
)
from neuropathx.io import write_json, write_tsv

log = logging.getLogger(__name__)
SITES = ("site1", "site2", "site3")


def _subject_ids(n: int) -> list[str]:
    width = max(4, len(str(n)))
    return [f"sub-{i + 1:0{width}d}" for i in range(n)]


def _covariates(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Sex, age, site and head size (eTIV, larger in men) of the target cohort."""
    male = rng.random(n) < 0.5
    etiv = np.where(male, rng.normal(1.60e6, 1.3e5, n), rng.normal(1.42e6, 1.2e5, n))
    return pd.DataFrame(
        {
            "sex": np.where(male, "M", "F"),
            "age": np.round(np.clip(rng.normal(62.0, 9.0, n), 35, 90), 1),
            "site_index": rng.choice(len(SITES), size=n, p=[0.4, 0.35, 0.25]),
            "eTIV": etiv,
        }
    )


def _write_freesurfer(
    fs_dir: Path, ids: list[str], parcellation: str, values: dict, cov: pd.DataFrame, rng
) -> None:
    """Write ``<id>/stats/?h.<parcellation>.stats`` for every subject into ``fs_dir``.

    ``fs_dir`` is a scratch directory renamed into place once complete (one rename instead
    of one atomic write per file).
    """
    brainseg = cov["eTIV"].to_numpy() * rng.uniform(0.72, 0.80, len(ids))
    ventricles = np.exp(rng.normal(np.log(25_000), 0.4, len(ids))) * (1 + 0.02 * (cov["age"] - 60))
    names = region_names(parcellation)
    cortex = sum(v[:, :, STATS_COLUMNS.index("GrayVol")].sum(axis=1) for v in values.values())
    for i, subject in enumerate(ids):
        measures = {
            "BrainSegVol": brainseg[i],
            "BrainSegVolNotVent": brainseg[i] - ventricles.iloc[i],
            "CortexVol": cortex[i],
            "eTIV": cov["eTIV"].iloc[i],
        }
        for hemi in ("lh", "rh"):
            text = stats_text(subject, hemi, names, values[hemi][i], measures, parcellation)
            (fs_dir / subject / "stats").mkdir(parents=True, exist_ok=True)
            (fs_dir / subject / "stats" / f"{hemi}.{parcellation}.stats").write_text(text)


def simulate_demo_cohort(
    out_dir: str | Path,
    *,
    n_subjects: int = 600,
    n_discovery: int = 2000,
    n_chromosomes: int = 4,
    chromosome_mb: float = 5.0,
    n_genes: int = 400,
    n_pathways: int = 40,
    n_causal_pathways: int = 4,
    parcellations: tuple[str, ...] = ("aparc",),
    seed: int = 42,
    scenario: str = "mixed",
    heritability: float = 0.35,
    n_additive_regions: int = 4,
    region_effect: tuple[float, float] = (0.3, 0.6),
    coupling_effect: tuple[float, float] = (0.5, 0.8),
    confounders: dict | None = None,
    patient_fraction: float = 0.45,
    effect_range: tuple[float, float] = (0.5, 1.0),
    max_snps: int = 30_000,
    min_maf: float = 0.01,
    causal_min_maf: float = 0.05,
    n_absent: int = 10,
    n_mismatch: int = 10,
) -> None:
    """Simulate the demo cohort with planted ground truth into ``out_dir``.

    ``scenario`` (null, additive, coupling, mixed) decides what is planted; the generative
    models are in :mod:`neuropathx.demo.scenarios`. ``heritability`` is the liability
    variance of the causal pathways (target diagnosis when they are additive, and always
    the discovery GWAS trait); ``region_effect`` / ``coupling_effect`` / ``effect_range``
    are the |effect| ranges (SD units) of additive_region, coupling and pair effects;
    ``confounders`` the ``demo.confounders`` mapping (:class:`Confounders`).

    Writes genotypes.bed/.bim/.fam, gwas_sumstats.tsv, sumstats_planted.tsv, genes.loc,
    pathways.gmt, freesurfer/<id>/stats/?h.<parcellation>.stats, participants.tsv,
    truth.tsv (first parcellation) and truth_<parcellation>.tsv (columns kind, pathway,
    region, measure, effect), confounders.tsv, causal_snps.tsv, planted_latent.tsv,
    injected_qc_problems.tsv and demo_manifest.json.
    """
    conf = Confounders.from_settings(confounders)
    scenario = scenario or "null"  # YAML reads an unquoted null as None
    unknown = [p for p in parcellations if p not in PARCELLATIONS]
    if unknown or not parcellations:
        raise ValueError(f"parcellations must be from {PARCELLATIONS}, got {parcellations}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    rng_annot, rng_arch, rng_qc, rng_pheno, rng_cov, rng_img, rng_gwas = streams
    ids = _subject_ids(n_subjects)

    # genomes: target cohort, discovery sample and one outsider (a relative's other parent)
    n_total = n_subjects + n_discovery + 1
    genomes = simulate_genomes(
        n_total, n_chromosomes, chromosome_mb, max_total_snps=max_snps, min_maf=min_maf, seed=seed
    )
    snps = genomes.snps
    log.info("simulated %d SNPs in %d individuals", len(snps), n_total)

    genes = annotation.simulate_genes(n_genes, n_chromosomes, int(chromosome_mb * 1e6), rng_annot)
    pathways = annotation.simulate_pathways(list(genes["symbol"]), n_pathways, rng_annot)
    gene_snps = architecture.snps_in_genes(snps, genes)
    maf = np.minimum(snps["ALT_FREQ"], 1 - snps["ALT_FREQ"]).to_numpy()
    eligible = (maf >= causal_min_maf) & ~is_strand_ambiguous(snps["REF"], snps["ALT"])
    causal = architecture.choose_causal_snps(
        pathways, gene_snps, eligible, n_causal_pathways, rng_arch
    )
    causal_pathways = list(dict.fromkeys(causal["pathway"]))
    protected = np.zeros(len(snps), bool)
    protected[causal["snp_index"]] = True
    absent = np.zeros(len(snps), bool)
    absent[rng_arch.choice(np.flatnonzero(~protected), n_absent, replace=False)] = True

    # true genotypes (target with a planted duplicate and relative), then phenotypes
    target, relatives, involved = qc_problems.plant_duplicate_and_relative(
        genomes.dosages(0, n_subjects), genomes.haplotypes, n_total - 1, ids, rng_qc
    )
    discovery = genomes.dosages(n_subjects, n_subjects + n_discovery)
    burdens = architecture.pathway_burdens(
        np.concatenate([target, discovery], axis=1), causal, causal_pathways
    )
    weights = rng_pheno.uniform(0.7, 1.3, len(causal_pathways))
    gwas_trait = architecture.liability(burdens[n_subjects:], weights, heritability, rng_pheno)

    # the scenario: diagnosis from its liability, then imaging with its regional effects
    cov = _covariates(n_subjects, rng_cov)
    effects = dict(
        n_additive_regions=n_additive_regions, region_effect=region_effect,
        coupling_effect=coupling_effect, pair_effect=effect_range,
    )  # fmt: skip
    all_regions = {
        p: [f"{h}_{r}" for h in ("lh", "rh") for r in region_names(p)] for p in parcellations
    }
    plans = {
        p: plan_effects(scenario, causal_pathways, all_regions[p], rng_img, **effects)
        for p in parcellations
    }
    patients, liab_target, plans[parcellations[0]] = diagnose(
        plans[parcellations[0]], burdens[:n_subjects], causal_pathways, weights, cov, conf,
        heritability, patient_fraction, rng_pheno,
    )  # fmt: skip
    first = plans[parcellations[0]]
    coef = first[first["kind"] == "additive_pathway"].set_index("pathway")["effect"]
    for parc in parcellations[1:]:  # the same diagnosis: same pathway coefficients
        additive = plans[parc]["kind"] == "additive_pathway"
        plans[parc].loc[additive, "effect"] = coef.loc[
            plans[parc].loc[additive, "pathway"]
        ].to_numpy()
    truth_tables, planted_values = {}, None
    fs_scratch = out / ".freesurfer.partial"
    shutil.rmtree(fs_scratch, ignore_errors=True)
    for parc in parcellations:
        names = region_names(parc)
        values = {h: simulate_regional_measures(parc, h, cov, rng_img, conf) for h in ("lh", "rh")}
        truth = plans[parc]
        planted = plant_regional_effects(
            values, truth, names, STATS_COLUMNS, burdens[:n_subjects], causal_pathways, patients
        )
        planted_values = planted if planted_values is None else planted_values
        truth_tables[parc] = truth
        _write_freesurfer(fs_scratch, ids, parc, values, cov, rng_img)
    shutil.rmtree(out / "freesurfer", ignore_errors=True)
    os.replace(fs_scratch, out / "freesurfer")
    primary = truth_tables[parcellations[0]]
    regional = primary[primary["kind"] != "additive_pathway"]
    pair_pathway = np.array(
        [causal_pathways.index(p) if p else -1 for p in regional["pathway"]], int
    )
    age_gap = cov["age"][patients].mean() - cov["age"][~patients].mean()
    auc = architecture.latent_sanity_auc(
        burdens[:n_subjects], planted_values, pair_pathway, patients.astype(int)
    )

    # genotype calls with QC problems, written as PLINK 1 (A1 = ALT)
    dup_index = ids.index(relatives[0][1])
    calls, problems = qc_problems.inject_call_errors(
        target, ids, list(snps["SNP"]), protected | absent, involved, dup_index, rng_qc
    )
    keep = ~absent
    bim = pd.DataFrame(
        {"CHR": snps["CHR"], "SNP": snps["SNP"], "CM": 0, "BP": snps["BP"],
         "A1": snps["ALT"], "A2": snps["REF"]}
    )[keep]  # fmt: skip
    fam = pd.DataFrame(
        {"FID": ids, "IID": ids, "PAT": 0, "MAT": 0,
         "SEX": np.where(cov["sex"] == "M", 1, 2), "PHENO": -9}
    )  # fmt: skip
    write_plink1(out / "genotypes", calls[keep], bim, fam)
    write_tsv(qc_problems.problems_table(relatives + problems), out / "injected_qc_problems.tsv")

    # GWAS of the discovery sample on the continuous liability
    beta, se, p = sumstats.gwas_ols(discovery, gwas_trait)
    ss, planted_mess = sumstats.messy_sumstats(
        snps, beta, se, p, n_discovery, absent, protected, rng_gwas, n_mismatch=n_mismatch
    )
    write_tsv(ss, out / "gwas_sumstats.tsv")
    write_tsv(planted_mess, out / "sumstats_planted.tsv")

    annotation.write_gene_loc(genes, out / "genes.loc")
    annotation.write_gmt(pathways, out / "pathways.gmt")
    participants = pd.DataFrame(
        {
            "participant_id": ids,
            "diagnosis": np.where(patients, "patient", "control"),
            "age": cov["age"],
            "sex": cov["sex"],
            "site": [SITES[k] for k in cov["site_index"]],
        }
    )
    write_tsv(participants, out / "participants.tsv")
    write_tsv(primary, out / "truth.tsv")
    write_tsv(conf.table(), out / "confounders.tsv")
    for parc, table in truth_tables.items():
        write_tsv(table, out / f"truth_{parc}.tsv")
    causal_out = causal.assign(
        SNP=snps["SNP"].to_numpy()[causal["snp_index"]], beta=causal["beta"].round(6)
    )[["pathway", "gene", "SNP", "beta"]]
    write_tsv(causal_out, out / "causal_snps.tsv")
    latent = pd.DataFrame(burdens[:n_subjects].round(6), columns=causal_pathways)
    latent.insert(0, "liability", liab_target.round(6))
    latent.insert(0, "participant_id", ids)
    write_tsv(latent, out / "planted_latent.tsv")

    manifest = {
        "parameters": {
            "n_subjects": n_subjects, "n_discovery": n_discovery,
            "n_chromosomes": n_chromosomes, "chromosome_mb": chromosome_mb,
            "n_genes": n_genes, "n_pathways": n_pathways,
            "n_causal_pathways": n_causal_pathways, "parcellations": list(parcellations),
            "seed": seed, "scenario": scenario, "heritability": heritability,
            "n_additive_regions": n_additive_regions, "region_effect": list(region_effect),
            "coupling_effect": list(coupling_effect), "confounders": asdict(conf),
            "patient_fraction": patient_fraction,
            "effect_range": list(effect_range), "max_snps": max_snps, "min_maf": min_maf,
            "causal_min_maf": causal_min_maf, "n_absent": n_absent, "n_mismatch": n_mismatch,
        },
        "counts": {
            "subjects": n_subjects, "patients": int(patients.sum()),
            "controls": int((~patients).sum()), "discovery": n_discovery,
            "snps_bim": int(keep.sum()), "snps_sumstats": len(ss), "genes": len(genes),
            "pathways": len(pathways), "causal_snps": len(causal),
            "truth_pairs": int(primary["kind"].isin(PAIR_KINDS).sum()),
            "truth_effects": primary["kind"].value_counts().sort_index().to_dict(),
        },
        "causal_pathways": causal_pathways,
        "pathway_weights": [round(float(w), 6) for w in weights],
        "latent_sanity_auc": round(auc, 4),
        "patients_minus_controls_age": round(float(age_gap), 3),
        "versions": {"msprime": msprime.__version__, "numpy": np.__version__},
    }  # fmt: skip
    write_json(manifest, out / "demo_manifest.json")
