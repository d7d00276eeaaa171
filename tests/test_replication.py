"""Replication mode: one training step equals a plain re-implementation of the released
forward pass and losses (written from the formulas, same weights, float64)."""

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from neuropathx.cohort import CohortArrays
from neuropathx.models.neuropathx import NeuroPathX, NeuroPathXConfig
from neuropathx.training.config import TrainingParams
from neuropathx.training.loop import FoldData, build_model, make_optimizer, prepare_fold, run_epoch
from neuropathx.training.replication import keep_raw_genetics, released_loss_terms

ROOT = Path(__file__).resolve().parents[1]
N, P, R, F = 24, 6, 5, 4  # N >= 20: the released regulariser threshold


def replication_params(**overrides) -> dict:
    """The model + training sections of config/replication.yaml over config/config.yaml."""
    base = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    repl = yaml.safe_load((ROOT / "config/replication.yaml").read_text())
    params = {**base["model"], **repl["model"]}
    training = {**base["training"], **repl["training"]}
    params.update(
        {
            k: v
            for k, v in training.items()
            # execution keys, and the seed ensemble's size (training.ensemble, not train_fold)
            if k not in ("device", "threads", "gpus", "kernel", "seeds")
        }
    )
    params.update(overrides)
    return params


def _cohort(seed: int = 0) -> CohortArrays:
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.r_[np.ones(10), np.zeros(N - 10)]).astype(int)
    return CohortArrays(
        np.array([f"sub-{i:02d}" for i in range(N)]),
        labels,
        rng.normal(size=(N, P)) * 3 + 1,  # raw, not z-scored pathway scores
        [f"path{j}" for j in range(P)],
        rng.normal(size=(N, R, F)),
        [f"reg{k}" for k in range(R)],
        ["GrayVol", "SurfArea", "ThickAvg", "ThickStd"],
    )


def _bn(x, weight, bias):
    """BatchNorm1d in training mode, from its formula: biased batch variance, eps 1e-5."""
    mean = x.mean(0)
    var = ((x - mean) ** 2).mean(0)
    return (x - mean) / torch.sqrt(var + 1e-5) * weight + bias


def _leaky(x):
    return torch.where(x > 0, x, 0.2 * x)


def released_reference(w, genetics, imaging, labels, pos_weight, sp_subjects, pair):
    """The released forward pass and loss, from the formulas (dropout off).

    Q = LeakyReLU(LeakyReLU(BN(p W_q1)) W_q2) (second activation), K = BN(I W_k),
    V = LeakyReLU(BN(I W_v1)) W_v2, A = S / (|S| + 0.5) with S = ReLU(Q Kᵀ) / (√P / 2);
    loss = BCE + λ_sp (KL_i + KL_j) / 2 + λ_path ‖s_pat - s_ctrl‖₁ / 10.
    """
    b, p = genetics.shape
    r, f = imaging.shape[1:]
    h = _leaky(
        _bn(
            genetics.reshape(-1, 1) @ w["query_in.weight"].T,
            w["query_norm.weight"],
            w["query_norm.bias"],
        )
    )
    q = _leaky(h @ w["query_out.weight"].T).reshape(b, p, -1)
    flat = imaging.reshape(-1, f)
    k = _bn(flat @ w["key.weight"].T, w["key_norm.weight"], w["key_norm.bias"]).reshape(b, r, -1)
    hv = _leaky(_bn(flat @ w["value_in.weight"].T, w["value_norm.weight"], w["value_norm.bias"]))
    v = (hv @ w["value_out.weight"].T).reshape(b, r)
    s = torch.clamp(q @ k.transpose(1, 2), min=0) / (np.sqrt(p) / 2)
    a = s / (s.abs() + 0.5)
    x = (a * v[:, None, :]).sum(-1)
    x = _leaky(_bn(x, w["fused_norm.weight"], w["fused_norm.bias"]))
    x = x @ w["head_hidden.weight"].T + w["head_hidden.bias"]
    x = _leaky(_bn(x, w["head_norm.weight"], w["head_norm.bias"]))
    z = (x @ w["head_out.weight"].T + w["head_out.bias"]).squeeze(-1)
    log_sig, log_not = -torch.log1p(torch.exp(-z)), -torch.log1p(torch.exp(z))
    bce = -(pos_weight * labels * log_sig + (1 - labels) * log_not).mean()
    rho, eps, kl = 0.01, 1e-10, 0.0
    for i in sp_subjects:  # log(x + 1e-10) as the released code
        ai = a[i]
        kl = kl + (ai * (torch.log(ai + eps) - np.log(rho + eps))).sum()
        kl = kl + ((1 - ai) * (torch.log(1 - ai + eps) - np.log(1 - rho + eps))).sum()
    sp = kl / 2
    rows = a.sum(-1)
    path = (rows[pair[0]] - rows[pair[1]]).abs().sum() / 10
    return bce + 1e-6 * sp + 1e-4 * path, bce, sp, path


