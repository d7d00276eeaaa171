"""Per-fold training: checks, planted signal, determinism, leakage, outputs, checkpoints."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from required_tools import missing_tool

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


def test_set_seed_seeds_python_numpy_and_torch():
    import random

    from neuropathx.training.loop import set_seed

    seed = 2**32 + 5  # numpy takes the seed modulo 2**32
    set_seed(seed)
    drawn = (random.random(), np.random.random(), float(torch.rand(1)))  # noqa: NPY002
    random.seed(seed)
    np.random.seed(5)  # noqa: NPY002
    torch.manual_seed(seed)
    assert drawn == (random.random(), np.random.random(), float(torch.rand(1)))  # noqa: NPY002


def test_batch_slices_by_hand():
    assert batch_slices(10, 4) == [slice(0, 4), slice(4, 8), slice(8, 10)]
    assert batch_slices(33, 32) == [slice(0, 33)]  # 32 + 1: the one joins the batch before
    assert batch_slices(32, 32) == [slice(0, 32)]
    assert batch_slices(5, 8) == [slice(0, 5)]
    assert batch_slices(1, 8) == [slice(0, 1)]  # nothing before it to join


class _RecordingOptimizer:
    """Records the loop's calls and leaves the weights alone, so that every batch's loss
    can be recomputed afterwards from the same model."""

    def __init__(self):
        self.calls = []

    def zero_grad(self):
        self.calls.append("zero_grad")

    def step(self):
        self.calls.append("step")


@pytest.mark.parametrize("style", ["autograd", "autograd_l2", "released", "hand_written"])
def test_run_epoch_returns_subject_weighted_means_of_the_batch_losses(style):
    """Batches of 4, 4 and 2 subjects in the order of the generator's permutation; each
    term is averaged over subjects (not over batches). Released style: the one-class batch
    takes no step and adds nothing, and the mean is still over all subjects. autograd_l2:
    the loss's path metric and minimum batch for the regularisers reach the objective (the
    last batch of 2 has none). hand_written: the default model and objective go through
    train_step (its gradients, no zero_grad), batch by batch as a twin replays them."""
    import copy

    from neuropathx.models import train_step
    from neuropathx.models.losses import loss_from_terms
    from neuropathx.models.neuropathx import NeuroPathX, NeuroPathXConfig
    from neuropathx.training.config import LossParams
    from neuropathx.training.loop import FoldData, run_epoch
    from neuropathx.training.replication import released_loss_terms

    released, hand_written = style == "released", style == "hand_written"
    n = 10
    order = torch.randperm(n, generator=torch.Generator().manual_seed(9))
    labels = torch.zeros(n)
    labels[order[[0, 2, 8]]] = 1.0  # batch 1 and 3 hold both classes, batch 2 only controls
    g = torch.Generator().manual_seed(3)
    data = FoldData(torch.randn(n, P, generator=g), torch.randn(n, R, 4, generator=g), labels)
    torch.manual_seed(0)
    dropout = 0.3 if hand_written else 0.0
    config = NeuroPathXConfig(n_pathways=P, n_regions=R, n_measures=4, dropout=dropout)
    model = NeuroPathX(config)
    kw = {"lambda_sp": 0.1, "lambda_path": 0.05, "rho": 0.05, "path_pairs": 2}
    if released:
        kw |= {"sp_scale": 1.0, "path_scale": 0.1, "skip_single_class_batches": True}
    if style == "autograd_l2":
        kw |= {"path_metric": "l2", "min_batch_for_reg": 3}
    if hand_written:
        kw["path_pairs"] = 0  # all pairs: the objective train_step covers
    loss = LossParams(**kw)
    twin = copy.deepcopy(model)
    for param in [*model.parameters(), *twin.parameters()]:  # as FlatAdamW leaves them
        param.grad = torch.zeros_like(param)  # (a deep copy of a Parameter drops .grad)
    opt = _RecordingOptimizer()
    torch.manual_seed(5)  # dropout masks draw from the global generator
    got = run_epoch(model, opt, data, loss, pos_weight=1.5, batch_size=4,
                    generator=torch.Generator().manual_seed(9))  # fmt: skip
    assert model.training
    # the same permutation and random draws, batch by batch
    gen = torch.Generator().manual_seed(9)
    assert torch.equal(torch.randperm(n, generator=gen), order)
    torch.manual_seed(5)
    sums, steps = np.zeros(4), 0
    for a, b in ((0, 4), (4, 8), (8, 10)):
        idx = order[a:b]
        x, im, y = data.genetics[idx], data.imaging[idx], labels[idx]
        if released:
            if y.sum() in (0, len(y)):
                continue
            terms = released_loss_terms(model, x, im, y, loss, pos_weight=1.5, generator=gen)
        elif hand_written:
            assert train_step.applies(twin, loss, x)
            terms = train_step.train_step(twin, x, im, y, loss, pos_weight=1.5)
        else:
            logits, rows, kl = model.objective_terms(x, im, loss.rho)
            terms = loss_from_terms(logits, rows, kl, y, pos_weight=1.5, lambda_sp=0.1,
                                    lambda_path=0.05, path_metric=kw.get("path_metric", "l1"),
                                    path_pairs=2, min_batch_for_reg=kw.get("min_batch_for_reg", 2),
                                    generator=gen)  # fmt: skip
        sums += np.array([float(t.detach()) for t in terms], dtype=np.float64) * (b - a)
        steps += 1
    assert steps == (2 if released else 3)
    assert opt.calls == (["step"] if hand_written else ["zero_grad", "step"]) * steps
    want = dict(zip(["loss_total", "loss_bce", "loss_sp", "loss_path"], sums / n, strict=True))
    assert list(got) == list(want)
    assert got == pytest.approx(want, rel=1e-12, abs=0)
    assert got["loss_path"] > 0 and got["loss_sp"] > 0  # every term took part
    if hand_written:  # the last batch's gradients, written by the hand-written backward
        for (name, mine), theirs in zip(model.named_parameters(), twin.parameters(), strict=True):
            assert torch.equal(mine.grad, theirs.grad), name
            assert torch.equal(mine, theirs), name


def _unbalanced_roles() -> tuple[CohortArrays, np.ndarray]:
    """56 training subjects of whom 16 patients (pos_weight 40 / 16 = 2.5)."""
    cohort = _cohort()
    roles = _roles()
    train = np.flatnonzero(roles == "train")
    patients = train[cohort.labels[train] == 1]
    cohort.labels[patients[16:]] = 0
    return cohort, roles


def test_fit_passes_the_class_weight_batches_and_a_seeded_shuffle(monkeypatch):
    from neuropathx.training import loop

    seen = []
    real_epoch, real_eval = loop.run_epoch, loop.evaluate

    def epoch_spy(model, optimizer, data, loss, *, pos_weight, batch_size, generator):
        seen.append(("train", len(data.labels), pos_weight, batch_size, generator.initial_seed()))
        assert isinstance(optimizer, loop.FlatAdamW) and optimizer.lr == 0.03
        assert optimizer.weight_decay == 0.002
        return real_epoch(model, optimizer, data, loss, pos_weight=pos_weight,
                          batch_size=batch_size, generator=generator)  # fmt: skip

    def eval_spy(model, data, loss, pos_weight):
        seen.append(("val", len(data.labels), pos_weight, loss.rho))
        return real_eval(model, data, loss, pos_weight)

    monkeypatch.setattr(loop, "run_epoch", epoch_spy)
    monkeypatch.setattr(loop, "evaluate", eval_spy)
    cohort, roles = _unbalanced_roles()
    params = {**FAST, "epochs": 2, "patience": 5, "batch_size": 12, "weight_decay": 0.002,
              "rho": 0.03}  # fmt: skip
    res = train_fold(cohort, roles, params, seed=11, device="cpu")
    assert seen == [("train", 56, 2.5, 12, 11), ("val", 12, 2.5, 0.03)] * 2
    assert res.history["epoch"].tolist() == [1, 2]


def test_early_stopping_on_the_validation_loss():
    params = {**FAST, "epochs": 40, "patience": 4, "min_epochs": 3,
              "early_stopping_metric": "loss"}  # fmt: skip
    res = train_fold(_cohort(shift=0.5), _roles(), params, seed=2, device="cpu")
    hist = res.history
    best = res.metrics["best_epoch"]
    assert hist.val_loss.idxmin() + 1 == best  # earliest minimum of the loss, not the AUC
    assert len(hist) == max(best + 4, 3)


@pytest.mark.parametrize("epochs", [1, 3])
def test_min_epochs_and_patience_bound_the_run(monkeypatch, epochs):
    """Validation AUC best at epoch 1 then worse: the run stops at epoch
    max(1 + patience, min_epochs) exactly (or at the last epoch)."""
    from neuropathx.training import loop

    aucs = iter([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])

    def eval_stub(model, data, loss, pos_weight):
        return {"val_loss": 1.0, "val_auc": next(aucs)}

    monkeypatch.setattr(loop, "evaluate", eval_stub)
    params = {**FAST, "epochs": 8, "patience": 2, "min_epochs": 3 + epochs}
    res = train_fold(_cohort(), _roles(), params, seed=0, device="cpu")
    assert res.metrics["best_epoch"] == 1
    assert len(res.history) == 3 + epochs  # min_epochs > 1 + patience
    params = {**FAST, "epochs": 8, "patience": epochs, "min_epochs": 1}
    aucs = iter([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    res = train_fold(_cohort(), _roles(), params, seed=0, device="cpu")
    assert len(res.history) == 1 + epochs


@pytest.mark.parametrize("bad", ["train", "val"])
def test_a_non_finite_loss_stops_training_with_its_epoch(monkeypatch, bad):
    from neuropathx.training import loop

    real_epoch, real_eval, calls = loop.run_epoch, loop.evaluate, []

    def epoch_spy(*args, **kwargs):
        out = real_epoch(*args, **kwargs)
        calls.append(1)
        return {**out, "loss_total": np.nan} if bad == "train" and len(calls) == 2 else out

    def eval_spy(*args):
        out = real_eval(*args)
        return {**out, "val_loss": np.inf} if bad == "val" and len(calls) == 2 else out

    monkeypatch.setattr(loop, "run_epoch", epoch_spy)
    monkeypatch.setattr(loop, "evaluate", eval_spy)
    with pytest.raises(FloatingPointError) as err:
        train_fold(_cohort(), _roles(), {**FAST, "epochs": 4}, seed=0, device="cpu")
    assert str(err.value) == "training diverged at epoch 2 (loss not finite)"


def test_log_kernel_says_what_runs_and_why(monkeypatch, caplog):
    from neuropathx.models import backend, native_kernel
    from neuropathx.training.loop import _log_kernel

    before = backend.chosen()
    caplog.set_level("INFO", logger="neuropathx.training.loop")
    try:
        backend.use_backend("native")
        _log_kernel("native", torch.zeros(2, dtype=torch.float64))  # no kernel for float64
        backend.use_backend("eager")
        _log_kernel("eager", torch.zeros(2))
        backend.use_backend("native")
        monkeypatch.setattr(native_kernel, "load", lambda: None)
        monkeypatch.setattr(native_kernel, "build_error", lambda: "no C compiler")
        _log_kernel("native", torch.zeros(2))
    finally:
        backend.use_backend(before)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "hot loops run in PyTorch (eager) for cpu tensors"),
        ("INFO", "hot loops run with the eager kernels"),
        ("WARNING", "native kernels unavailable (no C compiler); using PyTorch (eager)"),
    ]


def test_log_kernel_with_the_c_kernels(caplog):
    from neuropathx.models import backend, native_kernel
    from neuropathx.training.loop import _log_kernel

    if native_kernel.load() is None:
        missing_tool(f"C kernels unavailable: {native_kernel.build_error()}")
    before = backend.chosen()
    caplog.set_level("INFO", logger="neuropathx.training.loop")
    try:
        backend.use_backend("native")
        _log_kernel("native", torch.zeros(2))
    finally:
        backend.use_backend(before)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "hot loops run with the native kernels")
    ]


def test_configure_speed_gives_the_threads_to_the_kernels_or_to_torch():
    from neuropathx.models import backend, native_kernel
    from neuropathx.training.loop import configure_speed

    before = (backend.chosen(), torch.get_num_threads(), native_kernel._THREADS["n"])
    try:
        configure_speed("eager", 3)
        assert (backend.chosen(), torch.get_num_threads(), native_kernel._THREADS["n"]) == (
            "eager", 3, 3)  # fmt: skip
        configure_speed()  # defaults: native, one thread
        assert (backend.chosen(), native_kernel._THREADS["n"]) == ("native", 1)
        if native_kernel.load() is not None:
            configure_speed("native", 2)  # the kernels take the threads, torch runs on one
            assert (torch.get_num_threads(), native_kernel._THREADS["n"]) == (1, 2)
    finally:
        backend.use_backend(before[0])
        torch.set_num_threads(before[1])
        native_kernel.set_threads(before[2])


def test_fold_outcome_by_hand():
    """Predictions of the used subjects in cohort order; metrics of the test part computed
    on the test rows only (sklearn for the AUC), the validation part's apart."""
    from sklearn.metrics import cohen_kappa_score, roc_auc_score

    from neuropathx.training.loop import fold_outcome

    roles = np.array(["train", "val", "test", "", "train", "test", "val", "test", "test"])
    labels = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    cohort = CohortArrays(np.array([f"s{i}" for i in range(9)]), labels, np.zeros((9, 1)),
                          ["p"], np.zeros((9, 1, 1)), ["r"], ["m"])  # fmt: skip
    masks = {part: roles == part for part in ("train", "val", "test")}
    prob = np.array([0.2, 0.7, 0.9, 0.5, 0.6, 0.4, 0.55, 0.3, 0.65])
    model = torch.nn.Linear(1, 1)
    predictions, metrics = fold_outcome(cohort, masks, prob, model, np.int64(7))
    assert predictions.columns.tolist() == ["participant_id", "split", "label", "probability"]
    assert predictions["participant_id"].tolist() == ["s0", "s1", "s2", "s4", "s5", "s6",
                                                      "s7", "s8"]  # fmt: skip
    assert predictions["split"].tolist() == ["train", "val", "test", "train", "test", "val",
                                             "test", "test"]  # fmt: skip
    assert predictions["label"].tolist() == [0, 1, 1, 1, 0, 0, 1, 0]
    assert predictions["label"].dtype.kind == "i"
    assert predictions["probability"].tolist() == [0.2, 0.7, 0.9, 0.6, 0.4, 0.55, 0.3, 0.65]
    # test rows s2, s5, s7, s8: labels 1, 0, 1, 0; predicted (>= 0.5) 1, 0, 0, 1
    test_y, test_p = [1, 0, 1, 0], [0.9, 0.4, 0.3, 0.65]
    assert metrics["accuracy"] == 0.5 and metrics["sensitivity"] == 0.5
    assert metrics["specificity"] == 0.5 and metrics["f1"] == 0.5
    assert metrics["auc"] == pytest.approx(roc_auc_score(test_y, test_p))
    assert metrics["kappa"] == pytest.approx(cohen_kappa_score(test_y, [1, 0, 0, 1]))
    assert (metrics["best_epoch"], metrics["n_train"], metrics["n_val"], metrics["n_test"]) == (
        7, 2, 2, 4)  # fmt: skip
    assert all(type(metrics[k]) is int for k in ("best_epoch", "n_train", "n_val", "n_test"))
    assert metrics["device"] == "cpu"
    # validation rows s1, s6: labels 1, 0 with 0.7, 0.55: both predicted patients
    assert metrics["validation"]["accuracy"] == 0.5 and metrics["validation"]["auc"] == 1.0
    assert list(metrics) == ["accuracy", "sensitivity", "specificity", "auc", "f1", "kappa",
                             "best_epoch", "n_train", "n_val", "n_test", "device",
                             "validation"]  # fmt: skip


