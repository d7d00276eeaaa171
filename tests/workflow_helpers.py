"""Run the workflow in a scratch copy of the repository (used by workflow and cluster tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_PARTS = (
    "Snakefile",
    "rules",
    "envs",
    "workflow_scripts",
    "config",
    "schemas",
    "report",
    "profiles",
    "neuropathx",
)


def copy_workflow(dest: Path) -> Path:
    """Copy the workflow (not results/ or .snakemake/) into ``dest`` and return it; over an
    earlier copy (a bench run resumed after an interruption), its files are refreshed and
    its results kept."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in WORKFLOW_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dest / part)
    return dest


def snakemake_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("snakemake")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]


def run_snakemake(workdir: Path, *args: str, timeout: int = 1500) -> subprocess.CompletedProcess:
    """Run snakemake in ``workdir``; the result carries stdout+stderr in ``.stdout``."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [*snakemake_cmd(), *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
