"""Train one fold under several CPU builds and compare the bits (bench/reproducibility.py).

Each configuration is a kernel instruction-set level (``NEUROPATHX_KERNEL_ISA``), a PyTorch
CPU capability (``ATEN_CPU_CAPABILITY``) and a backend (native C kernels or eager PyTorch).
Both variables only take effect before torch is imported, so every configuration trains in
its own Python process (``python -m neuropathx.reproducibility``), which writes the
fold's test probabilities and attention to an .npz file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from neuropathx.cpu_dispatch import ATEN_CAPABILITY, PINNED

MEASURES = ["GrayVol", "SurfArea", "ThickAvg", "ThickStd"]
CAPABILITIES = ("default", "avx2", "avx512")
_CAPABILITY_FLAGS = {"default": (), "avx2": ("avx2", "fma"), "avx512": ("avx512f", "avx512bw")}


@dataclass(frozen=True)
class CheckFold:
    """Size of the synthetic fold and of its training run."""

    n: int = 400
    pathways: int = 30
    regions: int = 68
    epochs: int = 20
    seed: int = 3


def available_capabilities() -> list[str]:
    """ATEN_CPU_CAPABILITY values this CPU can run (from /proc/cpuinfo)."""
    from neuropathx.models.native_kernel import _cpu_flags

    flags = _cpu_flags()
    return [c for c in CAPABILITIES if flags.issuperset(_CAPABILITY_FLAGS[c])]


def check_cohort(fold: CheckFold):
    """A synthetic cohort with a planted signal and its train/val/test roles (70/15/15)."""
    from neuropathx.cohort import CohortArrays

    rng = np.random.default_rng(fold.seed)
    labels = rng.permutation(np.arange(fold.n) % 2)
    genetics = rng.normal(size=(fold.n, fold.pathways))
    imaging = rng.normal(size=(fold.n, fold.regions, len(MEASURES)))
    genetics[:, 0] += 0.8 * labels
    imaging[:, 1, 2] += 0.8 * labels
    cohort = CohortArrays(
        np.array([f"sub-{i:04d}" for i in range(fold.n)]),
        labels,
        genetics,
        [f"pathway{i}" for i in range(fold.pathways)],
        imaging,
        [f"region{i}" for i in range(fold.regions)],
        list(MEASURES),
    )
    roles = np.array(["train", "val", "test"])[
        np.searchsorted([0.7, 0.85], np.arange(fold.n) / fold.n, side="right")
    ]
    return cohort, roles


def train_check_fold(fold: CheckFold, kernel: str) -> dict[str, np.ndarray]:
    """Train the check fold in this process; test probabilities, attention, best epoch."""
    from neuropathx.training.loop import train_fold

    cohort, roles = check_cohort(fold)
    # patience beyond the epochs: every run trains all epochs, so a rounding difference
    # shows in the outputs instead of only in the stopping epoch
    params = {"epochs": fold.epochs, "patience": fold.epochs + 1, "min_epochs": 1}
    result = train_fold(cohort, roles, params, seed=fold.seed, device="cpu", kernel=kernel)
    test = result.predictions[result.predictions["split"] == "test"]
    return {
        "probability": test["probability"].to_numpy(),
        "attention": result.attention,
        "best_epoch": np.array(result.metrics["best_epoch"]),
    }


def run_configuration(
    fold: CheckFold, level: str, capability: str, kernel: str, out: Path
) -> dict[str, np.ndarray]:
    """Train the check fold in a fresh process with the given pins; its outputs."""
    env = dict(os.environ, NEUROPATHX_KERNEL_ISA=level, ATEN_CPU_CAPABILITY=capability)
    env.setdefault("MKL_CBWR", PINNED["MKL_CBWR"])
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1])] + sys.path)
    command = [sys.executable, "-m", "neuropathx.reproducibility", "--worker", str(out)]
    command += ["--kernel", kernel, "--fold", json.dumps(asdict(fold))]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"training under {level}/{capability}/{kernel} failed:\n{done.stderr[-2000:]}"
        )
    with np.load(out) as data:
        return {k: data[k] for k in data.files}


def identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    """Same bits in every output array."""
    return a.keys() == b.keys() and all(
        a[k].shape == b[k].shape and a[k].tobytes() == b[k].tobytes() for k in a
    )


def max_abs_diff(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    """Largest absolute difference of the probabilities and attention."""
    return max(
        float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64))))
        for k in ("probability", "attention")
    )


def compare_builds(
    fold: CheckFold, workdir: Path, levels: list[str], capabilities: list[str] | None = None
) -> dict:
    """Train under every kernel level with native kernels and once with eager PyTorch, all
    with the pinned PyTorch capability (``cpu_dispatch``); with ``capabilities``, also eager
    under each of those (unpinned: shows what the pin is for). The figures of
    bench/reproducibility.py."""
    workdir.mkdir(parents=True, exist_ok=True)
    pin = os.environ.get("ATEN_CPU_CAPABILITY", ATEN_CAPABILITY)
    native = {
        lv: run_configuration(fold, lv, pin, "native", workdir / f"native-{lv}.npz")
        for lv in levels
    }
    eager = run_configuration(fold, levels[0], pin, "eager", workdir / "eager.npz")
    first = native[levels[0]]
    figures = {
        "identical_across_isa": all(identical(first, out) for out in native.values()),
        "max_abs_diff_native_vs_eager": max_abs_diff(first, eager),
        "max_abs_diff_across_isa": max(max_abs_diff(first, out) for out in native.values()),
        "best_epoch_native": int(first["best_epoch"]),
        "best_epoch_eager": int(eager["best_epoch"]),
        "levels": levels,
        "aten_cpu_capability": pin,
    }
    if capabilities:
        unpinned = {
            cap: run_configuration(fold, levels[0], cap, "eager", workdir / f"eager-{cap}.npz")
            for cap in capabilities
        }
        base = unpinned[capabilities[0]]
        figures["unpinned_capabilities"] = capabilities
        figures["eager_identical_across_capabilities"] = all(
            identical(base, out) for out in unpinned.values()
        )
        figures["eager_max_abs_diff_across_capabilities"] = max(
            max_abs_diff(base, out) for out in unpinned.values()
        )
    return figures


def _worker() -> None:
    ap = argparse.ArgumentParser(description="train the check fold, write its outputs")
    ap.add_argument("--worker", type=Path, required=True)
    ap.add_argument("--kernel", default="native")
    ap.add_argument("--fold", default="{}")
    args = ap.parse_args()
    outputs = train_check_fold(CheckFold(**json.loads(args.fold)), args.kernel)
    with open(args.worker, "wb") as fh:
        np.savez(fh, **outputs)


if __name__ == "__main__":
    _worker()
