"""The demo scenarios through the real workflow: model AUCs, pair recovery, null calibration.

For each scenario x seed, a scratch copy of the workflow runs ``snakemake`` with a config
override (``seed``, ``demo.scenario``, ``demo.n_subjects`` and any ``--set key=value``),
then the run's tables are read:

- ``results/evaluate/fold_metrics.tsv`` (model, repeat, fold, auc, ...): a model's AUC in
  one run is its mean over folds;
- ``results/report/truth_check.tsv`` (ranking, against, auroc, auprc, precision_at_k, k):
  recovery of the planted pairs, against all links or against decoys, per ranking
  (``<model>_raw``, ``<model>_pair``, ``univariate_product``, ``elastic_net_interaction``);
- ``results/report/links_all.tsv`` (pathway, region, contrast, effect, p, p_maxT, q_bh,
  called): on ``null`` the share of links called, the share of runs calling any link (the
  family-wise error rate the max-T call controls at ``report.alpha``) and the share of
  links with p < 0.05 (nominal 0.05), per contrast.

Over seeds each figure is given as mean +- SD. Prints one table, then (last line) one JSON
object. ``--dry-run`` prints the runs and their overrides; ``--collect`` only reads runs
already in ``--workdir`` (``<scenario>-seed<k>/``); ``--resume`` reruns only those not
finished there with the same override.

    python bench/scenarios.py --scenarios null coupling --seeds 5 --subjects 600
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = ("null", "additive", "coupling", "mixed")
FOLD_METRICS = "results/evaluate/fold_metrics.tsv"
TRUTH_CHECK = "results/report/truth_check.tsv"
LINKS_ALL = "results/report/links_all.tsv"
TRUTH_COLUMNS = ["ranking", "against", "auroc", "auprc", "precision_at_k", "k"]
LINK_COLUMNS = ["pathway", "region", "contrast", "effect", "p", "p_maxT", "q_bh", "called"]


class MissingOutput(RuntimeError):
    """A run lacks a table the benchmark reads."""


def parse_set(items: list[str]) -> dict:
    """``["demo.confounders.enabled=false", "cv.folds=5"]`` -> nested dict (YAML values)."""
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set expects key=value, got {item!r}")
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return out


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


def run_override(scenario: str, seed: int, subjects: int, extra: dict) -> dict:
    """The config override of one run (scenario quoted: YAML's bare null is None)."""
    return _merge({"seed": seed, "demo": {"scenario": scenario, "n_subjects": subjects}}, extra)


def _read(run_dir: Path, rel: str, columns: list[str]) -> pd.DataFrame:
    path = run_dir / rel
    if not path.is_file():
        raise MissingOutput(
            f"{path} is missing: the run did not write it (see {run_dir}/bench.log); "
            "truth_check.tsv and links_all.tsv come from the report stage (issue 13)"
        )
    table = pd.read_csv(path, sep="\t")
    lacking = [c for c in columns if c not in table.columns]
    if lacking:
        raise MissingOutput(f"{path} lacks column(s) {lacking}; expected {columns}")
    return table


def model_aucs(run_dir: Path) -> dict[str, float]:
    """Mean test AUC over folds per model of one run."""
    folds = _read(run_dir, FOLD_METRICS, ["model", "auc"])
    return folds.groupby("model")["auc"].mean().to_dict()


def truth_recovery(run_dir: Path) -> dict[str, dict[str, float]]:
    """``{"<ranking>/<against>": {auroc, auprc, precision_at_k}}`` of one run."""
    table = _read(run_dir, TRUTH_CHECK, TRUTH_COLUMNS)
    return {
        f"{r.ranking}/{r.against}": {
            "auroc": float(r.auroc),
            "auprc": float(r.auprc),
            "precision_at_k": float(r.precision_at_k),
            "k": int(r.k) if np.isfinite(r.k) else None,
        }
        for r in table.itertuples(index=False)
    }


def called_share(run_dir: Path) -> dict[str, dict[str, float]]:
    """Per contrast: share of links called and share with p < 0.05 (nominal 0.05)."""
    links = _read(run_dir, LINKS_ALL, LINK_COLUMNS)
    called = links["called"].astype(str).str.lower().isin(["true", "1"])
    out = {}
    for contrast, idx in links.groupby("contrast").groups.items():
        out[str(contrast)] = {
            "called": float(called[idx].mean()),
            "any_called": float(called[idx].any()),  # over seeds: the family-wise error rate
            "p_below_0.05": float((links.loc[idx, "p"] < 0.05).mean()),
            "links": len(idx),
        }
    return out


def collect_run(run_dir: Path, scenario: str, auc_only: bool = False) -> dict:
    """Every figure of one finished run (only the model AUCs with ``auc_only``)."""
    out = {"auc": model_aucs(run_dir)}
    if auc_only:
        return out
    if scenario != "null":
        out["recovery"] = truth_recovery(run_dir)
    else:
        out["called"] = called_share(run_dir)
    return out


def _mean_sd(values: list[float]) -> dict[str, float | None]:
    """Mean, SD and count of the finite values; None where undefined (strict JSON has no NaN).

    A figure that is NaN in a run (the AUROC of planted pairs on a scenario without any,
    e.g. ``additive``) does not count; with no finite value mean and sd are None.
    """
    s = pd.Series(values, dtype=float)
    s = s[np.isfinite(s)]
    mean = round(float(s.mean()), 4) if len(s) else None
    sd = round(float(s.std(ddof=1)), 4) if len(s) > 1 else None
    return {"mean": mean, "sd": sd, "n": len(s)}


def aggregate(runs: dict[str, list[dict]]) -> dict:
    """Mean +- SD over seeds of every figure, per scenario (``runs[scenario]`` = per seed)."""
    out: dict = {}
    for scenario, per_seed in runs.items():
        block: dict = {"auc": {}, "recovery": {}, "called": {}}
        models = sorted({m for r in per_seed for m in r["auc"]})
        for m in models:
            block["auc"][m] = _mean_sd([r["auc"][m] for r in per_seed if m in r["auc"]])
        keys = sorted({k for r in per_seed for k in r.get("recovery", {})})
        for k in keys:
            have = [r["recovery"][k] for r in per_seed if k in r.get("recovery", {})]
            block["recovery"][k] = {
                f: _mean_sd([h[f] for h in have]) for f in ("auroc", "auprc", "precision_at_k")
            }
            block["recovery"][k]["k"] = have[0]["k"]
        contrasts = sorted({c for r in per_seed for c in r.get("called", {})})
        for c in contrasts:
            have = [r["called"][c] for r in per_seed if c in r.get("called", {})]
            block["called"][c] = {
                f: _mean_sd([h[f] for h in have]) for f in ("called", "any_called", "p_below_0.05")
            }
        out[scenario] = {k: v for k, v in block.items() if v}
    return out


def format_table(summary: dict) -> str:
    """One line per figure: scenario, what, mean +- SD (n seeds)."""
    lines = [f"{'scenario':9s} {'figure':48s} {'mean':>7s} {'sd':>7s} {'n':>3s}"]

    def add(scenario: str, name: str, v: dict) -> None:
        mean = "n/a" if v["mean"] is None else f"{v['mean']:7.3f}"
        sd = "" if v["sd"] is None else f"{v['sd']:7.3f}"
        lines.append(f"{scenario:9s} {name:48s} {mean:>7s} {sd:>7s} {v['n']:3d}")

    for scenario, block in summary.items():
        for m, v in block.get("auc", {}).items():
            add(scenario, f"AUC {m}", v)
        for k, v in block.get("recovery", {}).items():
            add(scenario, f"pairs AUROC {k}", v["auroc"])
            add(scenario, f"pairs precision@{v['k']} {k}", v["precision_at_k"])
        for c, v in block.get("called", {}).items():
            add(scenario, f"share called {c}", v["called"])
            add(scenario, f"runs with a call {c}", v["any_called"])
            add(scenario, f"share p<0.05 {c}", v["p_below_0.05"])
    return "\n".join(lines)


def _finished(run_dir: Path, override: dict) -> bool:
    """A run already done with this very override (its tables and override file are there)."""
    done = run_dir / "bench_override.yaml"
    tables = [run_dir / rel for rel in (FOLD_METRICS, TRUTH_CHECK, LINKS_ALL)]
    return (
        done.is_file()
        and yaml.safe_load(done.read_text()) == override
        and all(t.is_file() for t in tables)
    )


def run_one(run_dir: Path, override: dict, cores: int) -> float:
    """Copy the workflow into ``run_dir``, run it with ``override``; seconds taken."""
    sys.path.insert(0, str(REPO / "tests"))
    from workflow_helpers import copy_workflow, run_snakemake

    copy_workflow(run_dir)
    (run_dir / "bench_override.yaml").write_text(yaml.safe_dump(override, sort_keys=False))
    start = time.perf_counter()
    result = run_snakemake(
        run_dir, "--cores", str(cores), "--configfile", "bench_override.yaml", timeout=4 * 3600
    )
    seconds = time.perf_counter() - start
    (run_dir / "bench.log").write_text(result.stdout)
    if result.returncode != 0:
        raise MissingOutput(f"snakemake failed in {run_dir} (see {run_dir}/bench.log)")
    return seconds


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    ap.add_argument("--seeds", type=int, default=5, help="seeds 1..S per scenario")
    ap.add_argument("--subjects", type=int, default=600, help="demo.n_subjects")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="more overrides")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/neuropathx-bench-scenarios"))
    ap.add_argument("--dry-run", action="store_true", help="print the runs, run nothing")
    ap.add_argument("--collect", action="store_true", help="only read runs already in workdir")
    ap.add_argument(
        "--resume",
        action="store_true",
        help="rerun only the runs whose tables are not in workdir yet (after an interruption)",
    )
    ap.add_argument(
        "--auc-only", action="store_true", help="read only fold_metrics.tsv (no report tables)"
    )
    args = ap.parse_args(argv)
    extra = parse_set(args.set)
    plan = [
        (sc, seed, args.workdir / f"{sc}-seed{seed}", run_override(sc, seed, args.subjects, extra))
        for sc in args.scenarios
        for seed in range(1, args.seeds + 1)
    ]
    if args.dry_run:
        for _sc, _seed, run_dir, override in plan:
            print(f"{run_dir}: {json.dumps(override)}")
        print(json.dumps({"dry_run": True, "runs": len(plan)}))
        return
    runs: dict[str, list[dict]] = {sc: [] for sc in args.scenarios}
    seconds = []
    for sc, _, run_dir, override in plan:
        if not args.collect and not (args.resume and _finished(run_dir, override)):
            seconds.append(run_one(run_dir, override, args.cores))
            print(f"# {run_dir.name}: {seconds[-1]:.0f} s", file=sys.stderr)
        runs[sc].append(collect_run(run_dir, sc, args.auc_only))
    summary = aggregate(runs)
    print(format_table(summary))
    meta = {"subjects": args.subjects, "seeds": args.seeds, "cores": args.cores, "set": extra}
    if seconds:
        meta["run_seconds"] = _mean_sd(seconds)
    print(json.dumps({**meta, "scenarios": summary}, allow_nan=False))


if __name__ == "__main__":
    try:
        main()
    except MissingOutput as err:
        raise SystemExit(f"bench/scenarios.py: {err}") from None
