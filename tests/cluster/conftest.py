"""Fixture: one private Slurm cluster per test module, stopped by PID afterwards."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_slurm import ClusterUnavailable, SlurmCluster, pid_is  # noqa: E402
from required_tools import missing_tool  # noqa: E402


def cluster_skip_reason() -> str | None:
    """Why this machine cannot run the cluster tests, or None when it can."""
    if os.geteuid() != 0:
        return "the local Slurm cluster needs root (apt-get, munge, slurmd)"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return (
            "snakemake-executor-plugin-slurm is not installed (pip install 'neuropathx[cluster]')"
        )
    if shutil.which("dpkg-query") is None or shutil.which("apt-get") is None:
        return "no apt-get/dpkg: cannot install the Debian Slurm packages"
    return None


@pytest.fixture(scope="module")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """A started one-node cluster (8+ CPUs, 2 fake GPUs); every daemon stopped after."""
    reason = cluster_skip_reason()
    if reason:
        missing_tool(reason)  # a failure under CI=true
    base = Path(tempfile.mkdtemp(prefix="npx-slurm-"))
    cluster = SlurmCluster(base=base, cpus=max(os.cpu_count() or 1, 8), fake_gpus=2)
    keep = os.environ.get("NPX_KEEP_SLURM_DIR") == "1"  # keep configs and daemon logs
    try:
        cluster.start()  # stops what it started if it fails; the error quotes the log
    except ClusterUnavailable as err:
        shutil.rmtree(base, ignore_errors=True)
        missing_tool(f"cannot set up the local Slurm cluster: {err}")
    except BaseException:
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
        raise
    print(f"\nlocal Slurm cluster up in {cluster.start_seconds:.1f} s under {base}")
    daemons = dict(cluster.pids)
    try:
        yield cluster
    finally:
        cluster.stop()
        alive = {name: pid for name, pid in daemons.items() if pid_is(pid, name)}
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
        assert not alive, f"daemons still running after stop: {alive}"
