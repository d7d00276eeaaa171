"""Shared pytest fixtures: a seeded RNG and a small synthetic cohort."""

from __future__ import annotations

import numpy as np
import pytest

# missing compiler / PLINK / Slurm: a skip locally, a failure under CI=true
from required_tools import pytest_runtest_makereport, pytest_runtest_setup  # noqa: F401

from neuropathx.cohort import CohortArrays


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def small_cohort(rng) -> CohortArrays:
    """80 subjects, 6 pathways, 5 regions x 2 measures; pathway 0 x region 1 drives labels."""
    n, p, r, f = 80, 6, 5, 2
    genetics = rng.normal(size=(n, p))
    imaging = rng.normal(size=(n, r, f))
    liability = genetics[:, 0] + imaging[:, 1, 0] + 0.5 * rng.normal(size=n)
    labels = (liability > np.median(liability)).astype(int)
    return CohortArrays(
        subjects=np.array([f"sub-{i:03d}" for i in range(n)]),
        labels=labels,
        genetics=genetics,
        pathways=[f"PATHWAY_{j}" for j in range(p)],
        imaging=imaging,
        regions=[f"lh_region{k}" for k in range(r)],
        measures=["ThickAvg", "GrayVol"],
    )
