"""Every demo scenario through the workflow up to the cohort stage on the tiny config.

The default (mixed) scenario runs the whole pipeline in test_workflow.py's tiny_run; the
others stop after ``cohort`` (the stages downstream read only the cohort tables).
"""

from __future__ import annotations

import pandas as pd
import pytest
from workflow_helpers import copy_workflow, run_snakemake

pytestmark = pytest.mark.workflow

KINDS = {
    "null": set(),
    "additive": {"additive_pathway", "additive_region"},
    "coupling": {"coupling"},
}


@pytest.mark.parametrize("scenario", sorted(KINDS))
def test_scenario_runs_to_the_cohort_with_its_truth(scenario, tmp_path):
    work = copy_workflow(tmp_path / "wf")
    # quoted: YAML reads a bare null as None (the schema and simulator accept that too)
    (work / "scenario.yaml").write_text(f"demo: {{scenario: '{scenario}'}}\n")
    result = run_snakemake(
        work, "cohort", "--cores", "2", "--configfile", "config/tiny.yaml", "scenario.yaml"
    )
    assert result.returncode == 0, result.stdout[-5000:]
    truth = pd.read_csv(work / "results/demo/truth_aparc.tsv", sep="\t", keep_default_na=False)
    assert list(truth.columns) == ["kind", "pathway", "region", "measure", "effect"]
    assert set(truth["kind"]) == KINDS[scenario]
    imaging = pd.read_csv(work / "results/cohort/imaging.tsv", sep="\t")
    regions = {c.rpartition("__")[0] for c in imaging.columns[1:]}
    assert set(truth["region"]) - {""} <= regions
    genetics = pd.read_csv(work / "results/cohort/genetics.tsv", sep="\t")
    subjects = pd.read_csv(work / "results/cohort/subjects.tsv", sep="\t")
    assert len(genetics) == len(imaging) == len(subjects) > 60
    conf = pd.read_csv(work / "results/demo/confounders.tsv", sep="\t")
    assert conf.set_index("key").loc["age_dx", "effect"] == 0.3


def test_bare_yaml_null_means_the_null_scenario(tmp_path):
    work = copy_workflow(tmp_path / "wf")
    (work / "scenario.yaml").write_text("demo: {scenario: null, confounders: {enabled: false}}\n")
    result = run_snakemake(
        work, "demo_cohort", "--cores", "1", "--configfile", "config/tiny.yaml", "scenario.yaml"
    )
    assert result.returncode == 0, result.stdout[-5000:]
    truth = pd.read_csv(work / "results/demo/truth.tsv", sep="\t")
    assert truth.empty
    conf = pd.read_csv(work / "results/demo/confounders.tsv", sep="\t")
    assert (conf["effect"] == 0).all()
