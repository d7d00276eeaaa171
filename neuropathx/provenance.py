"""Resolved configuration and software versions, written beside the results."""

from __future__ import annotations

import importlib.metadata
import platform
from pathlib import Path

import pandas as pd
import yaml

from neuropathx.genetics.plink_cli import (
    PLINK1,
    PLINK2,
    PlinkNotFoundError,
    find_plink,
    plink_version,
)
from neuropathx.io import atomic_path, read_tsv, write_tsv

PACKAGES = (
    "neuropathx",
    "snakemake",
    "torch",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "matplotlib",
    "msprime",
    "nibabel",
    "nilearn",
    "gseapy",
)
BINARIES = (PLINK2, PLINK1)


def _binary_version(tool: str) -> str:
    try:
        return plink_version(tool, find_plink(tool))
    except PlinkNotFoundError:
        return "not found"


def software_versions(plink_versions: str | Path | None = None) -> pd.DataFrame:
    """Versions of Python, the pinned packages and PLINK.

    PLINK's rows come from ``plink_versions`` (the table the genotype stage writes with the
    binaries that ran, in its own env) when given, else from the binaries on PATH.
    """
    rows = [("python", platform.python_version())]
    for pkg in PACKAGES:
        try:
            rows.append((pkg, importlib.metadata.version(pkg)))
        except importlib.metadata.PackageNotFoundError:
            rows.append((pkg, "not installed"))
    if plink_versions is not None:
        ran = read_tsv(plink_versions, required=["software", "version"], dtype=str)
        rows += list(ran[["software", "version"]].itertuples(index=False, name=None))
    else:
        rows += [(b, _binary_version(b)) for b in BINARIES]
    return pd.DataFrame(rows, columns=["software", "version"])


def write_provenance(
    config: dict,
    config_path: str | Path,
    versions_path: str | Path,
    plink_versions: str | Path | None = None,
) -> None:
    """Write the resolved (validated, defaults filled) config and the software versions."""
    with atomic_path(config_path) as tmp:
        tmp.write_text(yaml.safe_dump(dict(config), sort_keys=False))
    write_tsv(software_versions(plink_versions), versions_path)
