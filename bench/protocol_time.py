"""Wall time of the paper's full protocol in replication mode, extrapolated from short runs.

The protocol: every neural model of the comparison (NeuroPathX, its two ablations, G-MIND,
SurvPATH) with the settings of config/replication.yaml (10 x 10-fold CV, 1300 epochs, no
early stopping) on a cohort of the demo's size. Each model trains one fold twice through
``train_fold`` (the code a training job runs), for ``--short`` and ``--long`` epochs; the
difference gives seconds per epoch, the rest the fixed cost of a fold (preparation and the
final predictions). Times are CPU seconds of the process (one thread per job), so that a
machine shared with other work does not inflate them; wall seconds here are printed too.
A job's time = process start (imports, measured in a subprocess) +
fixed + epochs x per-epoch time. Jobs run on one core each, so:

* ``cpu_hours`` = the sum over jobs;
* ``wall_hours_2_cores`` = the jobs packed on 2 cores (longest first onto the freer core);
* ``wall_hours_slurm`` = the same on ``--nodes`` x ``--jobs-per-node`` slots, Snakemake's
  scheduling overhead not counted.

The machine this runs on may be shared: the 1-minute load average is printed; a loaded CPU
inflates every figure. Last stdout line: one JSON object.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from neuropathx.cohort import CohortArrays
from neuropathx.training import train_fold

ROOT = Path(__file__).resolve().parents[1]
MEASURES = ["GrayVol", "SurfArea", "ThickAvg", "ThickStd"]
EXECUTION_KEYS = ("device", "threads", "gpus", "kernel")


def protocol_config(path: Path) -> dict:
    """config/config.yaml with the replication overrides (one level deep, like Snakemake)."""
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    for key, value in yaml.safe_load(path.read_text()).items():
        config[key] = {**config[key], **value} if isinstance(value, dict) else value
    return config


def variant_params(config: dict, name: str) -> dict:
    """The parameter dict a training job of variant ``name`` receives (rules/common.smk)."""
    variant = config["models"][name]
    neuropathx = variant.get("architecture", "neuropathx") == "neuropathx"
    params = dict(config["model"]) if neuropathx else {}
    params.update({k: v for k, v in config["training"].items() if k not in EXECUTION_KEYS})
    params.update(variant)
    return params


def demo_sized_cohort(n: int, n_pathways: int, n_regions: int, folds: int) -> tuple:
    """Synthetic cohort of the demo's shape and the roles of one fold (test 1/folds,
    validation 1/8 of the rest, as the cohort stage splits)."""
    rng = np.random.default_rng(0)
    labels = rng.permutation(np.arange(n) % 2)
    cohort = CohortArrays(
        np.array([f"sub-{i:04d}" for i in range(n)]),
        labels,
        rng.normal(size=(n, n_pathways)) * 2 + 0.3 * labels[:, None],
        [f"pathway{i}" for i in range(n_pathways)],
        rng.normal(size=(n, n_regions, len(MEASURES))),
        [f"region{i}" for i in range(n_regions)],
        list(MEASURES),
    )
    n_test = n // folds
    n_val = (n - n_test) // 8
    roles = np.array(["test"] * n_test + ["val"] * n_val + ["train"] * (n - n_test - n_val))
    return cohort, rng.permutation(roles)


def time_fold(cohort, roles, params: dict, epochs: int, trials: int) -> tuple[float, float]:
    """CPU and wall seconds (least of ``trials``) to train one fold for exactly ``epochs``
    epochs. CPU time is what a job costs on an idle core; wall time on a shared machine
    also holds the waits for a core."""
    short = {**params, "epochs": epochs, "patience": epochs, "min_epochs": epochs}
    cpu, wall = [], []
    for _ in range(trials):
        start, cpu_start = time.perf_counter(), time.process_time()
        train_fold(cohort, roles, short, seed=0, device="cpu", threads=1)
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - start)
    return min(cpu), min(wall)


def startup_seconds() -> float:
    """CPU seconds of a training job's process start: Python, torch and the library."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    code = "import torch, neuropathx.training, neuropathx.cohort"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def packed_wall(job_seconds: list[float], slots: int) -> float:
    """Makespan of the jobs on ``slots`` identical slots, longest first to the freest slot."""
    loads = [0.0] * slots
    heapq.heapify(loads)
    for t in sorted(job_seconds, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + t)
    return max(loads)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", type=Path, default=ROOT / "config/replication.yaml")
    ap.add_argument("--n", type=int, default=600, help="subjects (demo.n_subjects)")
    ap.add_argument("--pathways", type=int, default=40, help="scored pathways (demo: <= 40)")
    ap.add_argument("--rois", type=int, default=68, help="regions (aparc: 68)")
    ap.add_argument("--short", type=int, default=2, help="epochs of the first timing run")
    ap.add_argument("--long", type=int, default=6, help="epochs of the second timing run")
    ap.add_argument("--trials", type=int, default=2, help="timing runs per length (least kept)")
    ap.add_argument("--nodes", type=int, default=10, help="Slurm nodes")
    ap.add_argument("--jobs-per-node", type=int, default=1, help="training jobs per node")
    args = ap.parse_args()

    config = protocol_config(args.config)
    repeats, folds = config["cv"]["repeats"], config["cv"]["folds"]
    epochs = config["training"]["epochs"]
    cohort, roles = demo_sized_cohort(args.n, args.pathways, args.rois, folds)
    startup = startup_seconds()
    print(f"job start-up (imports): {startup:.2f} CPU s; load average {os.getloadavg()[0]:.2f}")
    per_model, job_seconds = {}, []
    for name in config["models"]:
        params = variant_params(config, name)
        time_fold(cohort, roles, params, 1, 1)  # warm-up: kernel build, first-call costs
        cpu_short, wall_short = time_fold(cohort, roles, params, args.short, args.trials)
        cpu_long, wall_long = time_fold(cohort, roles, params, args.long, args.trials)
        per_epoch = max(cpu_long - cpu_short, 0.0) / (args.long - args.short)
        wall_epoch = max(wall_long - wall_short, 0.0) / (args.long - args.short)
        fixed = max(cpu_short - args.short * per_epoch, 0.0)
        job = startup + fixed + epochs * per_epoch
        per_model[name] = {
            "cpu_s_per_epoch": per_epoch,
            "wall_s_per_epoch_shared": wall_epoch,
            "fixed_s": fixed,
            "job_s": job,
        }
        job_seconds += [job] * (repeats * folds)
        print(
            f"{name}: {per_epoch:.4f} CPU s/epoch ({wall_epoch:.4f} s wall here), fixed "
            f"{fixed:.2f} s, one {epochs}-epoch job {job / 60:.1f} min",
            flush=True,
        )
    cpu_hours = sum(job_seconds) / 3600
    result = {
        "jobs": len(job_seconds),
        "cpu_hours": cpu_hours,
        "wall_hours_2_cores": packed_wall(job_seconds, 2) / 3600,
        "wall_hours_slurm": packed_wall(job_seconds, args.nodes * args.jobs_per_node) / 3600,
        "nodes": args.nodes,
        "jobs_per_node": args.jobs_per_node,
        "epochs": epochs,
        "repeats": repeats,
        "folds": folds,
        "n": args.n,
        "pathways": args.pathways,
        "rois": args.rois,
        "startup_s": startup,
        "per_model": per_model,
        "load_avg_1min": os.getloadavg()[0],
        "note": "CPU seconds of short runs extrapolated linearly in epochs (= wall time on an "
        "idle core); linear baselines (seconds per fold) not counted",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
