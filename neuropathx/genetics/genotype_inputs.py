"""Genotype inputs other than PLINK 1 .bed: PLINK 2 .pgen, VCF(.gz), BGEN(+.sample).

QC runs on hard calls: every input is converted once with plink2 ``--make-bed`` (a dosage
becomes a hard call when within plink2's default ``--hard-call-threshold`` 0.1 of 0/1/2,
otherwise missing). Scores of imputed data use the dosages instead: the QC'd samples and
variants of the dosage source (the .pgen itself, or for VCF/BGEN a .pgen made by plink2
with ``dosage=DS`` / from the BGEN probabilities) are written as ``qc_dosage.pgen`` and
scored with pgenlib. A missing dosage is replaced by the variant's mean dosage over the
samples that have one (as plink2 ``--score`` does by default; ``missing_genotypes: zero``
counts it as 0), so the scores equal plink2 ``--score ... cols=+scoresums`` on that .pgen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from neuropathx.errors import InputError
from neuropathx.genetics.plink_cli import run_plink

INPUT_FORMATS = ("bed", "pgen", "vcf", "bgen")


def source_args(path: str, fmt: str, bgen_sample: str = "") -> list[str]:
    """plink2 arguments reading the genotypes at ``path`` (a prefix for bed/pgen)."""
    if fmt not in INPUT_FORMATS:
        raise ValueError(f"genotype_qc.input_format must be one of {INPUT_FORMATS}, got {fmt!r}")
    if fmt == "bed":
        return ["--bfile", path]
    if fmt == "pgen":
        for ext in (".pgen", ".pvar", ".psam"):
            if not Path(f"{path}{ext}").exists():
                raise InputError(f"{path}{ext}", "file not found (inputs.bfile is the prefix)")
        return ["--pfile", path]
    if not Path(path).exists():
        raise InputError(path, "file not found")
    if fmt == "vcf":
        return ["--vcf", path, "dosage=DS"]
    sample = bgen_sample or path.removesuffix(".bgen") + ".sample"
    if not Path(sample).exists():
        raise InputError(sample, "BGEN sample file not found (set genotype_qc.bgen_sample)")
    return ["--bgen", path, "ref-first", "--sample", sample]


def hard_call_fileset(path: str, fmt: str, work: Path, log_dir: Path, *, bgen_sample="",
                      threads=1) -> str:  # fmt: skip
    """The input as a PLINK 1 fileset of hard calls (itself when already .bed)."""
    if fmt == "bed":
        return path
    out = run_plink(
        source_args(path, fmt, bgen_sample) + ["--make-bed"],
        work / "input_hardcalls",
        log_dir,
        threads=threads,
    )
    return str(out)


def write_qc_dosages(
    path: str, fmt: str, keep: Path, extract: Path, out: Path, log_dir: Path, *,
    bgen_sample="", threads=1,
) -> None:  # fmt: skip
    """The QC'd samples and variants of the dosage source as ``out``.pgen/.pvar/.psam."""
    args = source_args(path, fmt, bgen_sample) + ["--keep", str(keep), "--extract", str(extract)]
    run_plink(args + ["--make-pgen"], out, log_dir, threads=threads)


def read_pvar_ids(prefix: str) -> pd.Series:
    """Variant IDs of a .pvar, in file order (header lines ## and #CHROM skipped)."""
    table = pd.read_csv(f"{prefix}.pvar", sep="\t", comment=None, dtype=str, skiprows=_meta(prefix))
    return table["ID"]


def _meta(prefix: str) -> int:
    with open(f"{prefix}.pvar") as fh:
        return sum(1 for line in iter(fh.readline, "") if line.startswith("##"))


def read_psam_ids(prefix: str) -> pd.Series:
    table = pd.read_csv(f"{prefix}.psam", sep="\t", dtype=str)
    return table["IID"] if "IID" in table else table["#IID"]


def score_dosages(
    prefix: str,
    weights: pd.DataFrame,
    pathways: list[str],
    *,
    missing_mode: str = "mean_impute",
    chunk_size: int = 2048,
) -> pd.DataFrame:
    """Subjects x pathways scores from the ALT dosages of a .pgen (the .bim A1 of its
    hard-call conversion), weights as long (SNP, pathway, BETA) rows."""
    import pgenlib  # only needed for dosage input

    ids = read_pvar_ids(prefix)
    samples = read_psam_ids(prefix)
    row_of = pd.Series(np.arange(len(ids)), index=ids.to_numpy())
    rows = row_of.reindex(weights["SNP"]).to_numpy()
    if np.isnan(rows.astype(float)).any():
        raise InputError(f"{prefix}.pvar", "scored SNPs missing from the dosage file")
    cols = pd.Series(np.arange(len(pathways)), index=pathways).reindex(weights["pathway"])
    mat = sp.csr_matrix(
        (weights["BETA"].to_numpy(float), (rows.astype(int), cols.to_numpy(int))),
        shape=(len(ids), len(pathways)),
    )
    used = np.flatnonzero(np.diff(mat.indptr) > 0).astype(np.uint32)
    reader = pgenlib.PgenReader(f"{prefix}.pgen".encode())
    total = np.zeros((len(pathways), len(samples)))
    try:
        for start in range(0, len(used), chunk_size):
            idx = used[start : start + chunk_size]
            dosage = np.empty((len(idx), len(samples)), dtype=np.float64)
            reader.read_dosages_list(idx, dosage)  # ALT allele dosage, -9 = missing
            missing = dosage == -9
            dosage[missing] = np.nan
            fill = np.zeros(len(idx)) if missing_mode == "zero" else np.nanmean(dosage, axis=1)
            dosage = np.where(missing, np.nan_to_num(fill)[:, None], dosage)
            total += np.asarray(mat[idx].T @ dosage)
    finally:
        reader.close()
    table = pd.DataFrame(total.T, columns=pathways)
    table.insert(0, "participant_id", samples.to_numpy())
    return table
