"""Region identity on a planted coupling: the paper's NeuroPathX against ``neuropathx_region``.

Trains both through ``training.train_fold`` on the toy coupling of
``neuropathx.demo.coupling_toy`` (pathway-region pairs whose product, not either one,
differs between patients and controls) for each seed, and prints per seed and on average
the test AUC and the recovery of the planted pairs from the test subjects' attention
(AUROC of |patients - controls| of the planted pairs against the other pairs). Last stdout
line: one JSON object. About a minute on 2 free cores with the defaults:

    python bench/region_identity.py --seeds 3 --subjects 1000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neuropathx.demo.coupling_toy import compare_region_identity  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..S-1")
    ap.add_argument("--subjects", type=int, default=1000)
    ap.add_argument("--pathways", type=int, default=4)
    ap.add_argument("--regions", type=int, default=8)
    ap.add_argument("--kappa", type=float, default=0.8, help="coupling slope (SD units)")
    ap.add_argument("--region-dim", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--lr", type=float, default=0.01)
    args = ap.parse_args()
    pairs = ((0, 2, 2), (1, args.regions - 3, 2))
    params = {"epochs": args.epochs, "lr": args.lr, "batch_size": 64, "dropout": 0.0,
              "patience": args.epochs, "min_epochs": 1}  # fmt: skip
    start = time.perf_counter()
    rows = compare_region_identity(
        list(range(args.seeds)), args.region_dim, params, n=args.subjects,
        n_pathways=args.pathways, n_regions=args.regions, pairs=pairs, kappa=args.kappa,
    )  # fmt: skip
    print(f"{'seed':>4s} {'model':18s} {'AUC':>6s} {'pairs AUROC':>11s} {'epoch':>5s}")
    for r in rows:
        print(f"{r['seed']:4d} {r['model']:18s} {r['auc']:6.3f} {r['pairs_auroc']:11.3f} "
              f"{r['best_epoch']:5d}")  # fmt: skip
    summary = {}
    for model in ("neuropathx", "neuropathx_region"):
        mine = [r for r in rows if r["model"] == model]
        summary[model] = {
            f: {"mean": round(float(np.mean(v)), 4), "sd": round(float(np.std(v, ddof=1)), 4)}
            for f in ("auc", "pairs_auroc")
            for v in [[r[f] for r in mine]]
        }
        print(f"mean {model:18s} AUC {summary[model]['auc']['mean']:.3f} ± "
              f"{summary[model]['auc']['sd']:.3f}  pairs AUROC "
              f"{summary[model]['pairs_auroc']['mean']:.3f} ± "
              f"{summary[model]['pairs_auroc']['sd']:.3f}")  # fmt: skip
    margin = [b["auc"] - a["auc"] for a, b in zip(rows[::2], rows[1::2], strict=True)]
    print(json.dumps({
        "subjects": args.subjects, "pathways": args.pathways, "regions": args.regions,
        "pairs": [list(p) for p in pairs], "kappa": args.kappa, "region_dim": args.region_dim,
        "epochs": args.epochs, "seeds": args.seeds, "summary": summary,
        "auc_margin": [round(m, 4) for m in margin],
        "seconds": round(time.perf_counter() - start, 1), "runs": rows,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
