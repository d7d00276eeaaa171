"""The workflow on a real one-node Slurm cluster through ``profiles/slurm``.

Run with ``.venv/bin/pytest -m cluster tests/cluster -s``. Needs root (the harness installs
the Debian Slurm packages when missing) and snakemake-executor-plugin-slurm; skipped
otherwise. The node advertises two fake GPUs (gres.conf File=/dev/null): GPU jobs are
scheduled as on a real GPU node and run on the CPU.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from local_slurm import SlurmCluster  # noqa: E402
from workflow_helpers import REPO, copy_workflow, snakemake_cmd  # noqa: E402

pytestmark = pytest.mark.cluster

# The executor waits this long before its first status query (default 40 s) and between
# queries once jobs finish: short here so that the test does not mostly sleep.
FAST_POLLING = (
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--seconds-between-status-checks",
    "2",
)
# train_neuropathx asks for one GPU (sbatch --gpus=1); device auto trains on the CPU when
# torch sees no CUDA, as on the fake-GPU node.
GPU_OVERRIDE = "training:\n  gpus: 1\n"
# tables that must be identical between the Slurm run and a local run of the same config
COMPARED_TABLES = (
    "results/pathway_scores/pathway_scores.tsv",
    "results/imaging_features/regional_features.tsv",
    "results/cohort/splits.tsv",
    "results/evaluate/fold_metrics.tsv",
    "results/report/top_links.tsv",
)

TOY_SNAKEFILE = """\
rule all:
    input:
        "out/gpu.txt",
        expand("out/base{i}.txt", i=[1, 2, 3]),


rule demo_cohort:
    output:
        "out/demo.txt",
    threads: 1
    shell:
        "echo job=$SLURM_JOB_ID > {output}"


rule train_neuropathx:
    input:
        "out/demo.txt",
    output:
        "out/gpu.txt",
    threads: 1
    resources:
        gpu=1,
    shell:
        "echo job=$SLURM_JOB_ID cuda=$CUDA_VISIBLE_DEVICES > {output}"


rule train_baseline:
    input:
        "out/demo.txt",
    output:
        "out/base{i}.txt",
    threads: 1
    shell:
        "echo job=$SLURM_JOB_ID > {output}"
"""


def snakemake_on_slurm(
    cluster: SlurmCluster, workdir: Path, *args: str, timeout: int
) -> subprocess.CompletedProcess:
    """Run Snakemake with profiles/slurm; SIGINT on timeout so it cancels its jobs."""
    cmd = [
        "timeout", "-s", "INT", "-k", "30", str(timeout),
        *snakemake_cmd(), "--profile", str(workdir / "profiles" / "slurm"), *FAST_POLLING, *args,
    ]  # fmt: skip
    env = cluster.env | {"PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def slurm_run_id(output: str) -> str:
    """The run id the plugin uses as every job's name (``SLURM run ID: <uuid>``)."""
    match = re.search(r"SLURM run ID: (\S+)", output)
    assert match, f"no 'SLURM run ID' in the Snakemake output:\n{output[-3000:]}"
    return match.group(1)


