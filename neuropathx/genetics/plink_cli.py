"""Run the plink2 / plink1.9 binaries: one call per step, logs kept, failures explained.

PLINK 1.9 has two names: Debian's package installs ``plink1.9``, bioconda's ``plink`` package
(what ``snakemake --use-conda`` brings) installs ``plink``. ``find_plink`` walks PATH in order
and takes the first folder holding either name, so an activated conda env's PLINK wins over
a system one, as it does for every other tool.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

PLINK2 = "plink2"
PLINK1 = "plink1.9"
# logical tool -> executable names tried in each PATH folder, and the --version prefix
PLINK_NAMES = {PLINK2: ("plink2",), PLINK1: ("plink1.9", "plink")}
PLINK_VERSION_PREFIX = {PLINK2: "PLINK v2.", PLINK1: "PLINK v1.9"}
HOW_TO_GET_PLINK = (
    "install it: on Debian/Ubuntu `sudo apt-get install plink2 plink1.9` (or `make plink` as "
    "root); with conda the bioconda packages `plink2` and `plink` (envs/genetics.yaml; "
    "`snakemake --use-conda` creates that env); or download from "
    "https://www.cog-genomics.org/plink/ and put plink2 and plink1.9 (or plink) on PATH"
)


class PlinkError(RuntimeError):
    """A plink call failed; the message holds the command and the tail of plink's log."""


class PlinkNotFoundError(PlinkError):
    """A PLINK binary is missing from PATH (or is not the expected PLINK version)."""


@dataclass(frozen=True)
class PlinkTool:
    """One resolved PLINK binary: the logical tool, the executable and its --version line."""

    tool: str
    path: str
    version: str


def _executables(names: tuple[str, ...], search_path: str | None) -> list[str]:
    found = []
    for folder in (search_path if search_path is not None else os.environ.get("PATH", "")).split(
        os.pathsep
    ):
        for name in names:
            candidate = Path(folder or ".") / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                found.append(str(candidate))
    return found


def find_plink(tool: str, search_path: str | None = None) -> str:
    """Path of the first executable on PATH for ``tool`` (PLINK2 or PLINK1, any of its names)."""
    names = PLINK_NAMES.get(tool, (tool,))
    found = _executables(names, search_path)
    if not found:
        raise PlinkNotFoundError(
            f"{tool} not found on PATH (looked for {' or '.join(names)}); {HOW_TO_GET_PLINK}"
        )
    return found[0]


def plink_version(tool: str, exe: str) -> str:
    """The first line of ``exe --version``; PlinkNotFoundError unless it is the right PLINK."""
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True)
    line = next(iter((proc.stdout or proc.stderr).strip().splitlines()), "")
    prefix = PLINK_VERSION_PREFIX.get(tool)
    if prefix and not line.startswith(prefix):
        raise PlinkNotFoundError(
            f"{exe} is not {tool}: `{exe} --version` printed {line!r}, not a line starting "
            f"{prefix!r}; {HOW_TO_GET_PLINK}"
        )
    return line


def check_plink_tools(
    tools: tuple[str, ...] = (PLINK2, PLINK1), search_path: str | None = None
) -> list[PlinkTool]:
    """Resolve and version-check every PLINK the stage needs; one error names all missing."""
    resolved, problems = [], []
    for tool in tools:
        try:
            exe = find_plink(tool, search_path)
            resolved.append(PlinkTool(tool, exe, plink_version(tool, exe)))
        except PlinkNotFoundError as err:
            problems.append(str(err).split("; ")[0])
    if problems:
        raise PlinkNotFoundError("; ".join(problems) + f". {HOW_TO_GET_PLINK}")
    return resolved


def _tail(text: str, n_lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-n_lines:])


def run_plink(
    args: list[str],
    out: str | Path,
    log_dir: str | Path,
    *,
    binary: str = PLINK2,
    threads: int = 1,
    memory_mb: int | None = None,
) -> Path:
    """Run ``binary args --out out``; copy ``out.log`` into ``log_dir``; return ``out``.

    Raises PlinkError (with the tail of plink's log) when plink exits non-zero.
    """
    exe = find_plink(binary)
    out = Path(out)
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    cmd = [exe, *args, "--threads", str(threads), "--out", str(out)]
    if memory_mb is not None:
        cmd += ["--memory", str(memory_mb)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log = Path(f"{out}.log")
    log_text = log.read_text() if log.exists() else proc.stdout + proc.stderr
    (log_dir / f"{out.name}.log").write_text(log_text)
    if proc.returncode != 0:
        raise PlinkError(
            f"{binary} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"--- end of log ({log_dir / (out.name + '.log')}) ---\n{_tail(log_text)}"
        )
    return out


def read_id_list(path: str | Path) -> list[str]:
    """IDs in the last column of a plink ID list (.snplist, .id with or without header)."""
    path = Path(path)
    if not path.exists():
        return []
    ids = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        ids.append(line.split()[-1])
    return ids
