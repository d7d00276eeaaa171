"""The imaging stage in the workflow on a user's FreeSurfer folder: it runs with imaging
inputs only, and editing or deleting a stats file reruns it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from workflow_helpers import copy_workflow, run_snakemake

from neuropathx.imaging.synthetic import random_parc_values, write_subject_stats

pytestmark = pytest.mark.workflow
SUBJECTS = [f"sub-{i:02d}" for i in range(4)]


@pytest.fixture
def own_imaging(tmp_path: Path) -> Path:
    """A scratch workflow whose config names only participants.tsv and a SUBJECTS_DIR."""
    work = copy_workflow(tmp_path / "wf")
    rng = np.random.default_rng(0)
    for s in SUBJECTS:
        write_subject_stats(work / "fs", s, {h: random_parc_values(rng, 34) for h in ("lh", "rh")})
    rows = "".join(f"{s}\t{'patient' if i % 2 else 'control'}\n" for i, s in enumerate(SUBJECTS))
    (work / "participants.tsv").write_text("participant_id\tdiagnosis\n" + rows)
    (work / "own.yaml").write_text(
        "demo:\n  enabled: false\ninputs:\n  participants: participants.tsv\n  subjects_dir: fs\n"
    )
    return work


def _dry_run_jobs(work: Path) -> str:
    result = run_snakemake(work, "imaging_features", "-n", "--configfile", "own.yaml")
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout


def test_imaging_target_needs_imaging_inputs_only_and_reruns_on_stats_changes(own_imaging):
    work = own_imaging
    done = run_snakemake(work, "imaging_features", "--cores", "1", "--configfile", "own.yaml")
    assert done.returncode == 0, done.stdout[-3000:]
    assert (work / "results/imaging_features/regional_features.tsv").is_file()
    assert "Nothing to be done" in _dry_run_jobs(work)
    # a stats file re-written unchanged is not a change (Snakemake compares checksums) ...
    stats = work / "fs" / "sub-02" / "stats" / "rh.aparc.stats"
    stats.write_text(stats.read_text())
    assert "Nothing to be done" in _dry_run_jobs(work)
    # ... one value edited is
    lines = stats.read_text().splitlines(True)
    fields = lines[-1].split()
    fields[4] = "9.999"  # ThickAvg of the last region
    stats.write_text("".join(lines[:-1]) + " ".join(fields) + "\n")
    assert "Updated input files: fs/sub-02/stats/rh.aparc.stats" in _dry_run_jobs(work)
    again = run_snakemake(work, "imaging_features", "--cores", "1", "--configfile", "own.yaml")
    assert again.returncode == 0, again.stdout[-3000:]
    assert "Nothing to be done" in _dry_run_jobs(work)
    # a deleted stats file too: the set of input files changed (folder mtimes unchanged above)
    (work / "fs" / "sub-03" / "stats" / "lh.aparc.stats").unlink()
    assert "extract_imaging_features" in _dry_run_jobs(work)


def test_cohort_target_still_names_every_missing_input(own_imaging):
    result = run_snakemake(own_imaging, "cohort", "-n", "--configfile", "own.yaml")
    assert result.returncode != 0
    assert "inputs.bfile, inputs.sumstats, inputs.gene_loc, inputs.gmt not set" in result.stdout
