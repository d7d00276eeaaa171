"""Pin PyTorch's CPU dispatch so that training gives the same bits on every x86-64 machine.

PyTorch picks its vectorised CPU kernels (reductions, batch norm, element-wise maths) by
the instruction set it finds at import, and their results differ in the last bits between
``default``, ``avx2`` and ``avx512``; MKL's matrix products pick code paths the same way.
:func:`pin_cpu_dispatch` sets ``ATEN_CPU_CAPABILITY`` and ``MKL_CBWR`` (MKL's conditional
numerical reproducibility) before torch is imported; a value already in the environment is
kept, so a user can choose another pin for a whole cluster. Importing this module does not
import torch. ``workflow_scripts/_pinned_cpu.py`` calls it in every training job.
"""

from __future__ import annotations

import os
import sys

# "default" is the one capability every x86-64 CPU has; see README "Reproducibility" for its
# cost (bench/reproducibility.py measures the epoch under each capability).
ATEN_CAPABILITY = "default"
MKL_BRANCH = "COMPATIBLE"  # MKL's code path that gives the same results on every x86-64 CPU
PINNED = {"ATEN_CPU_CAPABILITY": ATEN_CAPABILITY, "MKL_CBWR": MKL_BRANCH}


def pin_cpu_dispatch(environ: dict | None = None) -> dict[str, str]:
    """Set the pins in ``environ`` (default ``os.environ``) unless already set; return them.

    Raises RuntimeError when torch is already imported into this process (the pins would
    then silently not apply)."""
    env = os.environ if environ is None else environ
    if environ is None and "torch" in sys.modules:
        raise RuntimeError(
            "pin_cpu_dispatch() must run before torch is imported (import "
            "workflow_scripts/_pinned_cpu.py right after _neuropathx_path)"
        )
    for name, value in PINNED.items():
        env.setdefault(name, value)
    return {name: env[name] for name in PINNED}


def dispatch_info() -> dict[str, str]:
    """What PyTorch's CPU dispatch runs as in this process (for metrics.json)."""
    import torch

    return {
        "aten_cpu_capability": str(torch.backends.cpu.get_cpu_capability()),
        "aten_cpu_capability_env": os.environ.get("ATEN_CPU_CAPABILITY", ""),
        "mkl_cbwr": os.environ.get("MKL_CBWR", ""),
    }
