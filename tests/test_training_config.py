"""Training parameters (neuropathx/training/config.py): defaults, grouping, types, ranges.

Expected values are written out by hand from METHOD.md's reference values and the config
schema (schemas/config.schema.yaml), not read back from the code under test.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from neuropathx.models.neuropathx import NeuroPathXConfig
from neuropathx.training.config import (
    STOPPING_METRICS,
    LossParams,
    ModelParams,
    OptimParams,
    TrainingParams,
)

MODEL_DEFAULTS = {
    "d_q": 32, "d_qk": 32, "d_v": 8, "hidden": 24, "dropout": 0.5, "softsign_c": 0.5,
    "gamma": 1.0, "leaky_slope": 0.2, "reference_query_activation": False,
    "key_activation": False, "value_init": "default", "region_dim": 0,
}  # fmt: skip
LOSS_DEFAULTS = {
    "lambda_sp": 1e-6, "lambda_path": 1e-4, "rho": 0.01, "path_metric": "l1", "path_pairs": 0,
    "min_batch_for_reg": 2, "sp_subjects": 0, "sp_scale": 0.5, "sp_log_eps": 0.0,
    "path_scale": 1.0, "skip_single_class_batches": False,
}  # fmt: skip
OPTIM_DEFAULTS = {
    "epochs": 300, "batch_size": 128, "lr": 5e-5, "weight_decay": 1e-5, "patience": 30,
    "early_stopping_metric": "auc", "min_epochs": 10, "standardise_genetics": True,
}  # fmt: skip
ALL_DEFAULTS = {**MODEL_DEFAULTS, **LOSS_DEFAULTS, **OPTIM_DEFAULTS}


def error(params: dict) -> str:
    with pytest.raises(ValueError) as info:
        TrainingParams.from_dict(params)
    return str(info.value)


def test_defaults_are_the_reference_values_with_their_types():
    for resolved in (
        TrainingParams.from_dict({}),
        TrainingParams.from_dict(None),
        TrainingParams(),
    ):
        flat = resolved.to_dict()
        assert flat == ALL_DEFAULTS
        assert list(flat) == [*MODEL_DEFAULTS, *LOSS_DEFAULTS, *OPTIM_DEFAULTS]
        assert {k: type(v) for k, v in flat.items()} == {
            k: type(v) for k, v in ALL_DEFAULTS.items()
        }
    assert dataclasses.asdict(ModelParams()) == MODEL_DEFAULTS
    assert dataclasses.asdict(LossParams()) == LOSS_DEFAULTS
    assert dataclasses.asdict(OptimParams()) == OPTIM_DEFAULTS
    assert STOPPING_METRICS == ("auc", "loss")


def test_model_params_are_the_model_config_without_its_shape_fields():
    names = [f.name for f in dataclasses.fields(ModelParams)]
    assert names == list(MODEL_DEFAULTS)
    config = NeuroPathXConfig(n_pathways=3, n_regions=2, **dataclasses.asdict(ModelParams()))
    assert config.n_measures == 4  # the shape field keeps the model's own default
    assert ModelParams.__name__ == "ModelParams"
    assert (
        ModelParams.__doc__ == "Widths and constants of the NeuroPathX model (NeuroPathXConfig's)."
    )
    for params in (ModelParams(), LossParams(), OptimParams(), TrainingParams()):
        with pytest.raises(dataclasses.FrozenInstanceError):
            params.x = 1


def test_each_key_lands_in_its_group():
    given = {"d_q": 4, "dropout": 0.0, "lambda_sp": 0.5, "path_metric": "cosine", "epochs": 7,
             "early_stopping_metric": "loss", "skip_single_class_batches": True}  # fmt: skip
    resolved = TrainingParams.from_dict(given)
    assert (resolved.model.d_q, resolved.model.dropout) == (4, 0.0)
    assert (resolved.loss.lambda_sp, resolved.loss.path_metric) == (0.5, "cosine")
    assert resolved.loss.skip_single_class_batches is True
    assert (resolved.optim.epochs, resolved.optim.early_stopping_metric) == (7, "loss")
    assert resolved.to_dict() == {**ALL_DEFAULTS, **given}
    assert given == {"d_q": 4, "dropout": 0.0, "lambda_sp": 0.5, "path_metric": "cosine",
                     "epochs": 7, "early_stopping_metric": "loss",
                     "skip_single_class_batches": True}  # fmt: skip


def test_unknown_keys_are_named_sorted_with_the_known_ones():
    message = error({"zeta": 1, "learning_rate": 0.1, "lr": 0.1})
    assert message == (
        f"unknown training parameter(s) ['learning_rate', 'zeta']; known: {sorted(ALL_DEFAULTS)}"
    )


def test_numbers_are_converted_and_types_checked():
    resolved = TrainingParams.from_dict({"lr": 1, "gamma": 2, "weight_decay": 0})
    assert resolved.optim.lr == 1.0 and type(resolved.optim.lr) is float
    assert resolved.model.gamma == 2.0 and type(resolved.model.gamma) is float
    assert type(resolved.optim.weight_decay) is float
    assert type(TrainingParams.from_dict({"epochs": 5}).optim.epochs) is int
    assert (
        TrainingParams.from_dict({"standardise_genetics": False}).optim.standardise_genetics
        is False
    )
    bad = {
        "epochs": (2.5, "int"), "batch_size": (True, "int"), "lr": (True, "float"),
        "rho": ("0.1", "float"), "key_activation": (1, "bool"), "standardise_genetics": (0, "bool"),
        "path_metric": (1, "str"), "value_init": (None, "str"),
    }  # fmt: skip
    for key, (value, kind) in bad.items():
        assert error({key: value}) == f"training parameter {key!r} must be {kind}, got {value!r}"


POSITIVE = ["d_q", "d_qk", "d_v", "hidden", "softsign_c", "gamma", "epochs", "batch_size", "lr",
            "patience"]  # fmt: skip
NON_NEGATIVE = ["lambda_sp", "lambda_path", "weight_decay", "path_pairs", "min_epochs",
                "sp_subjects", "sp_scale", "sp_log_eps", "path_scale"]  # fmt: skip


def zero(key: str) -> int | float:
    return 0.0 if isinstance(ALL_DEFAULTS[key], float) else 0


def test_positive_keys_reject_zero_and_negatives():
    for key in POSITIVE:
        assert error({key: zero(key)}) == (
            f"invalid training parameter(s): {key} must be > 0 (got {zero(key)!r})"
        )
        assert f"{key} must be > 0" in error({key: zero(key) - 1})
    smallest = {k: (1e-9 if isinstance(ALL_DEFAULTS[k], float) else 1) for k in POSITIVE}
    assert TrainingParams.from_dict(smallest).to_dict() == {**ALL_DEFAULTS, **smallest}


def test_non_negative_keys_take_zero_and_reject_negatives():
    zeros = {key: zero(key) for key in NON_NEGATIVE}
    assert TrainingParams.from_dict(zeros).to_dict() == {**ALL_DEFAULTS, **zeros}
    for key in NON_NEGATIVE:
        minus = zero(key) - 1
        assert error({key: minus}) == (
            f"invalid training parameter(s): {key} must be >= 0 (got {minus!r})"
        )


def test_interval_and_choice_keys():
    prefix = "invalid training parameter(s): "
    for ok in (0.0, 0.999):
        assert TrainingParams.from_dict({"dropout": ok}).model.dropout == ok
    for bad in (1.0, -0.1, 1.5):
        assert error({"dropout": bad}) == f"{prefix}dropout must be in [0, 1) (got {bad!r})"
    assert TrainingParams.from_dict({"rho": 0.999}).loss.rho == 0.999
    assert TrainingParams.from_dict({"rho": 1e-9}).loss.rho == 1e-9
    for bad in (0.0, 1.0, -0.5, 2.0):
        assert error({"rho": bad}) == f"{prefix}rho must be in (0, 1) (got {bad!r})"
    for metric in ("l1", "l2", "cosine"):
        assert TrainingParams.from_dict({"path_metric": metric}).loss.path_metric == metric
    assert error({"path_metric": "l3"}) == (
        f"{prefix}path_metric must be one of ('l1', 'l2', 'cosine')"
    )
    for metric in ("auc", "loss"):
        params = TrainingParams.from_dict({"early_stopping_metric": metric})
        assert params.optim.early_stopping_metric == metric
    assert error({"early_stopping_metric": "AUC"}) == (
        f"{prefix}early_stopping_metric must be one of ('auc', 'loss')"
    )
    assert TrainingParams.from_dict({"min_batch_for_reg": 2}).loss.min_batch_for_reg == 2
    assert error({"min_batch_for_reg": 1}) == f"{prefix}min_batch_for_reg must be >= 2 (got 1)"


def test_every_problem_is_reported_in_order():
    message = error({"d_q": 0, "lr": -1.0, "lambda_sp": -1.0, "dropout": 1.0, "rho": 0.0,
                     "path_metric": "x", "early_stopping_metric": "x",
                     "min_batch_for_reg": 0})  # fmt: skip
    assert message == "invalid training parameter(s): " + "; ".join([
        "d_q must be > 0 (got 0)", "lr must be > 0 (got -1.0)", "lambda_sp must be >= 0 (got -1.0)",
        "dropout must be in [0, 1) (got 1.0)", "rho must be in (0, 1) (got 0.0)",
        "path_metric must be one of ('l1', 'l2', 'cosine')",
        "early_stopping_metric must be one of ('auc', 'loss')",
        "min_batch_for_reg must be >= 2 (got 0)",
    ])  # fmt: skip
    assert re.fullmatch(r"invalid training parameter\(s\): .*", message)


def test_released_style_is_on_when_any_released_loss_switch_is():
    assert LossParams().released_style is False
    assert (
        TrainingParams.from_dict({"lambda_sp": 0.0, "path_pairs": 3}).loss.released_style is False
    )
    assert LossParams(skip_single_class_batches=True, min_batch_for_reg=20).released_style is False
    for switch in ({"sp_subjects": 2}, {"sp_scale": 1.0}, {"sp_scale": 0.0},
                   {"sp_log_eps": 1e-10}, {"path_scale": 0.1}, {"path_scale": 0.0}):  # fmt: skip
        assert TrainingParams.from_dict(switch).loss.released_style is True, switch
