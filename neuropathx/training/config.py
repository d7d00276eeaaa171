"""Training parameters: one flat dict from the config, checked and split into dataclasses.

The defaults equal the config schema's defaults (METHOD.md reference values).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, make_dataclass

from neuropathx.models.losses import PATH_METRICS
from neuropathx.models.neuropathx import NeuroPathXConfig

STOPPING_METRICS = ("auc", "loss")


# The model's width and constant settings, with their defaults, are NeuroPathXConfig's own
# fields (one definition); only the data-dependent shape fields are left out.
_SHAPE_FIELDS = ("n_pathways", "n_regions", "n_measures")
ModelParams = make_dataclass(
    "ModelParams",
    [(f.name, f.type, field(default=f.default))
     for f in fields(NeuroPathXConfig) if f.name not in _SHAPE_FIELDS],
    frozen=True,
)  # fmt: skip
ModelParams.__doc__ = "Widths and constants of the NeuroPathX model (NeuroPathXConfig's)."


@dataclass(frozen=True)
class LossParams:
    """Weights and options of the sparsity and pathway-similarity regularisers."""

    lambda_sp: float = 1e-6
    lambda_path: float = 1e-4
    rho: float = 0.01
    path_metric: str = "l1"
    path_pairs: int = 0
    min_batch_for_reg: int = 2
    # released-code switches (config/replication.yaml); defaults = METHOD.md's behaviour
    sp_subjects: int = 0  # subjects the sparsity term is computed on (0 = all; released 2)
    sp_scale: float = 0.5  # factor on each subject's summed KL (released 1.0)
    sp_log_eps: float = 0.0  # 0: clamp inside the logs; released log(x + 1e-10)
    path_scale: float = 1.0  # factor on the pathway term (released 0.1, of 1 pair)
    skip_single_class_batches: bool = False  # released: no step on a one-class batch

    @property
    def released_style(self) -> bool:
        """Whether any released-code loss switch is on (then the loop takes the
        full-attention path of ``training.replication``)."""
        switches = (self.sp_subjects, self.sp_scale, self.sp_log_eps, self.path_scale)
        return switches != (0, 0.5, 0.0, 1.0)


@dataclass(frozen=True)
class OptimParams:
    """Optimiser, batching and early-stopping settings."""

    epochs: int = 300
    batch_size: int = 128
    lr: float = 5e-5
    weight_decay: float = 1e-5
    patience: int = 30
    early_stopping_metric: str = "auc"
    min_epochs: int = 10
    standardise_genetics: bool = True  # released: raw pathway scores into the shared BN


@dataclass(frozen=True)
class TrainingParams:
    """All training parameters of one fold."""

    model: ModelParams = ModelParams()
    loss: LossParams = LossParams()
    optim: OptimParams = OptimParams()

    @classmethod
    def from_dict(cls, params: dict | None) -> TrainingParams:
        """Resolve a flat parameter dict (missing keys take defaults; unknown keys fail)."""
        params = dict(params or {})
        groups = {ModelParams: {}, LossParams: {}, OptimParams: {}}
        known = {f.name: group for group in groups for f in fields(group)}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(f"unknown training parameter(s) {unknown}; known: {sorted(known)}")
        for key, value in params.items():
            group = known[key]
            groups[group][key] = _checked(key, value, type(getattr(group(), key)))
        resolved = cls(*(group(**kw) for group, kw in groups.items()))
        resolved._check_ranges()
        return resolved

    def to_dict(self) -> dict:
        """The flat dict of every parameter (the resolved config written with the model)."""
        return {**asdict(self.model), **asdict(self.loss), **asdict(self.optim)}

    def _check_ranges(self) -> None:
        flat = self.to_dict()
        positive = ["d_q", "d_qk", "d_v", "hidden", "softsign_c", "gamma", "epochs"]
        positive += ["batch_size", "lr", "patience"]
        problems = [f"{k} must be > 0 (got {flat[k]!r})" for k in positive if not flat[k] > 0]
        non_negative = ["lambda_sp", "lambda_path", "weight_decay", "path_pairs", "min_epochs"]
        non_negative += ["sp_subjects", "sp_scale", "sp_log_eps", "path_scale", "region_dim"]
        problems += [f"{k} must be >= 0 (got {flat[k]!r})" for k in non_negative if flat[k] < 0]
        if not 0 <= self.model.dropout < 1:
            problems.append(f"dropout must be in [0, 1) (got {self.model.dropout!r})")
        if not 0 < self.loss.rho < 1:
            problems.append(f"rho must be in (0, 1) (got {self.loss.rho!r})")
        if self.loss.path_metric not in PATH_METRICS:
            problems.append(f"path_metric must be one of {PATH_METRICS}")
        if self.optim.early_stopping_metric not in STOPPING_METRICS:
            problems.append(f"early_stopping_metric must be one of {STOPPING_METRICS}")
        if self.loss.min_batch_for_reg < 2:
            problems.append(f"min_batch_for_reg must be >= 2 (got {self.loss.min_batch_for_reg})")
        if problems:
            raise ValueError("invalid training parameter(s): " + "; ".join(problems))


def _checked(key: str, value: object, kind: type) -> object:
    """``value`` converted to the parameter's type, or a ValueError naming the key."""
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ValueError(f"training parameter {key!r} must be {kind.__name__}, got {value!r}")
    return value
