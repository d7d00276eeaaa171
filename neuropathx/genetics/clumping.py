"""LD clumping of harmonised summary statistics with plink1.9 ``--clump``.

plink2 2.00a3.5 has no ``--clump``, so this calls plink1.9 with ``--keep-allele-order`` (plink1.9
would otherwise re-order each variant's alleles by frequency; r^2 does not depend on the order,
but keeping it means the fileset plink reads is exactly the one we score). Index SNPs are those
plink reports (P <= p1, clumping partners with P <= p2 within ``kb`` and r^2 > ``r2``); of them we
keep those with P < ``p_threshold`` (the paper's "GWAS p < 0.1").
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from neuropathx.genetics.plink_cli import PLINK1, run_plink

DEFAULT_CLUMP = {"p1": 0.1, "p2": 0.1, "r2": 0.1, "kb": 50}


def read_clumped(path: str | Path) -> pd.DataFrame:
    """Parse plink1.9's .clumped table (whitespace-separated); empty if plink wrote none."""
    path = Path(path)
    if not path.exists() or not path.read_text().strip():
        return pd.DataFrame(columns=["SNP", "TOTAL"])
    table = pd.read_csv(path, sep=r"\s+", dtype={"SNP": str})
    return table[["SNP", "TOTAL"]]


def clump_sumstats(
    bfile: str,
    harmonised: pd.DataFrame,
    work_dir: str | Path,
    log_dir: str | Path,
    *,
    clump: dict | None = None,
    p_threshold: float = 0.1,
    threads: int = 1,
) -> pd.DataFrame:
    """Index SNPs after clumping and the P threshold: harmonised rows plus TOTAL (clump size)."""
    params = {**DEFAULT_CLUMP, **(clump or {})}
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    assoc = work_dir / "clump_input.tsv"
    harmonised[["SNP", "CHR", "BP", "A1", "A2", "BETA", "P"]].to_csv(
        assoc, sep="\t", index=False, float_format="%.10g"
    )
    out = run_plink(
        [
            "--bfile",
            bfile,
            "--keep-allele-order",
            "--clump",
            str(assoc),
            "--clump-p1",
            str(params["p1"]),
            "--clump-p2",
            str(params["p2"]),
            "--clump-r2",
            str(params["r2"]),
            "--clump-kb",
            str(params["kb"]),
            "--clump-snp-field",
            "SNP",
            "--clump-field",
            "P",
        ],
        work_dir / "clump",
        log_dir,
        binary=PLINK1,
        threads=threads,
    )
    index = read_clumped(f"{out}.clumped")
    kept = harmonised.merge(index, on="SNP", how="inner")
    kept = kept[kept["P"] < p_threshold]
    return kept.sort_values(["P", "SNP"]).reset_index(drop=True)
