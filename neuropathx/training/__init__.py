"""Per-fold NeuroPathX training: parameters, standardisation, training loop, outputs."""

from neuropathx.training.config import LossParams, ModelParams, OptimParams, TrainingParams
from neuropathx.training.loop import (
    FoldData,
    FoldResult,
    evaluate,
    predict,
    resolve_device,
    run_epoch,
    set_seed,
    train_fold,
)
from neuropathx.training.outputs import (
    FOLD_FILES,
    load_checkpoint,
    predict_cohort,
    write_fold_outputs,
)
from neuropathx.training.preprocess import Standardiser, fold_masks

__all__ = [
    "FOLD_FILES",
    "FoldData",
    "FoldResult",
    "LossParams",
    "ModelParams",
    "OptimParams",
    "Standardiser",
    "TrainingParams",
    "evaluate",
    "fold_masks",
    "load_checkpoint",
    "predict",
    "predict_cohort",
    "resolve_device",
    "run_epoch",
    "set_seed",
    "train_fold",
    "write_fold_outputs",
]
