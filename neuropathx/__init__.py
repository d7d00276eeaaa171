"""NeuroPathX: explainable imaging-genetics with pathway-guided cross-attention."""

__version__ = "0.1.0"
