"""Per-fold training: AdamW, early stopping on the validation set, one final test pass."""

from __future__ import annotations

import logging
import os
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
import torch.utils.deterministic

from neuropathx.adjust import adjust_fold
from neuropathx.cohort import CohortArrays
from neuropathx.metrics import binary_metrics, rank_auc
from neuropathx.models import native_kernel, train_step
from neuropathx.models.attention_core import retain_freed_memory
from neuropathx.models.backend import backend_for, use_backend
from neuropathx.models.losses import loss_from_terms
from neuropathx.models.neuropathx import NeuroPathX, NeuroPathXConfig
from neuropathx.training.config import LossParams, TrainingParams
from neuropathx.training.optim import FlatAdamW
from neuropathx.training.preprocess import Standardiser, fold_masks
from neuropathx.training.replication import keep_raw_genetics, released_loss_terms, skip_batch

LOG = logging.getLogger(__name__)
EVAL_CHUNK = 4096  # subjects per forward pass when evaluating
HISTORY_COLUMNS = ["epoch", "loss_total", "loss_bce", "loss_sp", "loss_path", "val_loss", "val_auc"]


class FoldData(NamedTuple):
    """Standardised tensors of one part of a fold, on the training device."""

    genetics: torch.Tensor  # (N, P) float32
    imaging: torch.Tensor  # (N, R, F) float32
    labels: torch.Tensor  # (N,) float32, 1 = patient


@dataclass
class FoldResult:
    """Everything one trained fold produces (written by ``write_fold_outputs``)."""

    state_dict: dict[str, torch.Tensor]
    model_config: dict
    params: dict
    scaler: Standardiser
    predictions: pd.DataFrame  # participant_id, split, label, probability
    metrics: dict
    history: pd.DataFrame
    attention: np.ndarray | None  # (n_test, P, R) float32, test subjects in cohort order
    test_subjects: np.ndarray
    test_labels: np.ndarray
    pathways: list[str]
    regions: list[str]
    measures: list[str]
    seed: int
    architecture: str = "neuropathx"
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # extra <name>.tsv files


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA) once per fold."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (legacy global RNG, for third-party code)
    torch.manual_seed(seed)


