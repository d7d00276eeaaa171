"""Run the plink2 / plink1.9 binaries: one call per step, logs kept, failures explained."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PLINK2 = "plink2"
PLINK1 = "plink1.9"


class PlinkError(RuntimeError):
    """A plink call failed; the message holds the command and the tail of plink's log."""


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
    exe = shutil.which(binary)
    if exe is None:
        raise PlinkError(f"{binary} not found on PATH")
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