@pytest.mark.parametrize("standardise", [True, False, None])
def test_prepare_fold_z_scores_with_the_training_rows_only(standardise):
    """``None``: the argument left out, which z-scores the pathway scores too."""
    from neuropathx.training import fold_masks
    from neuropathx.training.loop import prepare_fold

    cohort = _cohort()
    masks = fold_masks(cohort, _roles())
    if standardise is None:
        scaler, parts = prepare_fold(cohort, masks, torch.device("cpu"))
    else:
        scaler, parts = prepare_fold(cohort, masks, torch.device("cpu"), standardise)
    assert list(parts) == list(masks)
    train = _roles() == "train"
    g_mean, g_sd = cohort.genetics[train].mean(0), cohort.genetics[train].std(0)
    i_mean, i_sd = cohort.imaging[train].mean(0), cohort.imaging[train].std(0)
    if standardise is False:  # released training: raw pathway scores, imaging z-scored
        g_mean, g_sd = np.zeros(P), np.ones(P)
    np.testing.assert_allclose(scaler.genetics_mean, g_mean, atol=1e-12)
    np.testing.assert_allclose(scaler.genetics_sd, g_sd)
    for part, data in parts.items():
        rows = _roles() == part
        assert all(t.dtype == torch.float32 and t.device.type == "cpu" for t in data), part
        want_g = (cohort.genetics[rows] - g_mean) / g_sd
        want_i = (cohort.imaging[rows] - i_mean) / i_sd
        np.testing.assert_allclose(data.genetics.numpy(), want_g, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(data.imaging.numpy(), want_i, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(data.labels.numpy(), cohort.labels[rows])


def test_prepare_fold_puts_every_part_on_the_device():
    """The meta device stands in for a GPU: every tensor of every part lands on it."""
    from neuropathx.training import fold_masks
    from neuropathx.training.loop import prepare_fold

    cohort = _cohort()
    _, parts = prepare_fold(cohort, fold_masks(cohort, _roles()), torch.device("meta"))
    assert {t.device.type for data in parts.values() for t in data} == {"meta"}


def test_train_fold_wires_its_arguments_through(monkeypatch):
    """The registry passes ``architecture: neuropathx`` with the training keys; train_fold
    removes it before TrainingParams (which rejects unknown keys), gives its kernel and
    thread count to configure_speed, fits the covariate adjustment on the training rows,
    puts the parts and the model on the resolved device with the configured
    standardisation, and logs the kernel it was asked for."""
    from neuropathx.training import loop

    calls = {}

    def record(name, original=None):
        def wrapper(*args, **kwargs):
            calls.setdefault(name, []).append(args)
            return original(*args, **kwargs) if original else None

        return wrapper

    monkeypatch.setattr(loop, "configure_speed", record("configure_speed"))
    monkeypatch.setattr(loop, "adjust_fold", record("adjust_fold", loop.adjust_fold))
    monkeypatch.setattr(loop, "prepare_fold", record("prepare_fold", loop.prepare_fold))
    monkeypatch.setattr(loop, "_log_kernel", record("_log_kernel"))
    real_build = loop.build_model

    def build_model(*args):  # the model records where it is moved
        model = real_build(*args)
        move = model.to
        model.to = lambda *a, **k: (calls.setdefault("model.to", []).append(a), move(*a, **k))[1]
        return model

    monkeypatch.setattr(loop, "build_model", build_model)
    params = {**FAST, "epochs": 2, "architecture": "neuropathx", "standardise_genetics": False}
    with pytest.raises(ValueError, match="architecture"):
        TrainingParams.from_dict(params)
    result = train_fold(_cohort(), _roles(), params, seed=1, device="cpu", threads=3,
                        kernel="eager")  # fmt: skip
    assert len(result.history) == 2
    assert calls["configure_speed"] == [("eager", 3)]
    ((_, train_rows),) = calls["adjust_fold"]
    np.testing.assert_array_equal(train_rows, _roles() == "train")
    ((_, masks, device, standardise),) = calls["prepare_fold"]
    assert (device, standardise) == (torch.device("cpu"), False)
    np.testing.assert_array_equal(masks["test"], _roles() == "test")
    assert [c[0] for c in calls["_log_kernel"]] == ["eager"]
    assert calls["model.to"] == [(torch.device("cpu"),)]


def test_other_architectures_go_to_the_neural_trainer(monkeypatch):
    import neuropathx.training.neural as neural

    calls = []

    def fake(cohort, roles, params, *, seed, device, threads):
        calls.append((cohort, roles, params, seed, device, threads))
        return "trained elsewhere"

    monkeypatch.setattr(neural, "train_neural_fold", fake)
    cohort, roles = _cohort(), _roles()
    params = {"architecture": "gmind", "epochs": 3}
    assert train_fold(cohort, roles, params, seed=4, device="cpu", threads=2) == (
        "trained elsewhere")  # fmt: skip
    assert len(calls) == 1 and calls[0][0] is cohort and calls[0][1] is roles
    assert calls[0][2:] == (params, 4, "cpu", 2)


def test_train_fold_defaults_auto_device_one_thread_native_kernels(monkeypatch):
    from neuropathx.models import backend, native_kernel

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    before = (backend.chosen(), native_kernel._THREADS["n"], torch.get_num_threads())
    try:
        backend.use_backend("eager")
        native_kernel.set_threads(3)
        res = train_fold(_cohort(), _roles(), {**FAST, "epochs": 1}, seed=0)
        assert res.metrics["device"] == "cpu"
        assert res.params == TrainingParams.from_dict({**FAST, "epochs": 1}).to_dict()
        assert res.model_config["n_pathways"] == P and res.model_config["dropout"] == 0.0
        assert res.metrics["adjustment"] == {"enabled": False}
        assert backend.chosen() == "native" and native_kernel._THREADS["n"] == 1
        want = "native" if native_kernel.load() is not None else "eager"
        assert res.metrics["kernel"] == want
    finally:
        backend.use_backend(before[0])
        native_kernel.set_threads(before[1])
        torch.set_num_threads(before[2])


def test_fit_logs_epochs_time_and_best_validation(caplog):
    import re
    import time

    caplog.set_level("INFO", logger="neuropathx.training.loop")
    params = {**FAST, "epochs": 10, "patience": 3, "min_epochs": 1}
    start = time.perf_counter()
    res = train_fold(_cohort(), _roles(), params, seed=3, device="cpu")
    wall = time.perf_counter() - start
    (message,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("stopped")]
    match = re.fullmatch(
        r"stopped after (\d+) epochs \((\d+\.\d{3}) s each\); best epoch (\d+), "
        r"validation auc (\d\.\d{4})",
        message,
    )
    assert match, message
    epochs, each, best, auc = match.groups()
    assert int(epochs) == len(res.history) and int(best) == res.metrics["best_epoch"]
    assert 0 < float(each) * int(epochs) <= wall
    assert auc == f"{res.history.val_auc.max():.4f}"


def test_fold_result_fields():
    """fold_result called directly (the module-scoped ``trained`` fixture is computed once,
    so mutation testing would not attribute fold_result to tests that only read it)."""
    from neuropathx.models.neuropathx import NeuroPathX, NeuroPathXConfig
    from neuropathx.training.loop import fold_result
    from neuropathx.training.preprocess import Standardiser

    cohort, roles = _cohort(), _roles()
    masks = {part: roles == part for part in ("train", "val", "test")}
    torch.manual_seed(0)
    config = NeuroPathXConfig(n_pathways=P, n_regions=R, n_measures=len(MEASURES))
    model = NeuroPathX(config)
    scaler = Standardiser.fit(cohort, masks["train"])
    predictions, metrics, history = pd.DataFrame({"a": [1]}), {"auc": 0.5}, pd.DataFrame()
    attention = np.zeros((10, P, R), dtype=np.float32)
    res = fold_result(cohort, masks, model, {"lr": 0.1}, scaler, predictions, metrics, history,
                      np.int64(7), attention=attention)  # fmt: skip
    test = roles == "test"
    np.testing.assert_array_equal(res.test_subjects, cohort.subjects[test])
    np.testing.assert_array_equal(res.test_labels, cohort.labels[test])
    assert res.test_labels.dtype.kind == "i"
    assert res.pathways == [f"path{i}" for i in range(P)] and type(res.pathways) is list
    assert res.regions == [f"reg{i}" for i in range(R)] and type(res.regions) is list
    assert res.measures == MEASURES and type(res.measures) is list
    assert res.seed == 7 and type(res.seed) is int
    assert res.params == {"lr": 0.1} and res.model_config == config.to_dict()
    assert res.scaler is scaler and res.predictions is predictions and res.history is history
    assert res.metrics is metrics and res.attention is attention
    assert res.architecture == "neuropathx" and res.tables == {}
    state = model.state_dict()
    assert list(res.state_dict) == list(state)
    for key, value in res.state_dict.items():
        assert value.device.type == "cpu" and torch.equal(value, state[key]), key
        assert value.data_ptr() != state[key].data_ptr(), key  # a copy, not the live weights


def test_trained_fold_fields(trained):
    from neuropathx.models.neuropathx import NeuroPathXConfig

    assert trained.params == TrainingParams.from_dict(FAST).to_dict()
    want = NeuroPathXConfig(n_pathways=P, n_regions=R, n_measures=len(MEASURES), dropout=0.0)
    assert trained.model_config == want.to_dict()
    assert trained.metrics["adjustment"] == {"enabled": False}
    assert trained.attention.dtype == np.float32


def test_a_tied_validation_score_keeps_the_earlier_epoch(monkeypatch):
    from neuropathx.training import loop

    aucs = iter([0.7, 0.9, 0.9, 0.6, 0.5, 0.4])
    monkeypatch.setattr(loop, "evaluate", lambda *a: {"val_loss": 1.0, "val_auc": next(aucs)})
    params = {**FAST, "epochs": 6, "patience": 3, "min_epochs": 1}
    res = train_fold(_cohort(), _roles(), params, seed=0, device="cpu")
    assert res.metrics["best_epoch"] == 2 and len(res.history) == 5


def test_build_model_sizes_the_network_for_the_cohort():
    from neuropathx.training.loop import build_model

    c = _cohort()
    cohort = CohortArrays(c.subjects, c.labels, c.genetics, c.pathways, c.imaging[:, :3, :2],
                          c.regions[:3], c.measures[:2])  # fmt: skip
    model = build_model(cohort, TrainingParams.from_dict({"d_v": 5, "hidden": 7}))
    assert (model.config.n_pathways, model.config.n_regions, model.config.n_measures) == (P, 3, 2)
    assert (model.config.d_v, model.config.hidden) == (5, 7)
    assert model.key.weight.shape == (model.config.d_qk, 2)
