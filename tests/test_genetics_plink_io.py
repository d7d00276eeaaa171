"""PLINK 1 fileset reading: decoding against pandas-plink and plink2, and bad-input errors."""

import subprocess

import numpy as np
import pandas as pd
import pytest
from pandas_plink import read_plink1_bin

from neuropathx.errors import InputError
from neuropathx.genetics.plink_io import (
    allele_counts,
    bed_matrix,
    open_fileset,
    read_dosages,
    write_fileset,
)
from neuropathx.genetics.simulate import default_tables, random_genotypes


@pytest.fixture
def fileset_prefix(tmp_path):
    rng = np.random.default_rng(1)
    geno = random_genotypes(7, 9, rng)  # 7 samples: last .bed byte is padded
    geno[rng.random(geno.shape) < 0.15] = np.nan
    bim, fam = default_tables(7, 9)
    prefix = tmp_path / "g"
    write_fileset(prefix, geno, bim, fam)
    return prefix, geno


def test_decoding_matches_written_dosages_and_pandas_plink(fileset_prefix):
    prefix, geno = fileset_prefix
    fs = open_fileset(prefix)
    ours = read_dosages(fs)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(geno))
    np.testing.assert_array_equal(np.nan_to_num(ours, nan=-1), np.nan_to_num(geno, nan=-1))
    # pandas-plink counts the .bim A1 allele (its "a0") with ref="a0"
    ref = read_plink1_bin(f"{prefix}.bed", ref="a0", verbose=False).values.T
    np.testing.assert_array_equal(np.nan_to_num(ours, nan=-1), np.nan_to_num(ref, nan=-1))


def test_allele_counts_ignore_padding(fileset_prefix):
    prefix, geno = fileset_prefix
    fs = open_fileset(prefix)
    a1, missing = allele_counts(np.asarray(bed_matrix(fs)), fs.n_samples)
    np.testing.assert_array_equal(a1, np.nansum(geno, axis=1))
    np.testing.assert_array_equal(missing, np.isnan(geno).sum(axis=1))


def test_truncated_bed(fileset_prefix):
    prefix, _ = fileset_prefix
    bed = prefix.with_suffix(".bed")
    bed.write_bytes(bed.read_bytes()[:-1])
    with pytest.raises(InputError, match=r"g\.bed.*truncated"):
        open_fileset(prefix)


def test_wrong_magic(fileset_prefix):
    prefix, _ = fileset_prefix
    bed = prefix.with_suffix(".bed")
    bed.write_bytes(b"\x6c\x1b\x00" + bed.read_bytes()[3:])
    with pytest.raises(InputError, match=r"g\.bed.*magic bytes 6c1b00"):
        open_fileset(prefix)


def test_bim_row_count_mismatch(fileset_prefix):
    prefix, _ = fileset_prefix
    bim = prefix.with_suffix(".bim")
    bim.write_text(bim.read_text() + "2\trs999\t0\t999999\tA\tG\n")
    with pytest.raises(InputError, match=r"10 variants \(\.bim\) x 7 samples"):
        open_fileset(prefix)


def test_fam_row_count_mismatch(fileset_prefix):
    prefix, _ = fileset_prefix
    fam = prefix.with_suffix(".fam")
    lines = fam.read_text().splitlines()
    # 7 -> 4 samples: 1 byte per variant instead of 2 (7 -> 5 would keep the byte count)
    fam.write_text("\n".join(lines[:4]) + "\n")
    with pytest.raises(InputError, match=r"9 variants \(\.bim\) x 4 samples"):
        open_fileset(prefix)


def test_duplicate_variant_ids(fileset_prefix):
    prefix, _ = fileset_prefix
    bim = prefix.with_suffix(".bim")
    table = pd.read_csv(bim, sep="\t", header=None)
    table.iloc[3, 1] = table.iloc[2, 1]
    table.to_csv(bim, sep="\t", header=False, index=False)
    with pytest.raises(InputError, match=r"g\.bim.*duplicate variant ID.*rs3"):
        open_fileset(prefix)


def test_duplicate_sample_ids(fileset_prefix):
    prefix, _ = fileset_prefix
    fam = prefix.with_suffix(".fam")
    table = pd.read_csv(fam, sep="\t", header=None, dtype=str)
    table.iloc[1, :2] = table.iloc[0, :2]
    table.to_csv(fam, sep="\t", header=False, index=False)
    with pytest.raises(InputError, match=r"g\.fam.*duplicate sample ID.*sub-001"):
        open_fileset(prefix)


@pytest.mark.plink
@pytest.mark.parametrize("drop", [2, 6])  # a middle line, the last line
def test_fam_one_line_short_with_unchanged_bed_size(fileset_prefix, tmp_path, drop):
    prefix, geno = fileset_prefix
    # the .bed as plink2 writes it (zero padding), then a .fam missing one of its 7 lines
    out = tmp_path / "p2"
    subprocess.run(
        ["plink2", "--bfile", str(prefix), "--make-bed", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    assert open_fileset(out).n_samples == 7  # plink2's own padding passes the check
    fam = out.with_suffix(".fam")
    lines = fam.read_text().splitlines()
    fam.write_text("\n".join(lines[:drop] + lines[drop + 1 :]) + "\n")
    # 6 samples need 2 bytes per variant, as 7 do: the size check alone cannot see it
    assert out.with_suffix(".bed").stat().st_size == 3 + 9 * 2
    with pytest.raises(
        InputError,
        match=r"p2\.bed: variant \d+ \(rs\d+\) has genotype bits after sample 6 .*"
        r"more samples than .*p2\.fam lists \(a line missing",
    ):
        open_fileset(out)
