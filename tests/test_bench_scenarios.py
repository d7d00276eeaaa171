"""bench/scenarios.py: overrides, reading the run tables, mean +- SD over seeds (no runs)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from neuropathx.io import write_tsv

_SPEC = importlib.util.spec_from_file_location(
    "bench_scenarios", Path(__file__).resolve().parents[1] / "bench" / "scenarios.py"
)
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)


def _fake_run(run_dir: Path, auc: dict, auroc: float, called: list[bool], p: list[float]) -> None:
    folds = pd.DataFrame(
        [
            {"model": m, "repeat": 1, "fold": k + 1, "auc": a + (0.02 if k else -0.02)}
            for m, a in auc.items()
            for k in range(2)
        ]
    )
    write_tsv(folds, run_dir / bench.FOLD_METRICS)
    truth = pd.DataFrame(
        [
            ("neuropathx_raw", "all", auroc, 0.3, 0.4, 10),
            ("neuropathx_raw", "decoys", auroc - 0.1, 0.5, 0.6, 10),
            ("univariate_product", "all", 0.5, 0.1, 0.1, 10),
        ],
        columns=bench.TRUTH_COLUMNS,
    )
    write_tsv(truth, run_dir / bench.TRUTH_CHECK)
    links = pd.DataFrame(
        {
            "pathway": "P1",
            "region": [f"lh_r{i}" for i in range(len(called))],
            "contrast": "raw",
            "effect": 0.1,
            "p": p,
            "p_maxT": 1.0,
            "q_bh": 1.0,
            "called": called,
        }
    )
    write_tsv(links, run_dir / bench.LINKS_ALL)


def test_aggregate_mean_and_sd_over_seeds(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _fake_run(
        a,
        {"neuropathx": 0.70, "cca": 0.60},
        0.9,
        [True, False, False, False],
        [0.01, 0.2, 0.5, 0.9],
    )
    _fake_run(b, {"neuropathx": 0.80, "cca": 0.60}, 0.7, [False] * 4, [0.04, 0.03, 0.5, 0.9])
    runs = {"coupling": [bench.collect_run(a, "coupling"), bench.collect_run(b, "coupling")]}
    runs["null"] = [bench.collect_run(a, "null"), bench.collect_run(b, "null")]
    summary = bench.aggregate(runs)
    auc = summary["coupling"]["auc"]["neuropathx"]
    assert auc["mean"] == pytest.approx(0.75) and auc["sd"] == pytest.approx(0.0707, abs=1e-4)
    assert summary["coupling"]["auc"]["cca"]["sd"] == 0.0
    rec = summary["coupling"]["recovery"]["neuropathx_raw/decoys"]
    assert rec["auroc"]["mean"] == pytest.approx(0.7) and rec["precision_at_k"]["mean"] == 0.6
    assert rec["k"] == 10 and "called" not in summary["coupling"]
    called = summary["null"]["called"]["raw"]
    assert called["called"]["mean"] == pytest.approx(0.125)  # 1/4 and 0/4
    assert called["p_below_0.05"]["mean"] == pytest.approx(0.375)  # 1/4 and 2/4
    assert called["any_called"]["mean"] == pytest.approx(0.5)  # one run of two calls a link
    assert "recovery" not in summary["null"]
    table = bench.format_table(summary)
    assert "AUC neuropathx" in table and "share called raw" in table
    assert "runs with a call raw" in table
    one = bench.aggregate({"mixed": runs["coupling"][:1]})
    assert one["mixed"]["auc"]["cca"] == {"mean": 0.6, "sd": None, "n": 1}
    json.loads(json.dumps(one), parse_constant=pytest.fail)  # strict JSON, no NaN


def test_missing_report_table_names_the_file_and_its_producer(tmp_path):
    run = tmp_path / "run"
    _fake_run(run, {"neuropathx": 0.7}, 0.9, [False], [0.5])
    (run / bench.TRUTH_CHECK).unlink()
    assert bench.collect_run(run, "coupling", auc_only=True) == {"auc": {"neuropathx": 0.7}}
    with pytest.raises(bench.MissingOutput, match="truth_check.tsv is missing.*issue 13"):
        bench.collect_run(run, "coupling")
    write_tsv(pd.DataFrame({"ranking": ["x"]}), run / bench.TRUTH_CHECK)
    with pytest.raises(bench.MissingOutput, match=r"lacks column\(s\) \['against'"):
        bench.collect_run(run, "coupling")


def test_overrides_and_dry_run(capsys):
    extra = bench.parse_set(["demo.confounders.enabled=false", "cv.folds=3"])
    assert extra == {"demo": {"confounders": {"enabled": False}}, "cv": {"folds": 3}}
    override = bench.run_override("null", 2, 900, extra)
    assert override["demo"] == {
        "scenario": "null",
        "n_subjects": 900,
        "confounders": {"enabled": False},
    }
    assert yaml.safe_load(yaml.safe_dump(override))["demo"]["scenario"] == "null"  # not None
    bench.main(["--scenarios", "null", "mixed", "--seeds", "2", "--dry-run"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5 and json.loads(lines[-1]) == {"dry_run": True, "runs": 4}
    assert "null-seed1" in lines[0] and '"seed": 1' in lines[0]
    with pytest.raises(SystemExit, match="key=value"):
        bench.parse_set(["oops"])


def _reject(constant: str) -> None:
    raise AssertionError(f"non-strict JSON constant {constant}")


def test_json_is_strict_without_planted_pairs(tmp_path, capsys):
    # additive plants no pair: the report's truth_check has NaN AUROC/precision (and k);
    # null has no truth_check figures at all. The last line must still be strict JSON.
    for scenario in ("null", "additive"):
        for seed in (1, 2):
            run = tmp_path / f"{scenario}-seed{seed}"
            _fake_run(run, {"neuropathx": 0.5 + seed / 100}, 0.9, [False, False], [0.5, 0.01])
            if scenario == "additive":
                truth = pd.DataFrame(
                    [("neuropathx_raw", "all", np.nan, np.nan, np.nan, np.nan)],
                    columns=bench.TRUTH_COLUMNS,
                )
                write_tsv(truth, run / bench.TRUTH_CHECK)
    bench.main(
        ["--scenarios", "null", "additive", "--seeds", "2", "--collect", "--workdir", str(tmp_path)]
    )
    out = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(out[-1], parse_constant=_reject)["scenarios"]
    rec = summary["additive"]["recovery"]["neuropathx_raw/all"]
    assert rec["auroc"] == {"mean": None, "sd": None, "n": 0} and rec["k"] is None
    assert summary["null"]["auc"]["neuropathx"] == {"mean": 0.515, "sd": 0.0071, "n": 2}
    assert "NaN" not in out[-1] and any("n/a" in line for line in out)
    assert bench._mean_sd([0.6, float("nan"), 0.8]) == {"mean": 0.7, "sd": 0.1414, "n": 2}


def test_resume_reruns_only_unfinished_runs(tmp_path, monkeypatch, capsys):
    done = tmp_path / "null-seed1"
    _fake_run(done, {"neuropathx": 0.5}, 0.9, [False], [0.5])
    override = bench.run_override("null", 1, 600, {"training": {"seeds": 1}})
    (done / "bench_override.yaml").write_text(yaml.safe_dump(override))
    ran = []

    def fake_run_one(run_dir, override, cores):
        ran.append(run_dir.name)
        _fake_run(run_dir, {"neuropathx": 0.6}, 0.9, [False], [0.5])
        return 1.0

    monkeypatch.setattr(bench, "run_one", fake_run_one)
    argv = ["--scenarios", "null", "--seeds", "2", "--workdir", str(tmp_path), "--resume"]
    bench.main([*argv, "--set", "training.seeds=1"])
    assert ran == ["null-seed2"]
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["scenarios"]["null"]["auc"]["neuropathx"]["mean"] == pytest.approx(0.55)
    bench.main(argv)  # another override (training.seeds default): both rerun
    assert ran == ["null-seed2", "null-seed1", "null-seed2"]


def test_an_interrupted_run_is_resumed_in_its_own_directory(tmp_path, monkeypatch):
    import workflow_helpers

    run_dir = tmp_path / "mixed-seed4"
    workflow_helpers.copy_workflow(run_dir)  # the copy an interrupted run left behind
    (run_dir / "results" / "partial.txt").parent.mkdir()
    (run_dir / "results" / "partial.txt").write_text("kept")

    class Done:
        returncode, stdout = 0, "ok"

    monkeypatch.setattr(workflow_helpers, "run_snakemake", lambda *a, **k: Done())
    assert bench.run_one(run_dir, {"demo": {"seed": 4}}, 1) >= 0
    assert (run_dir / "results" / "partial.txt").read_text() == "kept"
    assert yaml.safe_load((run_dir / "bench_override.yaml").read_text()) == {"demo": {"seed": 4}}
    assert (run_dir / "Snakefile").read_text() == (workflow_helpers.REPO / "Snakefile").read_text()
