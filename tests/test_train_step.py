"""The hand-written training step (models/train_step.py) equals autograd bit for bit."""

import copy

import pytest
import torch
from required_tools import missing_tool

from neuropathx.models import backend, native_kernel, train_step
from neuropathx.models.losses import loss_from_terms
from neuropathx.models.neuropathx import NeuroPathX, NeuroPathXConfig
from neuropathx.training.config import LossParams
from neuropathx.training.optim import FlatAdamW


@pytest.fixture
def native():
    if native_kernel.load() is None:
        missing_tool(f"C kernels unavailable: {native_kernel.build_error()}")
    before = backend.chosen()
    backend.use_backend("native")
    yield
    backend.use_backend(before)


def _pair(p=23, r=13, f=4, **config):
    torch.manual_seed(1)
    model = NeuroPathX(NeuroPathXConfig(p, r, f, **config))
    model.train()
    twin = copy.deepcopy(model)
    return model, twin, FlatAdamW(model, 1e-2, 1e-5), FlatAdamW(twin, 1e-2, 1e-5)


@pytest.mark.parametrize(
    ("b", "loss"),
    [
        (40, LossParams()),
        (40, LossParams(lambda_sp=0.3, lambda_path=0.2, rho=0.05)),
        (9, LossParams(min_batch_for_reg=20)),  # regularisers off: no gradient to A's sums
        (6, LossParams(lambda_sp=0.0)),
    ],
)
def test_step_gives_autograds_gradients_losses_and_running_stats_bit_for_bit(native, b, loss):
    model, twin, opt, opt_twin = _pair()
    g = torch.Generator().manual_seed(b)
    genetics = torch.randn(b, 23, generator=g)
    imaging = torch.randn(b, 13, 4, generator=g)
    labels = (torch.arange(b) % 3 == 0).float()
    for step in range(3):  # later steps: trained weights, updated running statistics
        torch.manual_seed(10 + step)  # the same dropout draws
        logits, rows, kl = model.objective_terms(genetics, imaging, loss.rho)
        terms = loss_from_terms(
            logits, rows, kl, labels, pos_weight=2.0, lambda_sp=loss.lambda_sp,
            lambda_path=loss.lambda_path, min_batch_for_reg=loss.min_batch_for_reg,
        )  # fmt: skip
        opt.zero_grad()
        terms.total.backward()
        torch.manual_seed(10 + step)
        assert train_step.applies(twin, loss, genetics)
        opt_twin.grad.fill_(float("nan"))  # every gradient is written, none accumulated
        ours = train_step.train_step(twin, genetics, imaging, labels, loss, pos_weight=2.0)
        for name, a, c in zip(terms._fields, terms, ours, strict=True):
            assert torch.equal(a.detach(), c), name
        for (name, a), (_, c) in zip(
            model.named_parameters(), twin.named_parameters(), strict=True
        ):
            assert torch.equal(a.grad, c.grad), name
            assert a.grad.abs().sum() > 0 or name.startswith(("query", "key")), name
        for (name, a), (_, c) in zip(model.named_buffers(), twin.named_buffers(), strict=True):
            assert torch.equal(a, c), name
        opt.step()
        opt_twin.step()


def test_other_configurations_take_autograd(native):
    loss = LossParams()
    genetics = torch.randn(8, 23)
    for config in (
        {"key_activation": True},
        {"reference_query_activation": True},
        {"dropout": 0.0},
        {"region_dim": 2},  # the region-identity variant's parameters are not in the step
    ):
        model = _pair(**config)[0]
        assert not train_step.applies(model, loss, genetics), config
    model = _pair()[0]
    assert train_step.applies(model, loss, genetics)
    assert not train_step.applies(model, LossParams(path_metric="l2"), genetics)
    assert not train_step.applies(model, LossParams(path_pairs=5), genetics)
    assert not train_step.applies(model, LossParams(sp_subjects=2), genetics)
    assert not train_step.applies(model, loss, genetics.double())
    model.eval()
    assert not train_step.applies(model, loss, genetics)
    backend.use_backend("eager")
    assert not train_step.applies(_pair()[0], loss, genetics)


def test_saved_attention_gives_the_recomputed_gradients(native):
    g = torch.Generator().manual_seed(3)
    qt, it = torch.randn(5, 7, 5, generator=g), torch.randn(5, 5, 13, generator=g) * 2
    v, g_rows, g_fused = (torch.randn(5, n, generator=g) for n in (13, 7, 7))
    *outs, saved = native_kernel.forward(qt, it, v, 0.9, -4.6, 1e-6, 1e6, save=True)
    assert saved.shape == (5, 7, 2, 16)
    for have, want in zip(
        outs, native_kernel.forward(qt, it, v, 0.9, -4.6, 1e-6, 1e6), strict=True
    ):
        assert torch.equal(have, want)
    for g_kl, need_it in ((0.3, True), (0.0, True), (0.3, False)):
        args = (qt, it, v, 0.9, -4.6, 1e-6, 1e6, g_rows, g_fused, g_kl, need_it)
        full = native_kernel.backward(*args)
        fast = native_kernel.backward(*args, saved=saved)
        for have, want in zip(fast, full, strict=True):
            assert (have is None and not need_it) or torch.equal(have, want)
    with pytest.raises(ValueError, match="saved attention"):
        native_kernel.backward(*args, saved=saved[:3])


def test_leaky_dropout_is_torchs_leaky_relu_times_the_seeded_mask(native):
    x = torch.tensor([[float("nan"), -0.0, 0.0, -1e-45, 3.0, -2.0, float("-inf"), 1e-40]] * 5)
    out, mask = native_kernel.leaky_dropout(x, 0.2, 0.5, seed=9)
    assert torch.equal(mask, native_kernel.dropout_mask(x, 0.5, seed=9))
    assert set(mask.unique().tolist()) == {0.0, 2.0}
    want = torch.nn.functional.leaky_relu(x, 0.2) * mask
    assert torch.equal(out.isnan(), want.isnan())
    assert torch.equal(out.nan_to_num(), want.nan_to_num())
    g = torch.randn(5, 8)
    want = torch.ops.aten.leaky_relu_backward(g * mask, x, 0.2, False)
    assert torch.equal(native_kernel.leaky_dropout_backward(g, x, mask, 0.2), want)