def resolve_device(device: str) -> torch.device:
    """``auto`` → cuda if available, else cpu; asking for cuda without one is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but no CUDA device is available")
        return torch.device(device)
    if device == "cpu":
        return torch.device("cpu")
    raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}")


@contextmanager
def deterministic_algorithms(device: torch.device):
    """Use deterministic kernels inside the block, restoring the previous setting after.

    Only CUDA needs the switch: the CPU kernels used here are deterministic for a fixed
    thread count (tests/test_training.py checks it), and the switch costs seconds of imports
    in every training job.
    """
    if device.type != "cuda":
        yield
        return
    before = torch.are_deterministic_algorithms_enabled()
    fill_before = torch.utils.deterministic.fill_uninitialized_memory
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    # filling every new tensor with NaN costs a third of an epoch and adds no determinism
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before)
        torch.utils.deterministic.fill_uninitialized_memory = fill_before


def batch_slices(n: int, batch_size: int) -> list[slice]:
    """Consecutive batches; a last batch of one subject joins the previous one (BatchNorm)."""
    bounds = list(range(0, n, batch_size)) + [n]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
        del bounds[-2]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def run_epoch(
    model: NeuroPathX,
    optimizer: FlatAdamW,
    data: FoldData,
    loss: LossParams,
    *,
    pos_weight: float,
    batch_size: int,
    generator: torch.Generator,
) -> dict[str, float]:
    """One pass over shuffled training data; returns subject-weighted mean loss terms."""
    model.train()
    n = len(data.labels)
    order = torch.randperm(n, generator=generator).to(data.labels.device)
    shuffled = FoldData(*(t.index_select(0, order) for t in data))  # batches are then views
    sums = torch.zeros(4, dtype=torch.float64, device=data.labels.device)
    for part in batch_slices(n, batch_size):
        labels = shuffled.labels[part]
        if skip_batch(loss, labels):  # released training: no step on a one-class batch
            continue
        if loss.released_style:
            terms = released_loss_terms(
                model, shuffled.genetics[part], shuffled.imaging[part], labels, loss,
                pos_weight=pos_weight, generator=generator,
            )  # fmt: skip
            optimizer.zero_grad()
            terms.total.backward()
            optimizer.step()
            sums += torch.stack([t.detach() for t in terms]).double() * len(labels)
            continue
        genetics, imaging = shuffled.genetics[part], shuffled.imaging[part]
        if train_step.applies(model, loss, genetics):  # hand-written backward, same bits
            terms = train_step.train_step(
                model, genetics, imaging, labels, loss, pos_weight=pos_weight
            )
            optimizer.step()
            sums += torch.stack(terms).double() * len(labels)
            continue
        logits, rows, kl_sum = model.objective_terms(genetics, imaging, loss.rho)
        terms = loss_from_terms(
            logits,
            rows,
            kl_sum,
            labels,
            pos_weight=pos_weight,
            lambda_sp=loss.lambda_sp,
            lambda_path=loss.lambda_path,
            path_metric=loss.path_metric,
            path_pairs=loss.path_pairs,
            min_batch_for_reg=loss.min_batch_for_reg,
            generator=generator,
        )
        optimizer.zero_grad()
        terms.total.backward()
        optimizer.step()
        sums += torch.stack([t.detach() for t in terms]).double() * len(labels)
    means = (sums / n).tolist()  # one device sync per epoch
    return dict(zip(["loss_total", "loss_bce", "loss_sp", "loss_path"], means, strict=True))


@torch.inference_mode()
def predict(
    model: NeuroPathX, genetics: torch.Tensor, imaging: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (N,) and attention (N, P, R) in evaluation mode, in chunks."""
    model.eval()
    starts = range(0, len(genetics), EVAL_CHUNK)
    outs = [model(genetics[i : i + EVAL_CHUNK], imaging[i : i + EVAL_CHUNK]) for i in starts]
    return torch.cat([o[0] for o in outs]), torch.cat([o[1] for o in outs])


@torch.inference_mode()
def evaluate(
    model: NeuroPathX, data: FoldData, loss: LossParams, pos_weight: float
) -> dict[str, float]:
    """Validation loss (same objective, all pairs) and AUC of one part."""
    model.eval()
    starts = range(0, len(data.labels), EVAL_CHUNK)
    chunks = [
        model.objective_terms(
            data.genetics[i : i + EVAL_CHUNK], data.imaging[i : i + EVAL_CHUNK], loss.rho
        )
        for i in starts
    ]
    logits = torch.cat([c[0] for c in chunks])
    terms = loss_from_terms(
        logits,
        torch.cat([c[1] for c in chunks]),
        sum(c[2] for c in chunks),
        data.labels,
        pos_weight=pos_weight,
        lambda_sp=loss.lambda_sp,
        lambda_path=loss.lambda_path,
        path_metric=loss.path_metric,
        path_pairs=0,
        min_batch_for_reg=loss.min_batch_for_reg,
    )
    y = data.labels.cpu().numpy()
    return {"val_loss": float(terms.total), "val_auc": rank_auc(y, logits.cpu().numpy())}


def prepare_fold(
    cohort: CohortArrays,
    masks: dict[str, np.ndarray],
    device: torch.device,
    standardise_genetics: bool = True,
) -> tuple[Standardiser, dict[str, FoldData]]:
    """Fit the standardiser on training rows and move every part to ``device``
    (``standardise_genetics=False``: raw pathway scores, as the released training)."""
    scaler = Standardiser.fit(cohort, masks["train"])
    if not standardise_genetics:
        scaler = keep_raw_genetics(scaler)
    parts = {}
    for part, mask in masks.items():
        genetics, imaging = scaler.transform(cohort.genetics[mask], cohort.imaging[mask])
        parts[part] = FoldData(
            torch.as_tensor(genetics, dtype=torch.float32, device=device),
            torch.as_tensor(imaging, dtype=torch.float32, device=device),
            torch.as_tensor(cohort.labels[mask], dtype=torch.float32, device=device),
        )
    return scaler, parts


