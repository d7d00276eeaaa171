"""PLINK is found under both of its names, in PATH order, and a missing one stops the stage early
with how to get it; the versions that ran reach package_versions.tsv."""

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neuropathx.genetics.clumping import clump_sumstats
from neuropathx.genetics.plink_cli import (
    PLINK1,
    PLINK2,
    PlinkNotFoundError,
    check_plink_tools,
    find_plink,
)
from neuropathx.genetics.plink_io import write_fileset
from neuropathx.genetics.simulate import default_tables, ld_genotypes
from neuropathx.genetics.stage import build_pathway_scores, run_genotype_qc
from neuropathx.provenance import software_versions


def _fake(folder: Path, name: str, version_line: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    exe.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    exe.chmod(0o755)
    return exe


def test_plink19_found_as_debian_plink1_9(tmp_path):
    _fake(tmp_path, "plink2", "PLINK v2.00a3.5 AVX2 (9 Aug 2022)")
    exe = _fake(tmp_path, "plink1.9", "PLINK v1.90b6.26 64-bit (2 Apr 2022)")
    tools = check_plink_tools(search_path=str(tmp_path))
    assert [(t.tool, t.path, t.version) for t in tools] == [
        (PLINK2, str(tmp_path / "plink2"), "PLINK v2.00a3.5 AVX2 (9 Aug 2022)"),
        (PLINK1, str(exe), "PLINK v1.90b6.26 64-bit (2 Apr 2022)"),
    ]


def test_plink19_found_as_bioconda_plink(tmp_path):
    exe = _fake(tmp_path, "plink", "PLINK v1.90b6.21 64-bit (19 Oct 2020)")
    assert find_plink(PLINK1, search_path=str(tmp_path)) == str(exe)


def test_first_path_folder_wins_whatever_the_name(tmp_path):
    """An activated env's `plink` comes before a system `plink1.9` later on PATH."""
    env = _fake(tmp_path / "env" / "bin", "plink", "PLINK v1.90b6.21 64-bit")
    _fake(tmp_path / "usr" / "bin", "plink1.9", "PLINK v1.90b6.26 64-bit")
    search = os.pathsep.join([str(tmp_path / "env" / "bin"), str(tmp_path / "usr" / "bin")])
    assert find_plink(PLINK1, search_path=search) == str(env)


def test_missing_plink_names_the_tool_and_how_to_get_it(tmp_path):
    _fake(tmp_path, "plink2", "PLINK v2.00a3.5")
    with pytest.raises(PlinkNotFoundError) as err:
        check_plink_tools(search_path=str(tmp_path))
    message = str(err.value)
    assert "plink1.9 not found on PATH (looked for plink1.9 or plink)" in message
    assert "plink2 not found" not in message
    assert "sudo apt-get install plink2 plink1.9" in message
    assert "bioconda packages `plink2` and `plink`" in message


def test_a_plink_that_is_not_plink19_is_refused(tmp_path):
    _fake(tmp_path, "plink2", "PLINK v2.00a3.5")
    _fake(tmp_path, "plink", "PLINK v1.07")  # the old PLINK, also installed as `plink`
    with pytest.raises(PlinkNotFoundError, match=r"plink is not plink1\.9.*'PLINK v1\.07'"):
        check_plink_tools(search_path=str(tmp_path))


def test_genotype_stage_stops_before_any_work_without_plink(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(PlinkNotFoundError, match="plink2 not found.*plink1.9 not found"):
        run_genotype_qc(str(tmp_path / "absent"), str(tmp_path / "out"), settings={})
    assert not (tmp_path / "out" / "qc.bed").exists()
    with pytest.raises(PlinkNotFoundError, match="plink2 not found"):
        build_pathway_scores(*(str(tmp_path / "absent"),) * 4, str(tmp_path / "o"), settings={})


def test_package_versions_take_plink_rows_from_the_stage(tmp_path):
    ran = tmp_path / "plink_versions.tsv"
    pd.DataFrame(
        [
            ("plink2", "PLINK v2.00a3.7 (conda)", "/env/bin/plink2"),
            ("plink1.9", "PLINK v1.90b6.21", "/env/bin/plink"),
        ],
        columns=["software", "version", "path"],
    ).to_csv(ran, sep="\t", index=False)
    versions = software_versions(ran).set_index("software")["version"]
    assert versions["plink2"] == "PLINK v2.00a3.7 (conda)"
    assert versions["plink1.9"] == "PLINK v1.90b6.21"
    assert versions.index.is_unique


@pytest.mark.plink
def test_clumping_runs_with_plink19_installed_as_plink(tmp_path, monkeypatch):
    """Bioconda's layout: only `plink` and `plink2` on PATH; clumping must use that `plink`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "plink").symlink_to(shutil.which("plink1.9"))
    (bin_dir / "plink2").symlink_to(shutil.which("plink2"))
    monkeypatch.setenv("PATH", str(bin_dir))
    rng = np.random.default_rng(3)
    geno = ld_genotypes(80, 4, 6, rng)
    bim, fam = default_tables(80, len(geno), n_chrom=1, spacing=2_000)
    write_fileset(tmp_path / "g", geno, bim, fam)
    harmonised = bim[["ID", "CHR", "BP", "A1", "A2"]].rename(columns={"ID": "SNP"})
    harmonised["BETA"], harmonised["SE"] = 0.1, 0.05
    harmonised["P"] = 10 ** -rng.uniform(0, 4, len(bim))
    clumped = clump_sumstats(
        str(tmp_path / "g"), harmonised, tmp_path / "work", tmp_path / "logs", p_threshold=0.05
    )
    assert 0 < len(clumped) <= 4  # at most one index SNP per LD block
    log = next((tmp_path / "logs").glob("*clump*.log")).read_text()
    assert "PLINK v1.9" in log
