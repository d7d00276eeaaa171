"""Calibration of the report's link p-values on null cohorts with real NeuroPathX training.

Each seed simulates a cohort whose labels are independent of genetics and imaging, trains a
small NeuroPathX on every fold of ``--repeats`` x ``--folds`` stratified CV, and runs the
report's permutation test on the stacked test-subject attention: estimates from every
repeat, p-values from the first repeat's fold-centred test attention (one row and one
permutation per subject); with repeats also the replaced pooled design (``*_pooled``: the
subjects' attention averaged over the repeats, then permuted), to show why it was replaced.
Printed: per seed the share of links with p < 0.05; last line one JSON object with
``links`` (per seed), ``fpr_p05`` (share of null links with p < 0.05, pooled over seeds),
``fwer_maxT`` (share of seeds with any max-T-adjusted p < 0.05), the same for the
pair-specific contrast, ``fwer_margin`` (95 % binomial margin of a 0.05 rate over that many
seeds) and ``seconds``.

    python bench/null_calibration.py --subjects 200 --repeats 10 --folds 5 --seeds 40
"""

from __future__ import annotations

import argparse
import json
import time

from neuropathx.reporting.calibration import (
    cv_attention,
    null_cohort,
    null_pvalues,
    summarise_null,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--pathways", type=int, default=12)
    parser.add_argument("--regions", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--permutations", type=int, default=1000)
    parser.add_argument("--ensemble", type=int, default=1, help="seeds per fold (training.seeds)")
    args = parser.parse_args()
    start = time.perf_counter()
    runs = []
    for seed in range(args.seeds):
        cohort = null_cohort(args.subjects, args.pathways, args.regions, seed)
        stack = cv_attention(
            cohort, args.repeats, args.folds, seed, {"epochs": args.epochs, "seeds": args.ensemble}
        )
        runs.append(null_pvalues(stack, args.permutations, seed))
        print(
            f"seed {seed}: "
            + ", ".join(
                f"{key} share p<0.05 {(p < 0.05).mean():.3f} min p_maxT {p_max.min():.3f}"
                for key, (p, p_max) in runs[-1].items()
            ),
            flush=True,
        )
    result = {
        "subjects": args.subjects,
        "repeats": args.repeats,
        "folds": args.folds,
        "seeds": args.seeds,
        "ensemble": args.ensemble,
        "design": "first_repeat",
        "links": args.pathways * args.regions,
        **summarise_null(runs),
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
