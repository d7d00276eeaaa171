"""PLINK 1 binary filesets (.bed/.bim/.fam): validated reading, fast decoding, writing.

The .bed layout is variant-major: 3 magic bytes (0x6C 0x1B 0x01) then, per variant,
ceil(n_samples / 4) bytes holding 2-bit codes, low bits first. Codes count the .bim's
column-5 allele (A1): 0b00 = two A1, 0b10 = one, 0b11 = none, 0b01 = missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.errors import InputError

BED_MAGIC = bytes([0x6C, 0x1B, 0x01])
BIM_COLUMNS = ["CHR", "ID", "CM", "BP", "A1", "A2"]
FAM_COLUMNS = ["FID", "IID", "PAT", "MAT", "SEX", "PHENO"]

# 2-bit code -> A1 dosage, with 3 marking a missing genotype. Four codes share a byte, so a
# 256-entry uint32 table decodes a byte into four uint8 dosages in one gather.
MISSING_CODE = 3
_CODE_VALUE = np.array([2, MISSING_CODE, 1, 0], dtype=np.uint32)
_BYTES = np.arange(256)
BYTE_LUT = sum(_CODE_VALUE[(_BYTES >> (2 * k)) & 3] << (8 * k) for k in range(4)).astype("<u4")
# per byte: number of A1 alleles (+ missing count in the high 32 bits), for fast allele counts
_A1 = np.array([2, 0, 1, 0])
_MISS = np.array([0, 1, 0, 0])
BYTE_COUNT_LUT = sum(
    _A1[(_BYTES >> (2 * k)) & 3] + (_MISS[(_BYTES >> (2 * k)) & 3] << 32) for k in range(4)
).astype(np.int64)


@dataclass(frozen=True)
class PlinkFileset:
    """A validated PLINK 1 fileset: its prefix, variant table and sample table."""

    prefix: str
    bim: pd.DataFrame
    fam: pd.DataFrame

    @property
    def bed_path(self) -> Path:
        return Path(f"{self.prefix}.bed")

    @property
    def n_samples(self) -> int:
        return len(self.fam)

    @property
    def n_variants(self) -> int:
        return len(self.bim)


def bytes_per_variant(n_samples: int) -> int:
    """Bytes used by one variant in a .bed file for ``n_samples`` samples."""
    return (n_samples + 3) // 4


def read_bim(path: str | Path) -> pd.DataFrame:
    """Read a .bim (whitespace-separated, no header); reject duplicate variant IDs."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    try:
        bim = pd.read_csv(
            path,
            sep=r"\s+",
            header=None,
            names=BIM_COLUMNS,
            dtype={"CHR": str, "ID": str, "A1": str, "A2": str},
        )
    except pd.errors.EmptyDataError as exc:
        raise InputError(path, "file is empty: no variants") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(path, f"malformed .bim (expected 6 columns): {exc}") from exc
    if bim["BP"].isna().any() or not pd.api.types.is_integer_dtype(bim["BP"]):
        raise InputError(path, "column 4 (base-pair position) must be integers")
    dup = bim["ID"][bim["ID"].duplicated()]
    if len(dup):
        raise InputError(path, f"{len(dup)} duplicate variant ID(s), e.g. {list(dup[:3])}")
    return bim


def read_fam(path: str | Path) -> pd.DataFrame:
    """Read a .fam (whitespace-separated, no header); reject duplicate sample IDs."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    try:
        fam = pd.read_csv(path, sep=r"\s+", header=None, names=FAM_COLUMNS, dtype=str)
    except pd.errors.EmptyDataError as exc:
        raise InputError(path, "file is empty: no samples") from exc
    except pd.errors.ParserError as exc:
        raise InputError(path, f"malformed .fam (expected 6 columns): {exc}") from exc
    if fam["PHENO"].isna().any():
        raise InputError(path, "expected 6 columns: FID IID PAT MAT SEX PHENO")
    dup = fam["IID"][fam.duplicated(["FID", "IID"])]
    if len(dup):
        raise InputError(path, f"{len(dup)} duplicate sample ID(s) (FID IID), e.g. {list(dup[:3])}")
    dup_iid = fam["IID"][fam["IID"].duplicated()]
    if len(dup_iid):
        raise InputError(path, f"duplicate IID(s) across families, e.g. {list(dup_iid[:3])}")
    return fam


def open_fileset(prefix: str | Path) -> PlinkFileset:
    """Read the .bim and .fam of ``prefix`` and check the .bed's magic bytes and size."""
    prefix = str(prefix)
    bim = read_bim(f"{prefix}.bim")
    fam = read_fam(f"{prefix}.fam")
    bed = Path(f"{prefix}.bed")
    if not bed.exists():
        raise InputError(bed, "file not found")
    with open(bed, "rb") as fh:
        magic = fh.read(3)
    if magic != BED_MAGIC:
        raise InputError(
            bed,
            f"not a variant-major PLINK 1 .bed: magic bytes {magic.hex()} (expected 6c1b01)",
        )
    expected = 3 + len(bim) * bytes_per_variant(len(fam))
    size = bed.stat().st_size
    if size != expected:
        raise InputError(
            bed,
            f"size {size} bytes does not match {len(bim)} variants (.bim) x {len(fam)} samples "
            f"(.fam) = {expected} bytes: truncated file or .bim/.fam row counts do not match",
        )
    fileset = PlinkFileset(prefix, bim, fam)
    _check_padding(fileset)
    return fileset


