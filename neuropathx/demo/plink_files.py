"""Writer for PLINK 1 binary filesets (.bed SNP-major, .bim, .fam)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.io import atomic_path

_BED_MAGIC = bytes([0x6C, 0x1B, 0x01])  # PLINK 1 magic number + SNP-major mode
MISSING = -1


def pack_bed(a1_dosage: np.ndarray) -> bytes:
    """Pack A1-allele dosages (n_snps, n_samples; -1 = missing) into .bed bytes.

    PLINK 2-bit codes: 00 = homozygous A1, 01 = missing, 10 = heterozygous,
    11 = homozygous A2; the first sample of each byte sits in the two lowest bits.
    """
    n_snps, n_samples = a1_dosage.shape
    code = np.full(a1_dosage.shape, 0b01, dtype=np.uint8)
    code[a1_dosage == 2] = 0b00
    code[a1_dosage == 1] = 0b10
    code[a1_dosage == 0] = 0b11
    pad = (-n_samples) % 4
    if pad:
        code = np.concatenate([code, np.zeros((n_snps, pad), dtype=np.uint8)], axis=1)
    quads = code.reshape(n_snps, -1, 4)
    packed = quads[..., 0] | (quads[..., 1] << 2) | (quads[..., 2] << 4) | (quads[..., 3] << 6)
    return _BED_MAGIC + packed.astype(np.uint8).tobytes()


def write_plink1(
    prefix: str | Path, a1_dosage: np.ndarray, bim: pd.DataFrame, fam: pd.DataFrame
) -> None:
    """Write ``prefix``.bed/.bim/.fam atomically.

    bim columns: CHR SNP CM BP A1 A2 (A1 is the allele counted in ``a1_dosage``);
    fam columns: FID IID PAT MAT SEX PHENO.
    """
    prefix = Path(prefix)
    if a1_dosage.shape != (len(bim), len(fam)):
        raise ValueError(f"dosage shape {a1_dosage.shape} != (bim {len(bim)}, fam {len(fam)})")
    with atomic_path(prefix.with_suffix(".bed")) as tmp:
        tmp.write_bytes(pack_bed(a1_dosage))
    with atomic_path(prefix.with_suffix(".bim")) as tmp:
        bim[["CHR", "SNP", "CM", "BP", "A1", "A2"]].to_csv(tmp, sep="\t", header=False, index=False)
    with atomic_path(prefix.with_suffix(".fam")) as tmp:
        fam[["FID", "IID", "PAT", "MAT", "SEX", "PHENO"]].to_csv(
            tmp, sep=" ", header=False, index=False
        )
