"""Make this checkout's neuropathx package importable in script jobs (also in conda envs).

Snakemake puts this folder on sys.path for every script; importing this module first puts
the repository root in front, so the workflow always runs its own library version. It then
pins the CPU code paths of PyTorch, MKL and OpenBLAS (``neuropathx.cpu_dispatch``) before any
script imports numpy or torch, in every job, local or on Slurm, the same way.
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from neuropathx.cpu_dispatch import pin_cpu_dispatch  # noqa: E402 (needs the path above)

pin_cpu_dispatch()
