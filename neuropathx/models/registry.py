"""Neural architectures a ``models:`` variant can name with ``architecture:``.

``neuropathx`` is trained by ``training.loop`` (fused kernels); the others implement
``forward(genetics, imaging) -> (logits, attention (B, P, R) or None)`` and
``loss_terms(genetics, imaging, labels, pos_weight) -> (total, bce, extra terms)`` and are
trained by ``training.neural`` with the same folds, early stopping and outputs.
"""

from __future__ import annotations

from neuropathx.models.gmind import GMind, GMindConfig
from neuropathx.models.survpath import SurvPath, SurvPathConfig

ARCHITECTURES = {"gmind": (GMindConfig, GMind), "survpath": (SurvPathConfig, SurvPath)}
ALL_ARCHITECTURES = ("neuropathx", *ARCHITECTURES)


def build(architecture: str, **config):
    """A fresh model of ``architecture`` with ``config`` (shape fields included)."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ALL_ARCHITECTURES}, got {architecture!r}")
    config_class, model_class = ARCHITECTURES[architecture]
    return model_class(config_class(**config))