def build_model(cohort: CohortArrays, params: TrainingParams) -> NeuroPathX:
    """A fresh NeuroPathX sized for ``cohort`` with the configured widths."""
    config = NeuroPathXConfig(
        n_pathways=len(cohort.pathways),
        n_regions=len(cohort.regions),
        n_measures=len(cohort.measures),
        **params.model.__dict__,
    )
    return NeuroPathX(config)


def train_fold(
    cohort: CohortArrays,
    roles: np.ndarray,
    params: dict,
    *,
    seed: int,
    device: str = "auto",
    threads: int = 1,
    kernel: str = "native",
) -> FoldResult:
    """Train NeuroPathX on one fold and evaluate it once on the fold's test subjects.

    ``roles`` holds one of "train", "val", "test" or "" (unused) per cohort subject.
    ``kernel``: how the hot loops run (``models.backend``: native, compile or eager).
    """
    if (params or {}).get("architecture", "neuropathx") != "neuropathx":
        from neuropathx.training.neural import train_neural_fold  # other neural models

        return train_neural_fold(cohort, roles, params, seed=seed, device=device, threads=threads)
    resolved = TrainingParams.from_dict(
        {k: v for k, v in (params or {}).items() if k != "architecture"}
    )
    masks = fold_masks(cohort, roles)
    configure_speed(kernel, threads)
    dev = resolve_device(device)
    with deterministic_algorithms(dev):
        set_seed(seed)
        cohort, adjustment = adjust_fold(cohort, masks["train"])  # covariates, site: train rows
        scaler, parts = prepare_fold(cohort, masks, dev, resolved.optim.standardise_genetics)
        _log_kernel(kernel, parts["train"].genetics)
        model = build_model(cohort, resolved).to(dev)
        best_state, best_epoch, history = _fit(model, parts, resolved, seed)
        model.load_state_dict(best_state)
        result = _finish(cohort, masks, parts, model, resolved, scaler, best_epoch, history, seed)
        result.metrics["adjustment"] = adjustment
        return result


def _log_kernel(kernel: str, sample: torch.Tensor) -> None:
    """Say which implementation runs, and why ``native`` fell back to PyTorch if it did."""
    used = backend_for(sample)
    if kernel == "native" and used != "native" and native_kernel.load() is None:
        LOG.warning(
            "native kernels unavailable (%s); using PyTorch (%s)", native_kernel.build_error(), used
        )
    elif kernel == "native" and used != "native":  # GPU or non-float32 tensors: expected
        LOG.info("hot loops run in PyTorch (%s) for %s tensors", used, sample.device.type)
    else:
        LOG.info("hot loops run with the %s kernels", used)


def make_optimizer(model: NeuroPathX, lr: float, weight_decay: float) -> FlatAdamW:
    """AdamW over flat parameter and gradient buffers (``training.optim``)."""
    return FlatAdamW(model, lr=lr, weight_decay=weight_decay)


def configure_speed(backend: str = "native", threads: int = 1) -> None:
    """Keep freed buffers for reuse, choose how the hot loops run (``models.backend``:
    ``native`` C kernels, ``compile`` or ``eager`` PyTorch) and spread ``threads``.

    With working native kernels the threads go to them (each batch split by subject, same
    bits for any count) and PyTorch runs on one: its operations here are too small to gain
    from threads, and its idle OpenMP workers would compete with the kernels for the cores.
    Results agree across backends to floating-point rounding.
    """
    retain_freed_memory()
    use_backend(backend)
    native = backend == "native" and native_kernel.load() is not None
    native_kernel.set_threads(threads)
    torch.set_num_threads(1 if native else threads)


