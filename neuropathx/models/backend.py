"""Which implementation runs the model's hot loops: ``native``, ``compile`` or ``eager``.

* ``native`` (default): the C kernels of ``csrc/`` (attention terms, pathway queries, the
  all-pairs L1 loss) on CPU float32 tensors; elsewhere, or without a C compiler, the
  PyTorch code runs instead (:func:`native_for`).
* ``compile``: the attention passes through ``torch.compile`` (needs a C++ compiler on CPU,
  Triton on GPU).
* ``eager``: plain PyTorch.

All three compute the same maths; results agree to floating-point rounding.
"""

from __future__ import annotations

import torch

from neuropathx.models import native_kernel

BACKENDS = ("native", "compile", "eager")
_STATE = {"backend": "native"}


def use_backend(name: str) -> None:
    """Choose the implementation for the whole process."""
    if name not in BACKENDS:
        raise ValueError(f"attention backend must be one of {BACKENDS}, got {name!r}")
    _STATE["backend"] = name


def chosen() -> str:
    """The backend asked for with :func:`use_backend`."""
    return _STATE["backend"]


def native_for(*tensors: torch.Tensor) -> bool:
    """True when ``native`` is chosen and the C kernels can take these tensors."""
    return _STATE["backend"] == "native" and native_kernel.supports(*tensors)


def backend_for(*tensors: torch.Tensor) -> str:
    """The backend that runs for these tensors (``native`` falls back to ``eager``)."""
    if _STATE["backend"] == "native" and not native_for(*tensors):
        return "eager"
    return _STATE["backend"]
