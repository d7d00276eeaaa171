"""config/replication.yaml runs through the workflow (tiny demo, short-epoch override)."""

import pytest
import torch
from workflow_helpers import copy_workflow, run_snakemake

pytestmark = pytest.mark.workflow


def test_replication_config_trains_every_kind_of_neural_model(tmp_path):
    work = copy_workflow(tmp_path / "wf")
    (work / "short.yaml").write_text(
        "cv: {repeats: 1, folds: 2}\ntraining: {epochs: 3, patience: 3, min_epochs: 1}\n"
    )
    models = ("neuropathx", "gmind", "survpath")
    targets = [f"results/train/{m}/repeat1/fold1/metrics.json" for m in models]
    configs = ("config/tiny.yaml", "config/replication.yaml", "short.yaml")
    result = run_snakemake(work, "--cores", "2", "--configfile", *configs, "--", *targets)
    assert result.returncode == 0, result.stdout[-5000:]
    for model in models:
        fold = work / f"results/train/{model}/repeat1/fold1"
        ckpt = torch.load(fold / "model.pt", weights_only=True)
        assert ckpt["params"]["standardise_genetics"] is False
        assert ckpt["params"]["lr"] == 5e-5 and ckpt["params"]["epochs"] == 3
        assert torch.all(ckpt["scaler"]["genetics_mean"] == 0)  # raw pathway scores
        assert (fold / "history.tsv").read_text().count("\n") == 1 + 3
    ckpt = torch.load(work / "results/train/neuropathx/repeat1/fold1/model.pt", weights_only=True)
    released = {"sp_subjects": 2, "sp_scale": 1.0, "path_pairs": 1, "path_scale": 0.1}
    released |= {"skip_single_class_batches": True, "min_batch_for_reg": 20}
    assert {k: ckpt["params"][k] for k in released} == released
    assert ckpt["model_config"]["reference_query_activation"] is True
    assert ckpt["model_config"]["value_init"] == "normal"
