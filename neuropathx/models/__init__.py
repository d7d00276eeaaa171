"""models stage of the NeuroPathX pipeline."""

from neuropathx.models.losses import (
    LossTerms,
    classification_loss,
    neuropathx_loss,
    pathway_similarity_loss,
    sparsity_loss,
)
from neuropathx.models.neuropathx import NeuroPathX, NeuroPathXConfig

__all__ = [
    "LossTerms",
    "NeuroPathX",
    "NeuroPathXConfig",
    "classification_loss",
    "neuropathx_loss",
    "pathway_similarity_loss",
    "sparsity_loss",
]
