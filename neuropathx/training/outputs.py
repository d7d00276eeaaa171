"""Fold outputs: checkpoint, predictions, metrics, history, test attention; and reloading."""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import torch

from neuropathx.cohort import CohortArrays
from neuropathx.errors import InputError
from neuropathx.io import atomic_path, write_json, write_tsv
from neuropathx.models import native_kernel
from neuropathx.models.neuropathx import NeuroPathX, NeuroPathXConfig
from neuropathx.training.loop import FoldResult
from neuropathx.training.loop import predict as predict_logits
from neuropathx.training.preprocess import Standardiser

CHECKPOINT_KEYS = ("state_dict", "params", "model_config", "scaler", "pathways", "regions")
FOLD_FILES = ("model.pt", "predictions.tsv", "metrics.json", "history.tsv", "attention.npz")


def dispatch_info() -> dict[str, str]:
    """What PyTorch's CPU dispatch runs as in this process (for metrics.json; here, not in
    ``neuropathx.cpu_dispatch``, which every script job imports and must not need torch)."""
    return {
        "aten_cpu_capability": str(torch.backends.cpu.get_cpu_capability()),
        "aten_cpu_capability_env": os.environ.get("ATEN_CPU_CAPABILITY", ""),
        "mkl_cbwr": os.environ.get("MKL_CBWR", ""),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
    }


def package_versions() -> dict[str, str]:
    """Versions of torch, numpy and neuropathx (written beside every model)."""
    try:
        own = version("neuropathx")
    except PackageNotFoundError:  # running from a source tree
        from neuropathx import __version__ as own
    return {"torch": str(torch.__version__), "numpy": str(np.__version__), "neuropathx": str(own)}


def cpu_build() -> dict:
    """How this process computes on the CPU: the C kernels' ISA level, flags, compiler and
    CPU model, and PyTorch's CPU capability and MKL branch (metrics.json ``cpu_build``)."""
    return {**native_kernel.build_info(), **dispatch_info()}


def checkpoint_dict(result: FoldResult) -> dict:
    """The checkpoint as plain tensors/lists/dicts (loadable with weights_only=True)."""
    return {
        "state_dict": result.state_dict,
        "params": dict(result.params),
        "model_config": dict(result.model_config),
        "scaler": {k: torch.from_numpy(np.asarray(v)) for k, v in result.scaler.to_dict().items()},
        "pathways": list(result.pathways),
        "regions": list(result.regions),
        "measures": list(result.measures),
        "seed": int(result.seed),
        "architecture": result.architecture,
        "versions": package_versions(),
    }


def write_fold_outputs(
    result: FoldResult,
    out_dir: str | Path,
    extra_attention: dict[str, np.ndarray] | None = None,
    extra_checkpoint: dict | None = None,
) -> None:
    """Write model.pt, predictions.tsv, metrics.json, history.tsv, attention.npz (models with
    attention) and any extra tables atomically.

    ``extra_attention`` / ``extra_checkpoint``: more arrays for attention.npz and keys for
    model.pt (a seed ensemble's members, ``training.ensemble``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "model.pt") as tmp:
        torch.save({**checkpoint_dict(result), **(extra_checkpoint or {})}, tmp)
    write_tsv(result.predictions, out / "predictions.tsv")
    write_json(_jsonable({**result.metrics, "cpu_build": cpu_build()}), out / "metrics.json")
    write_tsv(result.history, out / "history.tsv")
    for name, table in result.tables.items():  # e.g. G-MIND's feature_importance.tsv
        write_tsv(table, out / f"{name}.tsv")
    if result.attention is None:  # a model without an attention explanation (G-MIND)
        return
    with atomic_path(out / "attention.npz") as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(
            fh,
            attention=result.attention.astype(np.float16),
            participant_id=np.asarray(result.test_subjects, dtype=str),
            label=np.asarray(result.test_labels, dtype=np.int64),
            pathways=np.asarray(result.pathways, dtype=str),
            regions=np.asarray(result.regions, dtype=str),
            **(extra_attention or {}),
        )


def load_checkpoint(path: str | Path) -> tuple[NeuroPathX, dict]:
    """Rebuild the model (eval mode, CPU) and return it with the checkpoint dict."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "checkpoint not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors come in many types
        raise InputError(path, f"not a readable NeuroPathX checkpoint: {exc}") from exc
    missing = [k for k in CHECKPOINT_KEYS if not isinstance(ckpt, dict) or k not in ckpt]
    if missing:
        raise InputError(path, f"checkpoint lacks key(s) {missing}")
    architecture = ckpt.get("architecture", "neuropathx")
    if architecture == "neuropathx":
        model = NeuroPathX(NeuroPathXConfig(**ckpt["model_config"]))
    else:
        from neuropathx.models import registry

        model = registry.build(architecture, **ckpt["model_config"])
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise InputError(path, f"weights do not match the stored model config: {exc}") from exc
    return model.eval(), ckpt


def predict_cohort(
    model: NeuroPathX, checkpoint: dict, cohort: CohortArrays
) -> tuple[np.ndarray, np.ndarray]:
    """Patient probabilities (N,) and attention (N, P, R) of a cohort with a loaded checkpoint.

    A seed ensemble's checkpoint (``seed_state_dicts``, ``training.ensemble``) is predicted
    as it was evaluated: every member's probabilities and attention, averaged in float64
    (attention returned as float32), as ``ensemble.average_members`` does; ``model`` is
    left with its own weights. The cohort's pathways, regions and measures must be exactly
    the checkpoint's (same order); otherwise an error lists what differs.
    """
    for key, names in (
        ("pathways", cohort.pathways),
        ("regions", cohort.regions),
        ("measures", cohort.measures),
    ):
        expected = list(checkpoint.get(key, []))
        if list(names) != expected:
            extra = [n for n in names if n not in expected]
            absent = [n for n in expected if n not in names]
            raise InputError(
                None,
                f"the data hold {len(names)} {key} but the checkpoint was trained on "
                f"{len(expected)}; not in checkpoint: {extra[:10]}, missing from data: "
                f"{absent[:10]}" + ("" if extra or absent else " (order differs)"),
            )
    scaler = Standardiser(**{k: v.numpy() for k, v in checkpoint["scaler"].items()})
    genetics, imaging = scaler.transform(cohort.genetics, cohort.imaging)
    device = next(model.parameters()).device
    genetics = torch.as_tensor(genetics, dtype=torch.float32, device=device)
    imaging = torch.as_tensor(imaging, dtype=torch.float32, device=device)
    members = checkpoint.get("seed_state_dicts") or []
    if len(members) <= 1:
        logits, attention = predict_logits(model, genetics, imaging)
        return torch.sigmoid(logits).double().cpu().numpy(), attention.cpu().numpy()
    own = {k: v.detach().clone() for k, v in model.state_dict().items()}
    probs, attentions = [], []
    try:
        for state in members:
            model.load_state_dict(state)
            logits, attention = predict_logits(model, genetics, imaging)
            probs.append(torch.sigmoid(logits).double().cpu().numpy())
            attentions.append(attention.cpu().numpy().astype(np.float64))
    finally:
        model.load_state_dict(own)
    mean_attention = np.mean(attentions, axis=0).astype(np.float32)
    return np.mean(probs, axis=0), mean_attention


def _jsonable(obj):
    """Metrics with NaN written as null (strict JSON)."""
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj
