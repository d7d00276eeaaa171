"""Benchmark: parse N synthetic subjects' lh/rh aparc stats (FreeSurfer 7 layout, 34 parcels).

Usage: python bench/parse_freesurfer.py --subjects 5000 [--threads 2]

Writes the files into a temporary SUBJECTS_DIR, then times the stage's own code:
``load_subjects`` + ``build_regional_table`` (parse + checks + table), and the whole
``build_imaging_features`` (adds QC and writing every output). The last stdout line is a
JSON object with ``subjects``, ``files``, ``seconds`` (parse + table) and the other figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from neuropathx.imaging.regional_table import build_regional_table
from neuropathx.imaging.stage import DEFAULT_SETTINGS, build_imaging_features
from neuropathx.imaging.subjects import load_subjects
from neuropathx.imaging.synthetic import random_parc_values, write_subject_stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench_fs_") as tmp:
        root = Path(tmp)
        fs = root / "subjects"
        ids = [f"sub-{i:05d}" for i in range(args.subjects)]
        t0 = time.perf_counter()
        for s in ids:
            write_subject_stats(fs, s, {h: random_parc_values(rng, 34) for h in ("lh", "rh")})
        write_s = time.perf_counter() - t0
        participants = root / "participants.tsv"
        participants.write_text("participant_id\n" + "\n".join(ids) + "\n")
        measures = tuple(DEFAULT_SETTINGS["measures"])

        t0 = time.perf_counter()
        loaded = load_subjects(fs, ids, "aparc", measures, threads=args.threads)
        parse_s = time.perf_counter() - t0
        table = build_regional_table(loaded, list(measures))
        table_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        build_imaging_features(
            str(fs), str(participants), str(root / "out"), settings={}, threads=args.threads
        )
        stage_s = time.perf_counter() - t0

    files = 2 * args.subjects
    print(f"wrote {files} stats files in {write_s:.2f} s")
    print(f"parsed {files} files with {args.threads} worker(s) in {parse_s:.2f} s "
          f"({files / parse_s:,.0f} files/s)")  # fmt: skip
    print(f"parse + checks + table ({table.features.shape[1] - 1} columns): {table_s:.2f} s")
    print(f"whole stage (parse, table, QC, aparcstats2table, writes): {stage_s:.2f} s")
    result = {
        "subjects": args.subjects,
        "files": files,
        "seconds": round(table_s, 3),
        "parse_seconds": round(parse_s, 3),
        "stage_seconds": round(stage_s, 3),
        "threads": args.threads,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