def test_replication_config_sets_the_released_values():
    params = TrainingParams.from_dict(replication_params())
    assert (params.loss.sp_subjects, params.loss.sp_scale, params.loss.sp_log_eps) == (
        2,
        1.0,
        1e-10,
    )
    assert (params.loss.path_pairs, params.loss.path_scale) == (1, 0.1)
    assert params.loss.skip_single_class_batches and params.loss.min_batch_for_reg == 20
    assert params.model.reference_query_activation and params.model.value_init == "normal"
    assert not params.optim.standardise_genetics
    assert (params.optim.lr, params.optim.epochs) == (5e-5, 1300)
    cv = yaml.safe_load((ROOT / "config/replication.yaml").read_text())["cv"]
    assert (cv["repeats"], cv["folds"]) == (10, 10)


def test_defaults_are_ours_not_the_released():
    params = TrainingParams()
    assert not params.loss.released_style and params.optim.standardise_genetics
    assert NeuroPathXConfig(3, 2).value_init == "default"


def test_one_step_equals_plain_released_implementation():
    torch.manual_seed(0)
    cohort = _cohort()
    params = TrainingParams.from_dict(replication_params(dropout=0.0, lr=1e-3))
    masks = {"train": np.ones(N, bool), "val": np.ones(N, bool), "test": np.ones(N, bool)}
    scaler, parts = prepare_fold(cohort, masks, torch.device("cpu"), standardise_genetics=False)
    np.testing.assert_array_equal(
        parts["train"].genetics.double().numpy(), cohort.genetics.astype(np.float32)
    )
    _, imaging = scaler.transform(cohort.genetics, cohort.imaging)
    data = FoldData(
        torch.as_tensor(cohort.genetics),  # float64 copies of the same raw scores
        torch.as_tensor(imaging),
        torch.as_tensor(cohort.labels, dtype=torch.float64),
    )
    model = build_model(cohort, params).double()
    weights = {k: v.detach().clone().requires_grad_(True) for k, v in model.named_parameters()}
    optimizer = make_optimizer(model, params.optim.lr, params.optim.weight_decay)
    n_pat = float(data.labels.sum())
    pos_weight = (N - n_pat) / n_pat
    losses = run_epoch(
        model, optimizer, data, params.loss, pos_weight=pos_weight, batch_size=128,
        generator=torch.Generator().manual_seed(5),
    )  # fmt: skip
    # the same draws, in the documented order: shuffle, 2 sparsity subjects, 1 pair
    gen = torch.Generator().manual_seed(5)
    order = torch.randperm(N, generator=gen)
    g, im, y = (t[order] for t in data)
    sp_subjects = torch.randperm(N, generator=gen)[:2].tolist()  # two distinct subjects
    assert sp_subjects[0] != sp_subjects[1]
    patients, controls = torch.nonzero(y == 1).flatten(), torch.nonzero(y == 0).flatten()
    i = torch.randint(len(patients), (1,), generator=gen)
    j = torch.randint(len(controls), (1,), generator=gen)
    pair = (int(patients[i]), int(controls[j]))
    total, bce, sp, path = released_reference(weights, g, im, y, pos_weight, sp_subjects, pair)
    for name, ref in (
        ("loss_total", total),
        ("loss_bce", bce),
        ("loss_sp", sp),
        ("loss_path", path),
    ):
        assert losses[name] == pytest.approx(ref.item(), rel=1e-6, abs=1e-12), name
    assert sp.item() > 0 and path.item() > 0  # both regularisers were applied
    total.backward()
    reference = torch.optim.AdamW(
        weights.values(), lr=params.optim.lr, weight_decay=params.optim.weight_decay
    )
    for name, p in model.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), weights[name].grad.numpy(), rtol=1e-6, atol=1e-10, err_msg=name
        )
    reference.step()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(
            p.detach().numpy(), weights[name].detach().numpy(), rtol=1e-6, atol=1e-10, err_msg=name
        )


