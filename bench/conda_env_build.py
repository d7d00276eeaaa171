"""Benchmark: build the emulated conda envs of the tiny (CPU) run from scratch, as on a fresh CI.

Usage: python bench/conda_env_build.py [--cache DIR] [--workers 4]

Builds into an empty cache folder (a temporary one unless --cache is given), so it measures a
cold build; pip's own download cache is whatever the machine has. Prints the seconds per env
(each built in parallel with the others) and, last, a JSON object with ``envs``,
``build_seconds`` (wall time for all of them) and ``megabytes`` (their size on disk).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conda_emulation import build_env  # noqa: E402
from test_conda_envs import _cpu_envs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    from concurrent.futures import ThreadPoolExecutor

    with tempfile.TemporaryDirectory(prefix="neuropathx-envs-") as tmp:
        root = args.cache or Path(tmp)
        envs = _cpu_envs()

        def timed(env):
            start = time.perf_counter()
            build_env(env, root)
            return env.name, round(time.perf_counter() - start, 1)

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            for name, seconds in pool.map(timed, envs):
                print(f"{name}: {seconds} s", flush=True)
        total = round(time.perf_counter() - start, 1)
        size = subprocess.run(["du", "-sm", str(root)], capture_output=True, text=True)
        megabytes = int(size.stdout.split()[0])
        print(json.dumps({"envs": len(envs), "build_seconds": total, "megabytes": megabytes}))


if __name__ == "__main__":
    main()
