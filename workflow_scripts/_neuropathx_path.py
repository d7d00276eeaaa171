"""Make this checkout's neuropathx package importable in script jobs (also in conda envs).

Snakemake puts this folder on sys.path for every script; importing this module first puts
the repository root in front, so the workflow always runs its own library version.
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
