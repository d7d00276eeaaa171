"""Per-fold training: checks, planted signal, determinism, leakage, outputs, checkpoints."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from neuropathx.cohort import CohortArrays
from neuropathx.errors import InputError
from neuropathx.training import (
    FOLD_FILES,
    TrainingParams,
    load_checkpoint,
    predict_cohort,
    train_fold,
    write_fold_outputs,
)
from neuropathx.training.loop import batch_slices, resolve_device

N, P, R = 80, 5, 4
MEASURES = ["GrayVol", "SurfArea", "ThickAvg", "ThickStd"]
FAST = {"epochs": 25, "lr": 0.03, "batch_size": 16, "dropout": 0.0, "patience": 25, "min_epochs": 1}


def _cohort(shift: float = 2.5, seed: int = 0) -> CohortArrays:
    """Patients have pathway p0 and region r1's ThickAvg raised by ``shift`` SD."""
    rng = np.random.default_rng(seed)
    labels = np.tile([0, 1], N // 2)
    genetics = rng.normal(size=(N, P))
    imaging = rng.normal(size=(N, R, len(MEASURES)))
    genetics[:, 0] += shift * labels
    imaging[:, 1, 2] += shift * labels
    return CohortArrays(
        np.array([f"sub-{i:03d}" for i in range(N)]),
        labels,
        genetics,
        [f"path{i}" for i in range(P)],
        imaging,
        [f"reg{i}" for i in range(R)],
        list(MEASURES),
    )


def _roles() -> np.ndarray:
    roles = np.array(["train"] * 56 + ["val"] * 12 + ["test"] * 10 + [""] * 2)
    return roles


@pytest.fixture(scope="module")
def trained():
    """The default ``device: auto`` on a machine where CUDA is (made) unavailable."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.cuda, "is_available", lambda: False)
        return train_fold(_cohort(), _roles(), FAST, seed=7, device="auto", threads=1)


def test_planted_signal_is_learned(trained):
    from sklearn.metrics import roc_auc_score

    pred = trained.predictions
    train = pred[pred.split == "train"]
    assert roc_auc_score(train.label, train.probability) > 0.95
    assert trained.metrics["validation"]["auc"] > 0.9
    assert trained.metrics["device"] == "cpu"  # "auto" with CUDA unavailable
    assert (trained.metrics["n_train"], trained.metrics["n_val"], trained.metrics["n_test"]) == (
        56,
        12,
        10,
    )
    assert len(pred) == 78 and set(pred.split) == {"train", "val", "test"}
    assert trained.attention.shape == (10, P, R)


def test_same_call_gives_identical_results(trained):
    again = train_fold(_cohort(), _roles(), FAST, seed=7, device="cpu", threads=1)
    assert again.metrics == trained.metrics
    np.testing.assert_array_equal(again.history.to_numpy(), trained.history.to_numpy())


def test_test_features_do_not_leak_into_scaler_or_epoch_choice(trained):
    cohort = _cohort()
    test = _roles() == "test"
    cohort.genetics[test] += 100.0
    cohort.imaging[test] *= -3.0
    other = train_fold(cohort, _roles(), FAST, seed=7, device="cpu", threads=1)
    for key, value in trained.scaler.to_dict().items():
        np.testing.assert_array_equal(other.scaler.to_dict()[key], value)
    assert other.metrics["best_epoch"] == trained.metrics["best_epoch"]
    np.testing.assert_array_equal(other.history.to_numpy(), trained.history.to_numpy())


def test_early_stopping_restores_the_best_validation_epoch():
    params = {**FAST, "epochs": 60, "patience": 3, "min_epochs": 5}
    res = train_fold(_cohort(shift=0.0), _roles(), params, seed=1, device="cpu")
    hist = res.history
    best = res.metrics["best_epoch"]
    assert hist.val_auc.idxmax() + 1 == best  # earliest maximum
    assert len(hist) == max(best + 3, 5) and len(hist) < 60
    val = res.predictions[res.predictions.split == "val"]
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(val.label, val.probability) == pytest.approx(hist.val_auc.max())


def test_single_class_training_part_is_an_error():
    cohort = _cohort()
    roles = np.where(cohort.labels == 1, "train", "val")
    roles[:4] = "test"
    with pytest.raises(InputError, match="train part of the fold holds a single class"):
        train_fold(cohort, roles, FAST, seed=0, device="cpu")


def test_missing_values_name_subjects_and_columns():
    cohort = _cohort()
    cohort.genetics[3, 2] = np.nan
    cohort.imaging[5, 1, 0] = np.nan
    with pytest.raises(InputError) as err:
        train_fold(cohort, _roles(), FAST, seed=0, device="cpu")
    msg = str(err.value)
    assert "sub-003" in msg and "path2" in msg and "sub-005" in msg and "reg1__GrayVol" in msg
    # a missing value in an unused subject is fine
    cohort = _cohort()
    cohort.genetics[79, 0] = np.nan
    from neuropathx.training import fold_masks

    assert fold_masks(cohort, _roles())["train"].sum() == 56


def test_constant_training_column_is_an_error_naming_it():
    cohort = _cohort()
    cohort.genetics[_roles() == "train", 4] = 1.0
    cohort.imaging[_roles() == "train", 3, 1] = 2.0
    with pytest.raises(InputError, match=r"path4.*reg3__SurfArea"):
        train_fold(cohort, _roles(), FAST, seed=0, device="cpu")


def test_params_defaults_and_unknown_keys():
    flat = TrainingParams.from_dict({}).to_dict()
    assert flat["lr"] == 5e-5 and flat["epochs"] == 300 and flat["path_metric"] == "l1"
    assert flat["d_q"] == 32 and flat["hidden"] == 24 and flat["lambda_sp"] == 1e-6
    with pytest.raises(ValueError, match="learning_rate"):
        TrainingParams.from_dict({"learning_rate": 0.1})
    with pytest.raises(ValueError, match="path_metric"):
        TrainingParams.from_dict({"path_metric": "l3"})
    with pytest.raises(ValueError, match="'epochs' must be int"):
        TrainingParams.from_dict({"epochs": 2.5})


def test_cuda_request_without_cuda_is_an_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA device"):
        train_fold(_cohort(), _roles(), FAST, seed=0, device="cuda")


@pytest.mark.parametrize(
    ("requested", "cuda_visible", "expected"),
    [
        ("auto", False, "cpu"),
        ("auto", True, "cuda"),  # README: "uses the GPU when one is visible"
        ("cpu", True, "cpu"),  # an explicit cpu wins over a visible GPU
        ("cpu", False, "cpu"),
        ("cuda", True, "cuda"),
        ("cuda:1", True, "cuda:1"),
    ],
)
def test_device_resolution(monkeypatch, requested, cuda_visible, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_visible)
    assert resolve_device(requested) == torch.device(expected)


@pytest.mark.parametrize("requested", ["cuda", "cuda:0"])
def test_device_cuda_without_gpu_is_an_error(monkeypatch, requested):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=f"device '{requested}' requested but no CUDA"):
        resolve_device(requested)


@pytest.mark.parametrize("requested", ["gpu", "CPU", "", "mps"])
def test_device_unknown_is_an_error(requested):
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu' or 'cuda"):
        resolve_device(requested)


def test_train_fold_moves_the_model_to_the_resolved_device(monkeypatch):
    """With CUDA faked visible, ``auto`` sends the model to cuda: this CPU-only torch refuses."""
    if torch.cuda.is_available():
        pytest.skip("a real CUDA device is present: test_planted_signal_is_learned covers it")
    seen = []
    real = resolve_device

    def spy(device):
        seen.append(device)
        return real(device)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr("neuropathx.training.loop.resolve_device", spy)
    with pytest.raises((AssertionError, RuntimeError), match="CUDA|cuda"):
        train_fold(_cohort(), _roles(), FAST, seed=0, device="auto")
    assert seen == ["auto"]


def test_batches_never_hold_a_single_subject():
    assert [s.stop - s.start for s in batch_slices(65, 32)] == [32, 33]
    assert [s.stop - s.start for s in batch_slices(66, 32)] == [32, 32, 2]


def test_outputs_and_checkpoint_round_trip(trained, tmp_path):
    write_fold_outputs(trained, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FOLD_FILES)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["auc"] == pytest.approx(trained.metrics["auc"])
    assert set(metrics["validation"]) >= {"accuracy", "auc", "kappa"}
    with np.load(tmp_path / "attention.npz", allow_pickle=False) as npz:
        assert npz["attention"].dtype == np.float16 and npz["attention"].shape == (10, P, R)
        assert list(npz["regions"]) == [f"reg{i}" for i in range(R)]
        np.testing.assert_array_equal(npz["participant_id"], trained.test_subjects)
    model, ckpt = load_checkpoint(tmp_path / "model.pt")
    assert ckpt["params"] == trained.params and ckpt["versions"]["torch"] == torch.__version__
    cohort = _cohort()
    prob, att = predict_cohort(model, ckpt, cohort)
    used = _roles() != ""
    np.testing.assert_allclose(prob[used], trained.predictions.probability.to_numpy(), rtol=1e-6)
    test = _roles() == "test"
    np.testing.assert_allclose(att[test], trained.attention, rtol=1e-6)


def test_checkpoint_on_data_with_more_pathways_is_an_error(trained, tmp_path):
    write_fold_outputs(trained, tmp_path)
    model, ckpt = load_checkpoint(tmp_path / "model.pt")
    c = _cohort()
    wider = CohortArrays(
        c.subjects,
        c.labels,
        np.hstack([c.genetics, c.genetics[:, :1]]),
        c.pathways + ["extra_path"],
        c.imaging,
        c.regions,
        c.measures,
    )
    with pytest.raises(InputError, match=r"6 pathways but the checkpoint was trained on 5.*extra"):
        predict_cohort(model, ckpt, wider)


def test_validation_rows_only_choose_the_epoch(trained):
    """Validation features and labels changed: the scaler and every training-loss value of
    the epochs are unchanged (validation picks the checkpoint, it is never fitted on)."""
    cohort = _cohort()
    val = _roles() == "val"
    cohort.genetics[val] = cohort.genetics[val] * -4.0 + 30.0
    cohort.imaging[val] *= 5.0
    cohort.labels[val] = 1 - cohort.labels[val]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.cuda, "is_available", lambda: False)
        other = train_fold(cohort, _roles(), FAST, seed=7, device="auto", threads=1)
    for key, value in trained.scaler.to_dict().items():
        np.testing.assert_array_equal(other.scaler.to_dict()[key], value)
    train_cols = ["epoch", "loss_total", "loss_bce", "loss_sp", "loss_path"]  # patience 25: all
    pd.testing.assert_frame_equal(other.history[train_cols], trained.history[train_cols])
    assert not other.history.equals(trained.history)  # the validation columns did change
