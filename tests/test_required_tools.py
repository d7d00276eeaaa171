"""A missing compiler, PLINK or Slurm is a skip locally and a failure under CI=true."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

PLUGIN = Path(__file__).with_name("required_tools.py")

EXAMPLE = """
import pytest
from required_tools import missing_tool

def test_needs_a_compiler():
    missing_tool("no C compiler found")

@pytest.mark.plink
def test_needs_plink():
    pass

def test_skipped_for_another_reason():
    pytest.skip("a CUDA device is present")

@pytest.fixture
def cluster():
    missing_tool("cannot set up the local Slurm cluster: slurmctld did not start")

def test_on_the_cluster(cluster):
    pass
"""


@pytest.fixture
def example(pytester, monkeypatch):
    pytester.makepyfile(required_tools=PLUGIN.read_text())
    pytester.makeconftest("from required_tools import *  # noqa\n")
    pytester.makeini("[pytest]\nmarkers =\n    plink: needs PLINK\n")
    pytester.makepyfile(test_example=EXAMPLE)
    monkeypatch.setenv("PATH", str(pytester.path))  # no plink2 / plink1.9 here
    return pytester


def test_locally_a_missing_tool_is_a_skip_with_the_reason(example, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = example.runpytest("-ra")
    result.assert_outcomes(skipped=4)
    result.stdout.fnmatch_lines(["*required tool missing: no C compiler found*"])
    result.stdout.fnmatch_lines(["*required tool missing: plink2 and plink1.9 not on PATH*"])


@pytest.mark.parametrize("ci", ["true", "1", "TRUE"])
def test_under_ci_a_missing_tool_fails_with_the_reason(example, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    result = example.runpytest("-ra")
    # other skips stay skips; PLINK and the Slurm fixture are checked at setup: errors
    result.assert_outcomes(failed=1, errors=2, skipped=1)
    for line in [
        "FAILED test_example.py::test_needs_a_compiler - required tool missing: no C compiler*",
        "ERROR test_example.py::test_needs_plink - required tool missing: plink2 and plink1.9*",
        "ERROR test_example.py::test_on_the_cluster - required tool missing: cannot set up*",
        "SKIPPED * a CUDA device is present",
    ]:
        result.stdout.fnmatch_lines([line])
    assert "CI=true: a required tool may not be skipped" in result.stdout.str()


def test_ci_false_allows_the_skip(example, monkeypatch):
    monkeypatch.setenv("CI", "false")
    example.runpytest().assert_outcomes(skipped=4)
