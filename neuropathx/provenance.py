"""Resolved configuration and software versions, written beside the results."""

from __future__ import annotations

import importlib.metadata
import platform
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import yaml

from neuropathx.io import atomic_path, write_tsv

PACKAGES = (
    "neuropathx",
    "snakemake",
    "torch",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "matplotlib",
    "pandas-plink-ng",
    "msprime",
    "nibabel",
    "nilearn",
    "gseapy",
)
BINARIES = ("plink2", "plink1.9")


def _binary_version(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        return "not found"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return (
        (out.stdout or out.stderr).strip().splitlines()[0]
        if (out.stdout or out.stderr)
        else "unknown"
    )


def software_versions() -> pd.DataFrame:
    """Versions of Python, the pinned packages and the PLINK binaries on PATH."""
    rows = [("python", platform.python_version())]
    for pkg in PACKAGES:
        try:
            rows.append((pkg, importlib.metadata.version(pkg)))
        except importlib.metadata.PackageNotFoundError:
            rows.append((pkg, "not installed"))
    rows += [(b, _binary_version(b)) for b in BINARIES]
    return pd.DataFrame(rows, columns=["software", "version"])


def write_provenance(config: dict, config_path: str | Path, versions_path: str | Path) -> None:
    """Write the resolved (validated, defaults filled) config and the software versions."""
    with atomic_path(config_path) as tmp:
        tmp.write_text(yaml.safe_dump(dict(config), sort_keys=False))
    write_tsv(software_versions(), versions_path)
