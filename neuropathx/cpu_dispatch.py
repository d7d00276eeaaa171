"""Pin PyTorch's CPU dispatch so that training gives the same bits on every x86-64 machine.

PyTorch picks its vectorised CPU kernels (reductions, batch norm, element-wise maths) by
the instruction set it finds at import, and their results differ in the last bits between
``default``, ``avx2`` and ``avx512``; MKL's matrix products pick code paths the same way,
and so does numpy's OpenBLAS (the adjustment's diagnostics, the population PCA).
:func:`pin_cpu_dispatch` sets ``ATEN_CPU_CAPABILITY``, ``MKL_CBWR`` (MKL's conditional
numerical reproducibility) and ``OPENBLAS_CORETYPE`` before torch and numpy are imported; a
value already in the environment is kept, so a user can choose another pin for a whole
cluster. Importing this module imports neither. ``workflow_scripts/_neuropathx_path.py``
calls it first thing in every script job (local and Slurm alike: the job sets it itself),
``workflow_scripts/_pinned_cpu.py`` once more in the jobs that run a model.
"""

from __future__ import annotations

import os
import sys

# "default" is the one capability every x86-64 CPU has; see README "Reproducibility" for its
# cost (bench/reproducibility.py measures the epoch under each capability).
ATEN_CAPABILITY = "default"
MKL_BRANCH = "COMPATIBLE"  # MKL's code path that gives the same results on every x86-64 CPU
# OpenBLAS kernels of the AVX2 + FMA generation: the level the C kernels are built for by
# default (x86-64-v3); a CPU without AVX2 would not run them, so it gets the SSE4.2 ones
# (x86-64-v2), and its BLAS results then differ in the last bits (README "Reproducibility").
BLAS_CORETYPE, BLAS_CORETYPE_V2 = "Haswell", "Nehalem"
PINNED = {
    "ATEN_CPU_CAPABILITY": ATEN_CAPABILITY,
    "MKL_CBWR": MKL_BRANCH,
    "OPENBLAS_CORETYPE": BLAS_CORETYPE,
}


def blas_coretype(cpu_flags: set[str] | None = None) -> str:
    """The OpenBLAS core type to pin: :data:`BLAS_CORETYPE` where the CPU has AVX2 and FMA
    (``/proc/cpuinfo`` flags, or ``cpu_flags``), else :data:`BLAS_CORETYPE_V2`; on a machine
    without ``/proc/cpuinfo`` flags (not Linux x86), :data:`BLAS_CORETYPE`, which OpenBLAS
    builds for other architectures ignore."""
    if cpu_flags is None:
        try:
            lines = open("/proc/cpuinfo").read().splitlines()  # noqa: SIM115, PTH123
        except OSError:
            return BLAS_CORETYPE
        cpu_flags = {
            f for ln in lines if ln.startswith("flags") for f in ln.split(":", 1)[1].split()
        }
        if not cpu_flags:
            return BLAS_CORETYPE
    return BLAS_CORETYPE if {"avx2", "fma"} <= cpu_flags else BLAS_CORETYPE_V2


def pin_cpu_dispatch(environ: dict | None = None) -> dict[str, str]:
    """Set the pins in ``environ`` (default ``os.environ``) unless already set; return them.

    Raises RuntimeError when torch or numpy is already imported into this process (the pins
    would then silently not apply)."""
    env = os.environ if environ is None else environ
    loaded = [name for name in ("torch", "numpy") if name in sys.modules]
    if environ is None and loaded:
        raise RuntimeError(
            f"pin_cpu_dispatch() must run before torch and numpy are imported ({loaded[0]} "
            "is): import workflow_scripts/_neuropathx_path.py first"
        )
    for name, value in PINNED.items():
        env.setdefault(name, blas_coretype() if name == "OPENBLAS_CORETYPE" else value)
    return {name: env[name] for name in PINNED}
