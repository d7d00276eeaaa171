"""How much of a result is the seed? Figures from a workflow run with a large seed ensemble.

Run the workflow with ``training.seeds: K`` (e.g. 10), then point this script at its
results: for ensembles of 1, 2, ... members (disjoint groups of the K members, so
independent of each other) it prints the SD of each fold's test AUC across independent
ensembles (mean over folds) and the Jaccard overlap of the top-k links (ranked as the report
ranks them, over the test subjects of all folds) between two independent ensembles; and the
fold AUC SD across the first ``--spread-seeds`` single seeds. Last stdout line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from neuropathx.reporting.seed_stability import ensemble_size_spread


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--results", type=Path, default=Path("results"))
    ap.add_argument("--model", default="neuropathx")
    ap.add_argument("--top-k", type=int, default=20)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 3, 5])
    ap.add_argument("--spread-seeds", type=int, default=5)
    args = ap.parse_args()
    files = sorted((args.results / "train" / args.model).glob("repeat*/fold*/attention.npz"))
    if not files:
        raise SystemExit(f"no attention.npz under {args.results / 'train' / args.model}")
    sizes = [ensemble_size_spread(files, size, args.top_k) for size in args.sizes]
    for row in sizes:
        print(row)
    spread = []
    for path in files:
        metrics = json.loads(path.with_name("metrics.json").read_text())
        aucs = metrics["seeds"]["auc"][: args.spread_seeds]
        spread.append({"fold": path.parent.name, "auc_seeds": aucs, "auc_ensemble": metrics["auc"]})
        print(spread[-1])
    with np.load(files[0]) as data:
        n_members = len(data["seeds"])
    print(
        json.dumps(
            {
                "model": args.model,
                "folds": len(files),
                "members": n_members,
                "top_k": args.top_k,
                f"fold_auc_sd_across_{args.spread_seeds}_seeds": float(
                    np.mean([np.std(s["auc_seeds"], ddof=1) for s in spread])
                ),
                "by_ensemble_size": sizes,
            }
        )
    )


if __name__ == "__main__":
    main()
