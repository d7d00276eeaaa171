"""Tools the suite needs (C compiler, PLINK, a local Slurm): skip locally, fail under CI.

A test that cannot run because a required tool is missing calls :func:`missing_tool`. On a
developer's machine that is a skip with the reason (``-ra`` prints it). Under ``CI=true`` the
hook below turns exactly these skips into failures, so CI can never pass by skipping the
compiler, PLINK or cluster tests; every other skip stays a skip.
"""

from __future__ import annotations

import os
import shutil

import pytest

MISSING = "required tool missing: "
PLINK_BINARIES = ("plink2", "plink1.9")


def running_in_ci() -> bool:
    """True when the CI environment variable says so (GitHub, GitLab and .ci/run set it)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing_tool(reason: str) -> None:
    """Skip the running test because a required tool is missing (a failure under CI)."""
    pytest.skip(MISSING + reason)


def missing_plink() -> str | None:
    """Why the PLINK tests cannot run here, or None when both binaries are on PATH."""
    absent = [b for b in PLINK_BINARIES if shutil.which(b) is None]
    if absent:
        return f"{' and '.join(absent)} not on PATH (install with `make plink`)"
    return None


def _skip_message(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("plink") is not None:
        reason = missing_plink()
        if reason:
            missing_tool(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.skipped and running_in_ci():
        message = _skip_message(report)
        if MISSING in message:
            report.outcome = "failed"
            report.longrepr = (
                f"{message.removeprefix('Skipped: ')}\n"
                "CI=true: a required tool may not be skipped (unset CI to allow the skip)"
            )
    return report