def _fit(model: NeuroPathX, parts: dict[str, FoldData], params: TrainingParams, seed: int):
    """Epoch loop with early stopping; returns the best state, its epoch and the history."""
    opt = params.optim
    optimizer = make_optimizer(model, opt.lr, opt.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    y = parts["train"].labels
    n_pat = float(y.sum())
    pos_weight = (len(y) - n_pat) / n_pat
    best_score, best_epoch, best_state, history = -np.inf, 0, None, []
    start = time.perf_counter()
    for epoch in range(1, opt.epochs + 1):
        train = run_epoch(
            model,
            optimizer,
            parts["train"],
            params.loss,
            pos_weight=pos_weight,
            batch_size=opt.batch_size,
            generator=generator,
        )
        val = evaluate(model, parts["val"], params.loss, pos_weight)
        history.append({"epoch": epoch, **train, **val})
        score = val["val_auc"] if opt.early_stopping_metric == "auc" else -val["val_loss"]
        if not np.isfinite(train["loss_total"]) or not np.isfinite(val["val_loss"]):
            raise FloatingPointError(f"training diverged at epoch {epoch} (loss not finite)")
        if score > best_score:
            best_score, best_epoch = score, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if epoch >= opt.min_epochs and epoch - best_epoch >= opt.patience:
            break
    LOG.info(
        "stopped after %d epochs (%.3f s each); best epoch %d, validation %s %.4f",
        epoch, (time.perf_counter() - start) / epoch, best_epoch, opt.early_stopping_metric,
        abs(best_score),
    )  # fmt: skip
    return best_state, best_epoch, pd.DataFrame(history, columns=HISTORY_COLUMNS)


def fold_outcome(cohort, masks, prob, model, best_epoch) -> tuple[pd.DataFrame, dict]:
    """Predictions of every used subject (``prob``: one per cohort subject) and the fold's
    metrics: test metrics computed once, validation metrics, sizes and the device."""
    used = masks["train"] | masks["val"] | masks["test"]
    split = np.where(masks["train"], "train", np.where(masks["val"], "val", "test"))
    predictions = pd.DataFrame(
        {
            "participant_id": cohort.subjects[used],
            "split": split[used],
            "label": cohort.labels[used].astype(int),
            "probability": prob[used],
        }
    )
    test_y, val_y = cohort.labels[masks["test"]], cohort.labels[masks["val"]]
    metrics = {
        **binary_metrics(test_y, prob[masks["test"]]),
        "best_epoch": int(best_epoch),
        "n_train": int(masks["train"].sum()),
        "n_val": int(masks["val"].sum()),
        "n_test": int(masks["test"].sum()),
        "device": next(model.parameters()).device.type,  # what "auto" resolved to
        "validation": binary_metrics(val_y, prob[masks["val"]]),
    }
    return predictions, metrics


def fold_result(
    cohort, masks, model, params: dict, scaler, predictions, metrics, history, seed, **extra
) -> FoldResult:
    """The FoldResult of a trained model: its weights and config, the fold's tables and the
    names of its subjects and features (``extra``: attention, tables)."""
    return FoldResult(
        state_dict={k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        model_config=model.config.to_dict(),
        params=params,
        scaler=scaler,
        predictions=predictions,
        metrics=metrics,
        history=history,
        test_subjects=cohort.subjects[masks["test"]],
        test_labels=cohort.labels[masks["test"]].astype(int),
        pathways=list(cohort.pathways),
        regions=list(cohort.regions),
        measures=list(cohort.measures),
        seed=int(seed),
        **extra,
    )


def _finish(cohort, masks, parts, model, params, scaler, best_epoch, history, seed) -> FoldResult:
    """Predict every used subject with the restored best model; test metrics computed once."""
    probs, attention = {}, None
    for part, data in parts.items():
        logits, att = predict(model, data.genetics, data.imaging)
        probs[part] = torch.sigmoid(logits).double().cpu().numpy()
        if part == "test":
            attention = att.float().cpu().numpy()
    prob = np.empty(len(cohort.subjects))
    for part, mask in masks.items():
        prob[mask] = probs[part]
    predictions, metrics = fold_outcome(cohort, masks, prob, model, best_epoch)
    metrics["kernel"] = backend_for(parts["train"].genetics)  # what ran the hot loops
    return fold_result(
        cohort, masks, model, params.to_dict(), scaler, predictions, metrics, history, seed,
        attention=attention,
    )  # fmt: skip
