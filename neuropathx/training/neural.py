"""Per-fold training of the neural baselines (G-MIND, SurvPATH) with NeuroPathX's protocol.

Same folds, standardisation, seeding, AdamW, early stopping on the validation part, device
handling and outputs as ``training.loop``; only the model and its loss differ
(``models.registry``). NeuroPathX itself keeps its fused path in ``training.loop``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, fields

import numpy as np
import pandas as pd
import torch

from neuropathx.adjust import adjust_fold
from neuropathx.cohort import CohortArrays
from neuropathx.metrics import rank_auc
from neuropathx.models import registry
from neuropathx.training.config import OptimParams, _checked
from neuropathx.training.loop import (
    EVAL_CHUNK,
    FoldData,
    FoldResult,
    batch_slices,
    deterministic_algorithms,
    fold_outcome,
    fold_result,
    make_optimizer,
    prepare_fold,
    resolve_device,
    set_seed,
)
from neuropathx.training.preprocess import fold_masks

LOG = logging.getLogger(__name__)
SHAPE_FIELDS = ("n_pathways", "n_regions", "n_measures")


def split_params(architecture: str, params: dict) -> tuple[dict, OptimParams]:
    """The model's own settings and the optimiser settings; unknown keys are an error."""
    config_class, _ = registry.ARCHITECTURES[architecture]
    model_keys = {f.name: f for f in fields(config_class) if f.name not in SHAPE_FIELDS}
    optim_keys = {f.name for f in fields(OptimParams)}
    model, optim = {}, {}
    for key, value in params.items():
        if key == "architecture":
            continue
        if key in model_keys:
            default = model_keys[key].default
            model[key] = _checked(key, value, type(default))
        elif key in optim_keys:
            optim[key] = _checked(key, value, type(getattr(OptimParams(), key)))
        else:
            known = sorted(set(model_keys) | optim_keys)
            raise ValueError(f"unknown {architecture} parameter {key!r}; known: {known}")
    return model, OptimParams(**optim)


def train_neural_fold(
    cohort: CohortArrays,
    roles: np.ndarray,
    params: dict,
    *,
    seed: int,
    device: str = "auto",
    threads: int = 1,
) -> FoldResult:
    """Train the ``params["architecture"]`` model on one fold; evaluate it once on test."""
    architecture = params["architecture"]
    model_params, optim = split_params(architecture, params)
    masks = fold_masks(cohort, roles)
    torch.set_num_threads(threads)
    dev = resolve_device(device)
    with deterministic_algorithms(dev):
        set_seed(seed)
        cohort, adjustment = adjust_fold(cohort, masks["train"])  # covariates, site: train rows
        scaler, parts = prepare_fold(cohort, masks, dev, optim.standardise_genetics)
        shapes = {
            "n_pathways": len(cohort.pathways),
            "n_regions": len(cohort.regions),
            "n_measures": len(cohort.measures),
        }
        model = registry.build(architecture, **shapes, **model_params).to(dev)
        best_state, best_epoch, history = fit(model, parts, optim, seed)
        model.load_state_dict(best_state)
        result = _finish(cohort, masks, parts, model, optim, scaler, best_epoch, history, seed)
        result.architecture = result.metrics["architecture"] = architecture
        result.metrics["adjustment"] = adjustment
        result.params = {"architecture": architecture, **asdict(optim)}
        return result


def _pos_weight(labels: torch.Tensor) -> float:
    n_pat = float(labels.sum())
    return (len(labels) - n_pat) / n_pat


def fit(model, parts: dict[str, FoldData], optim: OptimParams, seed: int):
    """Epoch loop with early stopping on validation; the best state, its epoch, history."""
    optimizer = make_optimizer(model, optim.lr, optim.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    train = parts["train"]
    pos_weight = _pos_weight(train.labels)
    columns = ["epoch", "loss_total", "loss_bce", *model.term_names, "val_loss", "val_auc"]
    best_score, best_epoch, best_state, history = -np.inf, 0, None, []
    start = time.perf_counter()
    for epoch in range(1, optim.epochs + 1):
        model.train()
        n = len(train.labels)
        order = torch.randperm(n, generator=generator).to(train.labels.device)
        shuffled = FoldData(*(t.index_select(0, order) for t in train))
        sums = torch.zeros(2 + len(model.term_names), dtype=torch.float64)
        for part in batch_slices(n, optim.batch_size):
            total, bce, extra = model.loss_terms(
                shuffled.genetics[part], shuffled.imaging[part], shuffled.labels[part], pos_weight
            )
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            terms = torch.cat([total.detach()[None], bce.detach()[None], extra.detach()])
            sums += terms.double().cpu() * (part.stop - part.start)
        val = evaluate(model, parts["val"], pos_weight)
        row = dict(zip(columns[1:-2], (sums / n).tolist(), strict=True))
        history.append({"epoch": epoch, **row, **val})
        if not np.isfinite(row["loss_total"]) or not np.isfinite(val["val_loss"]):
            raise FloatingPointError(f"training diverged at epoch {epoch} (loss not finite)")
        score = val["val_auc"] if optim.early_stopping_metric == "auc" else -val["val_loss"]
        if score > best_score:
            best_score, best_epoch = score, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if epoch >= optim.min_epochs and epoch - best_epoch >= optim.patience:
            break
    LOG.info(
        "%s: stopped after %d epochs (%.3f s each); best epoch %d",
        type(model).__name__, epoch, (time.perf_counter() - start) / epoch, best_epoch,
    )  # fmt: skip
    return best_state, best_epoch, pd.DataFrame(history, columns=columns)


@torch.inference_mode()
def predict(model, genetics: torch.Tensor, imaging: torch.Tensor):
    """Logits (N,) and attention (N, P, R) or None, evaluation mode, in chunks."""
    model.eval()
    outs = [
        model(genetics[i : i + EVAL_CHUNK], imaging[i : i + EVAL_CHUNK])
        for i in range(0, len(genetics), EVAL_CHUNK)
    ]
    logits = torch.cat([o[0] for o in outs])
    attention = None if outs[0][1] is None else torch.cat([o[1] for o in outs])
    return logits, attention


@torch.inference_mode()
def evaluate(model, data: FoldData, pos_weight: float) -> dict[str, float]:
    """Validation loss (the model's objective) and AUC."""
    model.eval()
    total, _, _ = model.loss_terms(data.genetics, data.imaging, data.labels, pos_weight)
    logits, _ = predict(model, data.genetics, data.imaging)
    y = data.labels.cpu().numpy()
    return {"val_loss": float(total), "val_auc": rank_auc(y, logits.cpu().numpy())}


def _finish(cohort, masks, parts, model, optim, scaler, best_epoch, history, seed) -> FoldResult:
    """Predictions of every used subject, test metrics once, attention / importance tables."""
    prob = np.empty(len(cohort.subjects))
    attention = None
    for part, data in parts.items():
        logits, att = predict(model, data.genetics, data.imaging)
        prob[masks[part]] = torch.sigmoid(logits).double().cpu().numpy()
        if part == "test" and att is not None:
            attention = att.float().cpu().numpy()
    predictions, metrics = fold_outcome(cohort, masks, prob, model, best_epoch)
    metrics["kernel"] = "eager"
    tables = {}
    if hasattr(model, "feature_importance"):
        importance = model.feature_importance(cohort.pathways, cohort.imaging_columns)
        tables["feature_importance"] = pd.DataFrame(importance)
    return fold_result(
        cohort, masks, model, asdict(optim), scaler, predictions, metrics, history, seed,
        attention=attention, tables=tables,
    )  # fmt: skip