def test_single_class_batch_takes_no_step():
    cohort = _cohort()
    params = TrainingParams.from_dict(replication_params(dropout=0.0))
    model = build_model(cohort, params).double()
    optimizer = make_optimizer(model, 1e-3, 0.0)
    before = optimizer.flat.clone()
    controls = cohort.labels == 0
    data = FoldData(
        torch.as_tensor(cohort.genetics[controls]), torch.as_tensor(cohort.imaging[controls]),
        torch.zeros(int(controls.sum()), dtype=torch.float64),
    )  # fmt: skip
    run_epoch(
        model,
        optimizer,
        data,
        params.loss,
        pos_weight=1.0,
        batch_size=128,
        generator=torch.Generator(),
    )
    assert torch.equal(optimizer.flat, before)
    default = TrainingParams.from_dict({"dropout": 0.0}).loss
    run_epoch(
        model, optimizer, data, default, pos_weight=1.0, batch_size=128, generator=torch.Generator()
    )
    assert not torch.equal(optimizer.flat, before)


def test_raw_genetics_scaler_passes_scores_through():
    cohort = _cohort()
    from neuropathx.training.preprocess import Standardiser

    scaler = keep_raw_genetics(Standardiser.fit(cohort, np.ones(N, bool)))
    genetics, imaging = scaler.transform(cohort.genetics, cohort.imaging)
    np.testing.assert_array_equal(genetics, cohort.genetics)
    np.testing.assert_allclose(imaging.mean(0), 0, atol=1e-12)


def test_value_init_normal_draws_standard_normal():
    torch.manual_seed(1)
    weights = [
        NeuroPathX(NeuroPathXConfig(4, 3, d_v=256, value_init="normal")).value_out.weight
        for _ in range(20)
    ]
    sample = torch.cat([w.detach().reshape(-1) for w in weights])
    assert abs(float(sample.mean())) < 0.05 and float(sample.std()) == pytest.approx(1.0, abs=0.05)
    default = NeuroPathX(NeuroPathXConfig(4, 3, d_v=256)).value_out.weight
    assert default.abs().max().item() <= 1 / 16  # nn.Linear's bound 1/sqrt(fan_in)


def test_key_activation_matches_formula_and_objective():
    torch.manual_seed(2)
    model = NeuroPathX(NeuroPathXConfig(P, R, F, dropout=0.0, key_activation=True)).double()
    g, im = torch.randn(8, P, dtype=torch.float64), torch.randn(8, R, F, dtype=torch.float64)
    w = dict(model.named_parameters())
    q = model.queries(g)
    k = _leaky(_bn(im.reshape(-1, F) @ w["key.weight"].T, w["key_norm.weight"], w["key_norm.bias"]))
    s = torch.clamp(q @ k.reshape(8, R, -1).transpose(1, 2), min=0) / (np.sqrt(P) / 2)
    logits, attention, _ = model(g, im)
    torch.testing.assert_close(attention, s / (s + 0.5), rtol=1e-10, atol=1e-12)
    torch.manual_seed(3)
    logits2, rows, kl_sum = model.objective_terms(g, im, 0.01)
    torch.testing.assert_close(logits2, logits)
    torch.testing.assert_close(rows, attention.sum(-1))
    from neuropathx.models.losses import sparsity_loss

    torch.testing.assert_close(kl_sum, 2 * 8 * sparsity_loss(attention, 0.01))


def test_released_terms_without_switches_equal_the_default_objective():
    cohort = _cohort()
    params = TrainingParams.from_dict({"dropout": 0.0})
    model = build_model(cohort, params).double()
    g, im = torch.as_tensor(cohort.genetics), torch.as_tensor(cohort.imaging)
    y = torch.as_tensor(cohort.labels, dtype=torch.float64)
    from neuropathx.models.losses import loss_from_terms

    ours = released_loss_terms(model, g, im, y, params.loss, pos_weight=1.4, generator=None)
    logits, rows, kl = model.objective_terms(g, im, 0.01)
    fused = loss_from_terms(logits, rows, kl, y, pos_weight=1.4, lambda_sp=1e-6, lambda_path=1e-4)
    for a, b in zip(ours, fused, strict=True):
        torch.testing.assert_close(a, b)
