"""Same bits on every x86-64 machine? Train one fold under every kernel ISA level this CPU
can run, with native kernels and with eager PyTorch (neuropathx.reproducibility).

Every configuration trains in its own process, the kernels built for that level
(``NEUROPATHX_KERNEL_ISA``) and PyTorch's CPU capability pinned (``ATEN_CPU_CAPABILITY``,
neuropathx.cpu_dispatch). ``identical_across_isa``: test probabilities and attention have
the same bits for every level. ``max_abs_diff_native_vs_eager``: the C kernels against
PyTorch after the whole training (rounding differences grow over epochs). With
``--unpinned`` it also trains eager PyTorch under each ATEN capability the CPU has, which
shows why the pin is needed. Last stdout line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from neuropathx.models.native_kernel import available_levels, cpu_model
from neuropathx.reproducibility import CheckFold, available_capabilities, compare_builds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--pathways", type=int, default=30)
    ap.add_argument("--rois", type=int, default=68)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--unpinned", action="store_true", help="also eager under each capability")
    args = ap.parse_args()
    fold = CheckFold(n=args.n, pathways=args.pathways, regions=args.rois, epochs=args.epochs)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="neuropathx-repro-") as work:
        capabilities = available_capabilities() if args.unpinned else None
        figures = compare_builds(fold, Path(work), available_levels(), capabilities)
    figures.update(
        {
            "cpu_model": cpu_model(),
            "n": args.n,
            "pathways": args.pathways,
            "rois": args.rois,
            "epochs": args.epochs,
            "wall_s": round(time.perf_counter() - start, 1),
        }
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
