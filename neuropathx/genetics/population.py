"""Population structure of the QC'd genotypes: principal components and ancestry outliers.

PCA runs plink2 ``--pca`` on LD-pruned variants (``genotype_qc.prune``) of the QC'd
fileset; from ``pca.approx_min_samples`` samples on, plink2's randomised ``approx``
algorithm (fast for large N, near-identical leading PCs). Eigenvectors are plink2's
(unit-norm per PC). An ancestry outlier lies more than ``pca.outlier_sd`` SD from the
cohort mean on any of the first ``pca.outlier_pcs`` PCs (the EIGENSOFT convention); outliers
are listed and counted, never removed here (the cohort stage may leave them out).

Outputs (the contract for the cohort stage): ``pcs.tsv`` = ``participant_id`` (the IID)
then ``PC1`` .. ``PC<n_pcs>``, one row per QC'd sample in .fam order;
``pca_eigenvalues.tsv``; ``ancestry_outliers.tsv``; ``pca_plot.png`` (PC1/PC2 by diagnosis).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.errors import InputError
from neuropathx.genetics.plink_cli import read_id_list, run_plink
from neuropathx.genetics.plink_io import open_fileset
from neuropathx.genetics.qc_plots import plot_pca
from neuropathx.io import read_tsv, write_tsv

log = logging.getLogger(__name__)

PCA_DEFAULTS = {
    "n_pcs": 10,
    "approx_min_samples": 5000,
    "outlier_sd": 6.0,
    "outlier_pcs": 4,
}
MIN_SAMPLES_FOR_FREQ = 50  # plink2 will not estimate frequencies from fewer samples


def ancestry_outliers(pcs: pd.DataFrame, n_pcs: int, sd: float) -> pd.DataFrame:
    """Samples beyond ``sd`` SD from the mean on any of the first ``n_pcs`` PCs."""
    cols = [f"PC{i}" for i in range(1, n_pcs + 1) if f"PC{i}" in pcs]
    values = pcs[cols].to_numpy(float)
    z = (values - values.mean(axis=0)) / values.std(axis=0, ddof=1)
    worst = np.abs(z).argmax(axis=1)
    max_z = np.abs(z)[np.arange(len(z)), worst]
    flagged = max_z > sd
    return pd.DataFrame(
        {
            "participant_id": pcs["participant_id"].to_numpy()[flagged],
            "pc": [cols[i] for i in worst[flagged]],
            "sd_from_mean": np.round(z[np.arange(len(z)), worst][flagged], 3),
        }
    )


def run_population_pca(
    bfile: str,
    out_dir: str | Path,
    *,
    prune: list,
    settings: dict,
    participants: str | None = None,
    coding: dict | None = None,
    threads: int = 1,
) -> pd.DataFrame:
    """PCA of a (QC'd) fileset: writes pcs.tsv, eigenvalues, outliers and the plot."""
    s = {**PCA_DEFAULTS, **settings}
    k = int(s["n_pcs"])
    out = Path(out_dir)
    log_dir = out / "plink_logs"
    fileset = open_fileset(bfile)
    if k >= fileset.n_samples:
        raise InputError(
            fileset.bed_path,
            f"genotype_qc.pca.n_pcs is {k} but only {fileset.n_samples} samples passed QC; "
            "set n_pcs below the sample count",
        )
    with tempfile.TemporaryDirectory(dir=out, prefix=".pca_work_") as tmp:
        work = Path(tmp)
        base = ["--bfile", bfile]
        freq = []
        if fileset.n_samples < MIN_SAMPLES_FOR_FREQ:
            done = run_plink(base + ["--freq"], work / "pca_freq", log_dir, threads=threads)
            freq = ["--read-freq", f"{done}.afreq"]
        window, step, r2 = (str(x) for x in prune)
        pruned = run_plink(
            base + ["--indep-pairwise", window, step, r2] + freq,
            work / "pca_prune",
            log_dir,
            threads=threads,
        )
        n_pruned = len(read_id_list(f"{pruned}.prune.in"))
        if n_pruned <= k:
            raise InputError(
                fileset.bed_path, f"only {n_pruned} variants left after LD pruning for {k} PCs"
            )
        approx = fileset.n_samples >= int(s["approx_min_samples"])
        pca_args = ["--pca", str(k)] + (["approx"] if approx else [])
        result = run_plink(
            base + ["--extract", f"{pruned}.prune.in"] + freq + pca_args,
            work / "pca",
            log_dir,
            threads=threads,
        )
        vec = pd.read_csv(f"{result}.eigenvec", sep="\t", dtype={"IID": str, "#FID": str})
        eigenvalues = np.loadtxt(f"{result}.eigenval", ndmin=1)
    pcs = pd.DataFrame({"participant_id": vec["IID"].astype(str)})
    for i in range(1, k + 1):
        pcs[f"PC{i}"] = vec[f"PC{i}"].to_numpy(float)
    write_tsv(pcs, out / "pcs.tsv")
    total = eigenvalues.sum()
    write_tsv(
        pd.DataFrame(
            {
                "pc": [f"PC{i}" for i in range(1, k + 1)],
                "eigenvalue": eigenvalues,
                "share_of_top_pcs": eigenvalues / total if total > 0 else np.nan,
            }
        ),
        out / "pca_eigenvalues.tsv",
    )
    outliers = ancestry_outliers(pcs, int(s["outlier_pcs"]), float(s["outlier_sd"]))
    write_tsv(outliers, out / "ancestry_outliers.tsv")
    diagnosis = _diagnosis(participants, coding, pcs["participant_id"])
    plot_pca(pcs, diagnosis, outliers, out / "pca_plot.png")
    log.info(
        "PCA (%s) on %d pruned variants, %d samples; %d ancestry outlier(s) beyond %s SD",
        "approx" if approx else "exact",
        n_pruned,
        len(pcs),
        len(outliers),
        s["outlier_sd"],
    )
    return pcs


def _diagnosis(participants, coding, ids) -> pd.Series:
    """Diagnosis per sample from the participants table ('unknown' where absent)."""
    if not participants:
        return pd.Series("unknown", index=ids.to_numpy())
    column = (coding or {}).get("diagnosis_column", "diagnosis")
    table = read_tsv(participants, required=["participant_id", column], dtype=str)
    by_id = table.set_index("participant_id")[column]
    return by_id.reindex(ids.to_numpy()).fillna("unknown")
