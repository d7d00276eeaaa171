"""`snakemake --use-conda`, emulated: every rule's script runs in its own env and nothing else.

No conda channel is reachable here, so tests/conda_emulation.py builds one isolated virtualenv
per envs/*.yaml (exactly its pins, no project, no host site-packages; cached) and
tests/conda_emulation_snakemake.py runs the real Snakemake on the tiny config with each
script executed by its env's interpreter and Snakemake's host-sys.path fallback removed.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conda_emulation import build_env, build_envs, env_record
from test_envs import _rule_blocks, _rule_envs
from workflow_helpers import REPO, copy_workflow

pytestmark = pytest.mark.conda
WRAPPER = Path(__file__).with_name("conda_emulation_snakemake.py")
SCRIPTS = sorted(
    p
    for p in (REPO / "workflow_scripts").glob("*.py")
    if not p.stem.startswith("_")  # helpers
)


def _cpu_envs() -> list[Path]:
    """The env files the tiny (CPU) config runs in."""
    envs = set()
    for path, _rule, body in _rule_blocks():
        if "script:" in body:
            envs.add(_rule_envs(path, body)[0])  # a helper's first env is its CPU default
    return sorted(envs)


@pytest.fixture(scope="session")
def emulated_envs() -> dict[str, str]:
    missing = [t for t in ("plink2", "plink1.9") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not on PATH: the genetics env links the host's PLINK")
    return {env: str(prefix) for env, prefix in build_envs(_cpu_envs()).items()}


def _run_emulated(work: Path, envs: dict[str, str], *args: str, timeout: int = 1500):
    env = dict(os.environ, NEUROPATHX_EMULATED_ENVS=json.dumps(envs), PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, str(WRAPPER), *args],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def _failures(work: Path) -> str:
    path = work / "conda_emulation_failures.txt"
    return path.read_text() if path.exists() else ""


def _workflow_copy(base: Path, emulated: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """A scratch copy of the workflow and the env map keyed by its own env files."""
    work = copy_workflow(base / "wf")
    return work, {str(work / "envs" / Path(k).name): v for k, v in emulated.items()}


@pytest.fixture(scope="module")
def conda_run(tmp_path_factory, emulated_envs):
    work, envs = _workflow_copy(tmp_path_factory.mktemp("conda"), emulated_envs)
    result = _run_emulated(work, envs, "--cores", "2", "--configfile", "config/tiny.yaml")
    assert result.returncode == 0, "a script failed in its emulated conda env:\n" + (
        _failures(work) or result.stdout[-6000:]
    )
    return work, envs


def test_every_rule_ran_in_the_env_its_rule_names(conda_run):
    work, envs = conda_run
    jobs = pd.read_csv(work / "conda_emulation_jobs.tsv", sep="\t", names=["rule", "env", "python"])
    expected = {}
    for path, rule, body in _rule_blocks():
        if "script:" in body:
            expected[rule] = str(work / "envs" / _rule_envs(path, body)[0].name)
    assert set(jobs["rule"]) == set(expected), "every script rule ran, and only those"
    for row in jobs.itertuples():
        assert row.env == expected[row.rule], row.rule
        assert row.python == str(Path(envs[row.env]) / "bin" / "python")


def test_tiny_outputs_in_conda_envs_match_the_manifest(conda_run):
    work, _ = conda_run
    manifest = (REPO / "tests" / "data" / "tiny_manifest.txt").read_text().split()
    missing = [f for f in manifest if not (work / f).exists()]
    assert not missing, f"missing after the emulated conda run: {missing[:10]}"


def test_plink_from_the_genetics_env_is_recorded(conda_run):
    work, envs = conda_run
    genetics = Path(envs[str(work / "envs" / "genetics.yaml")])
    ran = pd.read_csv(work / "results/genotype_qc/plink_versions.tsv", sep="\t")
    assert list(ran["software"]) == ["plink2", "plink1.9"]
    # bioconda's names, in the env's bin/, found before /usr/bin's plink1.9
    assert list(ran["path"]) == [str(genetics / "bin" / "plink2"), str(genetics / "bin" / "plink")]
    linked = env_record(genetics)["tools"]
    assert list(ran["version"]) == [linked["plink2"]["version"], linked["plink"]["version"]]
    versions = pd.read_csv(work / "results/config/package_versions.tsv", sep="\t")
    versions = versions.set_index("software")["version"]
    assert versions["plink1.9"] == linked["plink"]["version"].splitlines()[0]
    # resolved_config runs in the analysis env: it reports that env's packages, not the host's
    assert versions["torch"] == "not installed"
    assert versions["scikit-learn"] == "1.9.0"


def _plant_import(script: Path, module: str) -> None:
    text = script.read_text()
    marker = "import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)\n"
    assert marker in text
    script.write_text(text.replace(marker, marker + f"import {module}  # noqa: F401\n"))


def test_a_package_missing_from_the_env_fails_and_is_named(tmp_path, emulated_envs):
    """torch is in the launching virtualenv but not in demo.yaml: the job must not find it."""
    work, envs = _workflow_copy(tmp_path, emulated_envs)
    _plant_import(work / "workflow_scripts" / "demo_cohort.py", "torch")
    result = _run_emulated(
        work, envs, "demo_cohort", "--cores", "1", "--configfile", "config/tiny.yaml"
    )
    assert result.returncode != 0
    assert _failures(work).splitlines() == [
        "rule demo_cohort: script demo_cohort.py imports 'torch', which its env demo.yaml does "
        "not provide; add the package to envs/demo.yaml (and pyproject.toml)"
    ]
    assert "ModuleNotFoundError: No module named 'torch'" in result.stdout


def test_without_the_guard_snakemake_hides_the_missing_package(
    tmp_path, emulated_envs, monkeypatch
):
    """Why the emulation removes the preamble's host paths: with them, the planted import is
    quietly served from the launching virtualenv and the job succeeds."""
    work, envs = _workflow_copy(tmp_path, emulated_envs)
    _plant_import(work / "workflow_scripts" / "demo_cohort.py", "torch")
    monkeypatch.setenv("NEUROPATHX_EMULATION_HOST_FALLBACK", "1")
    result = _run_emulated(
        work, envs, "demo_cohort", "--cores", "1", "--configfile", "config/tiny.yaml"
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert _failures(work) == ""


def test_scripts_import_the_checkout_first():
    """The path set-up is each script's first import, so no sorter can put the library first."""
    for script in SCRIPTS:
        tree = ast.parse(script.read_text())
        imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        first = imports[0]
        assert isinstance(first, ast.Import) and first.names[0].name == "_neuropathx_path", (
            f"{script.name}: the first import must be _neuropathx_path"
        )