def job_stats(output: str) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table Snakemake prints before it starts."""
    block = output.split("Job stats:", 1)[1]
    counts = {}
    for line in block.splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


def jobs_of_run(cluster: SlurmCluster, run_id: str, capsys) -> list[dict[str, str]]:
    """Accounting records of the jobs one Snakemake run submitted, shown in the CI log."""
    jobs = [job for job in cluster.sacct_jobs() if job["JobName"] == run_id]
    with capsys.disabled():
        print(f"\nsbatch jobs of run {run_id}:")
        for job in jobs:
            print(
                f"  {job['JobID']:>5}  {job['State']:<10} {job['Comment']:<70} {job['AllocTRES']}"
            )
    return jobs


def rule_of(job: dict[str, str]) -> str:
    """Rule or group name from the plugin's comment ``rule_<name>[_wildcards_...]``.

    A group job's name is ``<group>_<its rules>``, e.g. ``baselines_train_baseline``.
    """
    name = re.sub(r"^(rule|group)_", "", job["Comment"]).split("_wildcards_")[0]
    return "baselines" if name.startswith("baselines_") else name


def tail(text: str, n: int = 60) -> str:
    return "\n".join(text.splitlines()[-n:])


def test_toy_workflow_goes_through_sbatch_with_gres_and_groups(slurm_cluster, tmp_path, capsys):
    work = tmp_path / "toy"
    work.mkdir()
    (work / "Snakefile").write_text(TOY_SNAKEFILE)
    (work / "profiles").mkdir()
    (work / "profiles" / "slurm").symlink_to(REPO / "profiles" / "slurm")

    result = snakemake_on_slurm(slurm_cluster, work, timeout=180)

    assert result.returncode == 0, tail(result.stdout)
    jobs = jobs_of_run(slurm_cluster, slurm_run_id(result.stdout), capsys)
    assert all(job["State"] == "COMPLETED" for job in jobs)
    by_rule: dict[str, list[dict[str, str]]] = {}
    for job in jobs:
        by_rule.setdefault(rule_of(job), []).append(job)
    # one job per rule instance, except the three grouped baseline fits: one job together
    assert sorted(by_rule) == ["baselines", "demo_cohort", "train_neuropathx"]
    assert [len(by_rule[r]) for r in sorted(by_rule)] == [1, 1, 1]
    # every output was written inside the Slurm job that accounting lists for its rule
    written = {p.name: p.read_text().split()[0] for p in (work / "out").iterdir()}
    assert written["demo.txt"] == f"job={by_rule['demo_cohort'][0]['JobID']}"
    assert written["gpu.txt"] == f"job={by_rule['train_neuropathx'][0]['JobID']}"
    baseline_job = f"job={by_rule['baselines'][0]['JobID']}"
    assert [written[f"base{i}.txt"] for i in (1, 2, 3)] == [baseline_job] * 3
    # the GPU rule got the node's (fake) GPU, the others none
    assert "gres/gpu=1" in by_rule["train_neuropathx"][0]["AllocTRES"]
    assert "gres/gpu" not in by_rule["demo_cohort"][0]["AllocTRES"]
    assert (work / "out" / "gpu.txt").read_text().split()[1] == "cuda=0"


def test_tiny_workflow_on_slurm_equals_local_run(slurm_cluster, tmp_path, capsys):
    local = copy_workflow(tmp_path / "local")
    on_slurm = copy_workflow(tmp_path / "slurm")
    (on_slurm / "gpu.yaml").write_text(GPU_OVERRIDE)

    # the local reference run overlaps the Slurm run: the Slurm run mostly waits
    local_log = tmp_path / "local.log"
    start = time.time()
    with open(local_log, "w") as log:
        local_run = subprocess.Popen(
            [*snakemake_cmd(), "--profile", "profiles/default", "--cores", "2",
             "--configfile", "config/tiny.yaml"],
            cwd=local, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        result = snakemake_on_slurm(
            slurm_cluster, on_slurm, "--configfile", "config/tiny.yaml", "gpu.yaml", timeout=900
        )
        slurm_s = time.time() - start
        local_rc = local_run.wait(timeout=900)
        local_s = local_log.stat().st_mtime - start
    finally:
        if local_run.poll() is None:
            local_run.kill()
    assert result.returncode == 0, tail(result.stdout)
    assert local_rc == 0, tail(local_log.read_text())

    # every rule instance ran as its own sbatch job (baseline fits as grouped jobs)
    with capsys.disabled():
        print(f"\ntiny demo wall time: Slurm {slurm_s:.0f} s, local {local_s:.0f} s (concurrent)")
    jobs = jobs_of_run(slurm_cluster, slurm_run_id(result.stdout), capsys)
    assert jobs and all(job["State"] == "COMPLETED" for job in jobs)
    expected = {rule: n for rule, n in job_stats(result.stdout).items() if rule != "all"}
    submitted: dict[str, int] = {}
    for job in jobs:
        submitted[rule_of(job)] = submitted.get(rule_of(job), 0) + 1
    grouped = expected.pop("train_baseline")
    assert 1 <= submitted.pop("baselines") <= grouped
    assert submitted == expected
    for job in jobs:
        has_gpu = "gres/gpu=1" in job["AllocTRES"]
        assert has_gpu == (rule_of(job) in ("train_neuropathx", "train_gmind")), job

    # same numbers as the local CPU run: the GPU-requesting jobs trained on the CPU
    for rel in COMPARED_TABLES:
        pd.testing.assert_frame_equal(
            pd.read_csv(on_slurm / rel, sep="\t"), pd.read_csv(local / rel, sep="\t"), obj=rel
        )
    metrics = sorted(
        p.relative_to(local) for p in (local / "results" / "train").rglob("metrics.json")
    )
    neural = expected["train_neuropathx"] + expected.get("train_gmind", 0)
    assert len(metrics) == neural + grouped
    for rel in metrics:
        slurm_metrics = json.loads((on_slurm / rel).read_text())
        local_metrics = json.loads((local / rel).read_text())
        # the adjustment's variance diagnostics (R² summaries) go through OpenBLAS: its core
        # type is pinned in every job (workflow_scripts/_neuropathx_path.py), its thread
        # count follows the job's CPUs: equal to 1e-12; everything else bit for bit
        _assert_close(slurm_metrics.pop("adjustment", None), local_metrics.pop("adjustment", None))
        assert slurm_metrics == local_metrics, rel


def _assert_close(a, b, path="adjustment"):
    """Nested JSON values equal, floats to a relative 1e-12."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), path
        for key in a:
            _assert_close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15), path
    else:
        assert a == b, path
