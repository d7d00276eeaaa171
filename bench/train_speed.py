"""Seconds per training epoch of NeuroPathX on synthetic data (same code path as train_fold).

Each epoch = one shuffled pass over the training subjects (forward, both regularisers,
backward, AdamW step) plus one validation pass (the test subjects are predicted once, after
training). The same run then times a faithful re-implementation of the released
``train_model`` epoch (jueqiw/NeuroPathX, code/project/main.py, without TensorBoard and
without the ``torch.autograd.set_detect_anomaly(True)`` its main module switches on): direct
Q Kᵀ by bmm, sparsity on 2 random subjects with a target list of one tensor per entry, a
Python loop over 10 random pairs, a DataLoader, backward with retain_graph, scikit-learn
metrics after every batch, and a validation and a test pass every epoch, on the same data
and threads, after ours (interleaving the two epoch by epoch evicts each other's data from
the caches and slows both). ``--reference-anomaly-detection`` also switches anomaly
detection on for the reference, as the released main module does.
``--rounds`` alternates ours and the reference that many times and keeps the best round of
each (the median of its epochs after the first), which is robust to a shared machine.
``cpu_*`` figures are main-thread CPU seconds (less sensitive to a loaded machine).
``--kernel`` picks the implementation (native C kernels, compile, eager); the C kernels are
the reproducible build (``native_kernel.build_info()``, in the JSON). Last stdout line: one
JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import time
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    f1_score,
    recall_score,
    roc_auc_score,
)

from neuropathx.cohort import CohortArrays
from neuropathx.models import native_kernel
from neuropathx.models.backend import BACKENDS, backend_for
from neuropathx.training.config import TrainingParams
from neuropathx.training.loop import (
    build_model,
    configure_speed,
    deterministic_algorithms,
    evaluate,
    make_optimizer,
    prepare_fold,
    resolve_device,
    run_epoch,
)
from neuropathx.training.outputs import dispatch_info
from neuropathx.training.preprocess import fold_masks

MEASURES = ["GrayVol", "SurfArea", "ThickAvg", "ThickStd"]


def synthetic_cohort(n: int, n_pathways: int, n_regions: int, seed: int = 0) -> CohortArrays:
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 2)
    return CohortArrays(
        np.array([f"sub-{i:05d}" for i in range(n)]),
        labels,
        rng.normal(size=(n, n_pathways)) + 0.3 * labels[:, None],
        [f"pathway{i}" for i in range(n_pathways)],
        rng.normal(size=(n, n_regions, len(MEASURES))),
        [f"region{i}" for i in range(n_regions)],
        list(MEASURES),
    )


class ReferenceNeuroPathX(torch.nn.Module):
    """Straightforward re-implementation of the released model (direct ``Q Kᵀ`` by bmm)."""

    def __init__(self, n_pathways: int, n_measures: int, d: int = 32, d_v: int = 8):
        super().__init__()
        nn = torch.nn
        self.n_pathways = n_pathways
        self.query = nn.Sequential(
            nn.Linear(1, d, bias=False), nn.BatchNorm1d(d), nn.LeakyReLU(0.2),
            nn.Linear(d, d, bias=False),
        )  # fmt: skip
        self.key_relu = nn.LeakyReLU(0.2)  # released code applies it to the query
        self.key = nn.Linear(n_measures, d, bias=False)
        self.key_norm = nn.BatchNorm1d(d)
        self.value = nn.Sequential(
            nn.Linear(n_measures, d_v, bias=False), nn.BatchNorm1d(d_v), nn.LeakyReLU(0.2),
            nn.Linear(d_v, 1, bias=False),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.BatchNorm1d(n_pathways), nn.LeakyReLU(0.2), nn.Dropout(0.5),
            nn.Linear(n_pathways, 24), nn.BatchNorm1d(24), nn.LeakyReLU(0.2), nn.Dropout(0.5),
            nn.Linear(24, 1),
        )  # fmt: skip

    def forward(self, genetics, imaging):
        b, p = genetics.shape
        _, r, f = imaging.shape
        query = self.query(genetics.reshape(b * p, 1)).view(b, p, -1)
        query = self.key_relu(query)
        key = self.key_norm(self.key(imaging.reshape(b * r, f))).view(b, r, -1)
        value = self.value(imaging.reshape(b * r, f)).view(b, r, 1)
        scores = torch.relu(torch.bmm(query, key.transpose(1, 2))) / (math.sqrt(p) / 2)
        attention = scores / (torch.abs(scores) + 0.5)
        fused = torch.bmm(attention, value).squeeze(-1)
        return self.classifier(fused).squeeze(-1), attention


def reference_loss(logits, attention, labels, bce, rho=0.01, lambda_sp=1e-6, lambda_path=1e-4):
    """BCE + KL sparsity on 2 random subjects + pathway L1 over 10 random pairs (loop).

    As the released code does, the KL target is built as a Python list of one 0-d tensor
    per attention entry of the two subjects (2 P R of them) before it becomes a tensor."""
    loss = bce(logits, labels)
    if len(labels) >= 20 and 0 < labels.sum() < len(labels):
        chosen = attention[torch.randint(len(labels), (2,))].flatten()
        rho_t = torch.tensor(rho)
        target = torch.FloatTensor([rho_t for _ in range(chosen.numel())])
        eps = 1e-10
        kl = (chosen * (torch.log(chosen + eps) - torch.log(target + eps))).sum()
        kl = kl + ((1 - chosen) * (torch.log(1 - chosen + eps) - torch.log(1 - target + eps))).sum()
        loss = loss + lambda_sp * kl / 2
        patients = torch.nonzero(labels == 1).flatten().tolist()
        controls = torch.nonzero(labels == 0).flatten().tolist()
        for _ in range(10):  # released loop: only the last pair is kept
            i, j = random.choice(patients), random.choice(controls)
            path = torch.abs(attention[i].sum(-1) - attention[j].sum(-1)).sum()
        loss = loss + lambda_path * path
    return loss


def reference_metrics(labels, logits) -> float:
    """The released code's per-call metrics (scikit-learn): accuracy, macro F1, kappa, AUC,
    sensitivity, specificity; returns the AUC."""
    y = labels.cpu().numpy().astype(int)
    pred = (torch.sigmoid(logits) > 0.5).cpu().numpy().astype(int)
    f1_score(y, pred, average="macro")
    accuracy_score(y, pred)
    cohen_kappa_score(y, pred)
    recall_score(y, pred, pos_label=1, zero_division=0)
    recall_score(y, pred, pos_label=0, zero_division=0)
    return float(roc_auc_score(y, logits.cpu().numpy())) if 0 < y.sum() < len(y) else 0.5


def reference_epoch(model, optimizer, loader, val_loader, test_loader, bce) -> float:
    """The released ``train_model`` epoch without TensorBoard: training batches (loss,
    backward with retain_graph, step, losses read with .item(), metrics per batch), then a
    validation pass (the same losses and metrics) and a test pass (metrics); returns the
    validation AUC."""
    model.train()
    for genetics, imaging, labels in loader:
        logits, attention = model(genetics, imaging)
        loss = reference_loss(logits, attention, labels, bce)
        optimizer.zero_grad()
        loss.backward(retain_graph=True)
        optimizer.step()
        loss.item()
        reference_metrics(labels, logits.detach())
    model.eval()
    with torch.no_grad():
        outs = []
        for genetics, imaging, labels in val_loader:
            logits, attention = model(genetics, imaging)
            reference_loss(logits, attention, labels, bce).item()
            outs.append((logits, labels))
        auc = reference_metrics(torch.cat([o[1] for o in outs]), torch.cat([o[0] for o in outs]))
        outs = [(model(g, i)[0], y) for g, i, y in test_loader]
        reference_metrics(torch.cat([o[1] for o in outs]), torch.cat([o[0] for o in outs]))
    return auc


def reference_runner(parts, args, device):
    """A function running one reference epoch on the same data; returns (wall, CPU) s."""
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    random.seed(0)
    train, val = parts["train"], parts["val"]
    loader = DataLoader(TensorDataset(*train), batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(TensorDataset(*val), batch_size=args.batch_size)
    test_loader = DataLoader(TensorDataset(*parts["test"]), batch_size=args.batch_size)
    model = ReferenceNeuroPathX(args.pathways, len(MEASURES)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=1e-5)
    bce = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(1.0, device=device))

    def run(epoch: int) -> tuple[float, float]:
        start, cpu_start = time.perf_counter(), time.thread_time()
        auc = reference_epoch(model, optimizer, loader, val_loader, test_loader, bce)
        if device.type == "cuda":
            torch.cuda.synchronize()
        wall, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
        print(f"reference epoch {epoch}: {wall:.4f} s (val_auc {auc:.3f})", flush=True)
        return wall, cpu

    return run


@contextmanager
def deterministic_algorithms_off():
    """The reference code ran without deterministic algorithms."""
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(False)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before)


def ours_runner(cohort, parts, params, device):
    """A function running one epoch of ours (train_fold's code path); returns (wall, CPU) s."""
    torch.manual_seed(0)
    model = build_model(cohort, params).to(device)
    optimizer = make_optimizer(model, params.optim.lr, params.optim.weight_decay)
    generator = torch.Generator().manual_seed(0)

    def run(epoch: int) -> tuple[float, float]:
        with deterministic_algorithms(device):
            start, cpu_start = time.perf_counter(), time.thread_time()
            run_epoch(
                model,
                optimizer,
                parts["train"],
                params.loss,
                pos_weight=1.0,
                batch_size=params.optim.batch_size,
                generator=generator,
            )
            val = evaluate(model, parts["val"], params.loss, 1.0)
            if device.type == "cuda":
                torch.cuda.synchronize()
            wall, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
        print(f"epoch {epoch}: {wall:.4f} s (val_auc {val['val_auc']:.3f})", flush=True)
        return wall, cpu

    return run


def _steady_median(epochs: list[tuple[float, float]], column: int = 0) -> float:
    """Median over the epochs after the first (which warms caches and allocations)."""
    values = [e[column] for e in epochs]
    return statistics.median(values[1:] or values)


def _best_round(rounds, column: int = 0) -> tuple[float, list[float]]:
    """The lowest steady median over rounds and that round's per-epoch figures."""
    best = min(rounds, key=lambda r: _steady_median(r, column))
    return _steady_median(best, column), [e[column] for e in best]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--pathways", type=int, default=177)
    ap.add_argument("--rois", type=int, default=68)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--reference-query-activation", action="store_true")
    ap.add_argument(
        "--kernel",
        choices=BACKENDS,
        default="native",
        help="how the attention passes run (native C kernel, torch.compile or eager PyTorch)",
    )
    ap.add_argument("--no-reference", action="store_true", help="skip the reference timing")
    ap.add_argument("--rounds", type=int, default=2, help="alternations of ours and reference")
    ap.add_argument(
        "--reference-anomaly-detection",
        action="store_true",
        help="run the reference under torch.autograd.set_detect_anomaly(True), as released",
    )
    args = ap.parse_args()

    device = resolve_device(args.device)
    cohort = synthetic_cohort(args.n, args.pathways, args.rois)
    roles = np.array(["train", "val", "test"])[
        np.searchsorted([0.8, 0.9], np.arange(args.n) / args.n, side="right")
    ]
    params = TrainingParams.from_dict(
        {
            "batch_size": args.batch_size,
            "reference_query_activation": args.reference_query_activation,
        }
    )
    configure_speed(args.kernel, args.threads)
    _, parts = prepare_fold(cohort, fold_masks(cohort, roles), device)
    reference = None if args.no_reference else reference_runner(parts, args, device)
    ours = ours_runner(cohort, parts, params, device)
    rounds, ref_rounds = [], []
    for _ in range(args.rounds):
        torch.set_num_threads(
            1 if backend_for(parts["train"].genetics) == "native" else args.threads
        )
        rounds.append([ours(epoch) for epoch in range(1, args.epochs + 1)])
        if reference is not None:
            torch.set_num_threads(args.threads)  # the reference is plain PyTorch
            anomaly = args.reference_anomaly_detection
            with deterministic_algorithms_off(), torch.autograd.set_detect_anomaly(anomaly):
                ref_rounds.append([reference(epoch) for epoch in range(1, args.epochs + 1)])
    best, times = _best_round(rounds)
    ref_best, ref_times = _best_round(ref_rounds) if ref_rounds else (None, [])
    steady, ref_steady = times[1:] or times, ref_times[1:] or ref_times
    cpu_ours = _best_round(rounds, column=1)[0]
    cpu_ref = _best_round(ref_rounds, column=1)[0] if ref_rounds else None
    ref, ours_s = ref_best, best
    print(
        json.dumps(
            {
                "s_per_epoch": ours_s,
                "s_per_epoch_min": min(steady),
                "first_epoch_s": rounds[0][0][0],
                "reference_s_per_epoch": ref,
                "reference_s_per_epoch_min": min(ref_steady) if ref_steady else None,
                "speedup": ref / ours_s if ref else None,
                "round_s_per_epoch": [_steady_median(r) for r in rounds],
                "reference_round_s_per_epoch": [_steady_median(r) for r in ref_rounds],
                "rounds": args.rounds,
                "kernel_build": native_kernel.build_info(),
                "cpu_dispatch": dispatch_info(),
                "reference_anomaly_detection": args.reference_anomaly_detection,
                "cpu_s_per_epoch": cpu_ours,
                "reference_cpu_s_per_epoch": cpu_ref,
                "cpu_speedup": cpu_ref / cpu_ours if cpu_ref else None,
                "load_avg_1min": os.getloadavg()[0],
                "kernel": backend_for(parts["train"].genetics),
                "n": args.n,
                "n_train": len(parts["train"].labels),
                "n_val": len(parts["val"].labels),
                "pathways": args.pathways,
                "rois": args.rois,
                "measures": len(MEASURES),
                "batch_size": args.batch_size,
                "threads": args.threads,
                "device": str(device),
                "epochs": args.epochs,
                "torch": str(torch.__version__),
            }
        )
    )


if __name__ == "__main__":
    main()