@pytest.mark.parametrize("script", [p.name for p in SCRIPTS])
def test_script_imports_its_library_without_the_project_installed(script, tmp_path):
    """As a conda job does: `python -S` (no .pth, so no editable install) with the packages'
    site-packages appended, the script folder first (Snakemake's preamble adds it)."""
    site = [p for p in sys.path if p.endswith("site-packages")]
    code = (
        "import runpy, sys\n"
        f"sys.path[:] = [{str(REPO / 'workflow_scripts')!r}] + "
        f"[p for p in sys.path if 'site-packages' not in p] + {site!r}\n"
        "try:\n"
        f"    runpy.run_path({str(REPO / 'workflow_scripts' / script)!r}, run_name='__main__')\n"
        "except NameError as err:\n"
        "    assert \"'snakemake'\" in str(err), err\n"
        "print(sys.modules['neuropathx'].__file__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == str(REPO / "neuropathx" / "__init__.py")


def test_envs_are_cached_and_hold_neither_the_project_nor_host_packages(emulated_envs):
    host_site = {p for p in sys.path if p.endswith("site-packages")}
    for env_file, prefix in emulated_envs.items():
        assert build_env(env_file) == Path(prefix)  # the cached env, keyed by the file's hash
        record = env_record(Path(prefix))
        assert Path(record["env_file"]).name == Path(env_file).name
        assert not host_site & set(record["sys_path"])
        proc = subprocess.run(
            [str(Path(prefix) / "bin" / "python"), "-I", "-c", "import neuropathx"],
            capture_output=True,
            text=True,
            cwd="/",
        )
        assert "No module named 'neuropathx'" in proc.stderr, env_file