PADDING_CHUNK = 1 << 20  # variants per read when checking the padding bits


def _check_padding(fileset: PlinkFileset) -> None:
    """The unused high bits of each variant's last byte must be zero (PLINK writes zeros).

    A .fam one line short leaves the .bed size unchanged unless the true sample count is a
    multiple of 4 plus 1; every sample after the missing line would then silently get its
    neighbour's genotypes. The last sample's genotypes land in the padding bits, which is
    how the mismatch shows (unless that sample is homozygous A1, code 00, everywhere)."""
    n = fileset.n_samples
    used = n % 4
    if used == 0 or fileset.n_variants == 0:
        return
    mask = np.uint8((0xFF << (2 * used)) & 0xFF)
    last = bed_matrix(fileset)[:, -1]
    for start in range(0, fileset.n_variants, PADDING_CHUNK):
        bad = np.flatnonzero(np.asarray(last[start : start + PADDING_CHUNK]) & mask)
        if len(bad):
            first = start + int(bad[0])
            raise InputError(
                fileset.bed_path,
                f"variant {first + 1} ({fileset.bim['ID'].iloc[first]}) has genotype bits "
                f"after sample {n} of the .fam: the .bed holds more samples than "
                f"{fileset.prefix}.fam lists (a line missing from the .fam?); use the .fam "
                "written with this .bed",
            )


def bed_matrix(fileset: PlinkFileset) -> np.ndarray:
    """Memory-map the .bed's genotype bytes as an (n_variants, bytes_per_variant) array."""
    return np.memmap(
        fileset.bed_path,
        dtype=np.uint8,
        mode="r",
        offset=3,
        shape=(fileset.n_variants, bytes_per_variant(fileset.n_samples)),
    )


def decode_codes(packed: np.ndarray, n_samples: int) -> np.ndarray:
    """Decode packed .bed rows into uint8 A1 dosages 0/1/2, with 3 (MISSING_CODE) = missing."""
    quads = BYTE_LUT[packed]  # (variants, bytes) uint32, little-endian: sample 4j+k in byte k
    return quads.view(np.uint8).reshape(len(packed), -1)[:, :n_samples]


def allele_counts(packed: np.ndarray, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Per variant: number of A1 alleles and of missing genotypes, read from packed bytes."""
    full = n_samples // 4  # bytes without padding bits
    both = BYTE_COUNT_LUT[packed[:, :full]].sum(axis=1)
    a1, missing = both & 0xFFFFFFFF, both >> 32
    if full < packed.shape[1]:
        tail = decode_codes(packed[:, full:], n_samples - 4 * full).astype(np.int64)
        tail_missing = (tail == MISSING_CODE).sum(axis=1)
        a1 = a1 + tail.sum(axis=1) - MISSING_CODE * tail_missing
        missing = missing + tail_missing
    return a1, missing


def decode_dosage(packed: np.ndarray, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Decode packed .bed rows into float A1 dosages (missing -> 0) and a boolean mask."""
    codes = decode_codes(packed, n_samples)
    missing = codes == MISSING_CODE
    dosage = codes.astype(np.float64)
    dosage[missing] = 0.0
    return dosage, missing


def read_dosages(fileset: PlinkFileset) -> np.ndarray:
    """Whole A1-dosage matrix (variants x samples), NaN where missing; for small data."""
    raw = np.asarray(bed_matrix(fileset))
    dosage, missing = decode_dosage(raw, fileset.n_samples)
    dosage[missing] = np.nan
    return dosage


def pack_codes(codes: np.ndarray) -> np.ndarray:
    """Pack 2-bit .bed codes (variants x samples, values 0-3) into .bed bytes."""
    n_var, n_samp = codes.shape
    padded = np.zeros((n_var, bytes_per_variant(n_samp) * 4), dtype=np.uint8)
    padded[:, :n_samp] = codes
    quads = padded.reshape(n_var, -1, 4)
    return quads[..., 0] | (quads[..., 1] << 2) | (quads[..., 2] << 4) | (quads[..., 3] << 6)


def dosage_to_codes(dosage: np.ndarray) -> np.ndarray:
    """A1 dosages (0/1/2, NaN = missing) -> 2-bit .bed codes."""
    codes = np.full(dosage.shape, 1, dtype=np.uint8)
    codes[dosage == 2] = 0
    codes[dosage == 1] = 2
    codes[dosage == 0] = 3
    return codes


def write_fileset(
    prefix: str | Path, dosage: np.ndarray, bim: pd.DataFrame, fam: pd.DataFrame
) -> None:
    """Write a PLINK 1 fileset from A1 dosages (variants x samples, NaN = missing)."""
    prefix = str(prefix)
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    with open(f"{prefix}.bed", "wb") as fh:
        fh.write(BED_MAGIC)
        fh.write(pack_codes(dosage_to_codes(dosage)).tobytes())
    bim[BIM_COLUMNS].to_csv(f"{prefix}.bim", sep="\t", header=False, index=False)
    fam[FAM_COLUMNS].to_csv(f"{prefix}.fam", sep="\t", header=False, index=False)
