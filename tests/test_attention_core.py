"""The fast paths of NeuroPathX equal the direct computation: values and gradients."""

import copy

import pytest
import torch
import torch.nn.functional as F

from neuropathx.models import attention_core as core
from neuropathx.models.losses import (
    LOG_CLAMP,
    _pair_l1_by_sorting,
    pathway_similarity_loss,
    sparsity_loss,
)
from neuropathx.models.neuropathx import NeuroPathX, NeuroPathXConfig

B, P, R, NF = 7, 6, 5, 3


def _model(dtype=torch.float64, **kw) -> NeuroPathX:
    torch.manual_seed(0)
    model = NeuroPathX(NeuroPathXConfig(n_pathways=P, n_regions=R, n_measures=NF, **kw))
    for bn in (model.query_norm, model.key_norm, model.value_norm):  # non-trivial affine
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.normal_()
    return model.to(dtype)


def _inputs(dtype=torch.float64, scale=1.0):
    g = torch.Generator().manual_seed(1)
    return (
        scale * torch.randn(B, P, generator=g, dtype=torch.float64).to(dtype),
        scale * torch.randn(B, R, NF, generator=g, dtype=torch.float64).to(dtype),
    )


def _direct_scores(model, genetics, imaging):
    return torch.bmm(model.queries(genetics), model.keys(imaging).transpose(1, 2))


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_score_factors_equal_q_k_transpose_and_update_running_stats_alike(reference, training):
    fast = _model(reference_query_activation=reference)
    genetics, imaging = _inputs()
    fast(genetics, imaging)  # non-trivial running statistics
    direct = copy.deepcopy(fast)
    fast.train(training), direct.train(training)
    qt, it = fast.score_factors(genetics, imaging)
    expected = _direct_scores(direct, genetics, imaging)
    torch.testing.assert_close(torch.bmm(qt, it), expected, rtol=1e-12, atol=1e-12)
    for (name, a), b in zip(fast.named_buffers(), direct.buffers(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12, msg=name)


def test_score_factors_float32_within_1e6():
    model = _model(torch.float32)
    genetics, imaging = _inputs(torch.float32, scale=2.0)
    qt, it = model.score_factors(genetics, imaging)
    expected = _direct_scores(copy.deepcopy(model), genetics, imaging)
    scale = expected.abs().max()
    assert (torch.bmm(qt, it) - expected).abs().max() <= 1e-6 * scale


def test_score_factor_gradients_equal_direct_gradients():
    fast = _model()
    direct = copy.deepcopy(fast)
    genetics, imaging = _inputs()
    weight = torch.randn(B, P, R, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    qt, it = fast.score_factors(genetics, imaging)
    (torch.bmm(qt, it) * weight).sum().backward()
    (_direct_scores(direct, genetics, imaging) * weight).sum().backward()
    for (name, a), b in zip(fast.named_parameters(), direct.parameters(), strict=True):
        if b.grad is None:
            assert a.grad is None or a.grad.abs().max() == 0, name
        else:
            torch.testing.assert_close(a.grad, b.grad, rtol=1e-10, atol=1e-12, msg=name)


def test_piecewise_leaky_mlp_equals_the_hidden_layer_at_and_between_kinks():
    g = torch.Generator().manual_seed(4)
    a = torch.randn(9, dtype=torch.float64, generator=g)
    a[2] = 0.0  # a channel with no kink
    c = torch.randn(9, dtype=torch.float64, generator=g)
    m = torch.randn(9, 4, dtype=torch.float64, generator=g)
    kinks = -c[a != 0] / a[a != 0]
    x = torch.cat([torch.randn(50, dtype=torch.float64, generator=g) * 3, kinks, kinks + 1e-9])
    params = [t.clone().requires_grad_(True) for t in (a, c, m)]
    fast = core.piecewise_leaky_mlp(x, *params, 0.2)
    ref_params = [t.clone().requires_grad_(True) for t in (a, c, m)]
    ra, rc, rm = ref_params
    slow = F.leaky_relu(x[:, None] * ra + rc, 0.2) @ rm
    torch.testing.assert_close(fast, slow, rtol=1e-12, atol=1e-12)
    weight = torch.randn(fast.shape, dtype=torch.float64, generator=g)
    (fast * weight).sum().backward()
    (slow * weight).sum().backward()
    for p, q in zip(params, ref_params, strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-10, atol=1e-10)


def _direct_terms(qt, it, v, k, rho):
    r = torch.relu(torch.bmm(qt, it))
    a = r / (r + k)
    return a.sum(-1), torch.bmm(a, v[..., None]).squeeze(-1), 2 * len(a) * sparsity_loss(a, rho)


@pytest.mark.parametrize("kernels", ["eager", "eager_chunked", "pure"])
def test_attention_terms_values_and_gradients_equal_autograd_of_the_formula(kernels, monkeypatch):
    if kernels == "eager_chunked":  # B = 7 in chunks of 3, 3, 1 subjects
        monkeypatch.setattr(core, "EAGER_CHUNK", 3)
    if kernels == "pure":  # the functions torch.compile would compile, run uncompiled
        monkeypatch.setattr(core, "_forward_eager", core._forward_terms)
        monkeypatch.setattr(core, "_backward_eager", core._backward_scores)
    g = torch.Generator().manual_seed(5)
    qt = torch.randn(B, P, NF + 1, dtype=torch.float64, generator=g)
    it = torch.randn(B, NF + 1, R, dtype=torch.float64, generator=g)
    v = torch.randn(B, R, dtype=torch.float64, generator=g)
    k, rho = 0.7, 0.05
    inputs = [t.clone().requires_grad_(True) for t in (qt, it, v)]
    fast = core.attention_terms(*inputs, k, rho, LOG_CLAMP)
    ref_inputs = [t.clone().requires_grad_(True) for t in (qt, it, v)]
    slow = _direct_terms(*ref_inputs, k, rho)
    for f, s in zip(fast, slow, strict=True):
        torch.testing.assert_close(f, s, rtol=1e-12, atol=1e-12)
    w_rows, w_fused = torch.randn(2, B, P, dtype=torch.float64, generator=g)
    (fast[0] * w_rows).sum().add((fast[1] * w_fused).sum()).add(0.3 * fast[2]).backward()
    (slow[0] * w_rows).sum().add((slow[1] * w_fused).sum()).add(0.3 * slow[2]).backward()
    for p, q in zip(inputs, ref_inputs, strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-10, atol=1e-12)


def test_objective_terms_match_forward_and_losses():
    model = _model(dropout=0.0)
    direct = copy.deepcopy(model)
    genetics, imaging = _inputs()
    logits, rows, kl_sum = model.objective_terms(genetics, imaging, rho=0.01)
    d_logits, attention, _ = direct(genetics, imaging)
    torch.testing.assert_close(logits, d_logits, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(rows, attention.sum(-1), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(
        kl_sum * 0.5 / B, sparsity_loss(attention, 0.01), rtol=1e-12, atol=1e-12
    )


def test_sorted_l1_equals_all_pairs_with_ties_value_and_gradient():
    g = torch.Generator().manual_seed(6)
    rows = torch.randn(9, 4, dtype=torch.float64, generator=g)
    rows[3, :2] = rows[4, :2]  # ties between a patient and a control
    rows[5, 1] = rows[3, 1]
    rows[:, 3] = 0.0  # a pathway whose rows are all zero
    labels = torch.tensor([1, 0, 1, 1, 0, 0, 1, 0, 0])
    fast_in, slow_in = rows.clone().requires_grad_(True), rows.clone().requires_grad_(True)
    fast = _pair_l1_by_sorting(fast_in, labels)
    pat, ctrl = slow_in[labels == 1], slow_in[labels == 0]
    slow = torch.cdist(pat[None], ctrl[None], p=1.0).mean()
    torch.testing.assert_close(fast, slow, rtol=1e-12, atol=1e-12)
    fast.backward(), slow.backward()
    torch.testing.assert_close(fast_in.grad, slow_in.grad, rtol=1e-12, atol=1e-12)
    att = torch.stack([rows, torch.zeros_like(rows)], -1)  # rows sums through the public API
    torch.testing.assert_close(pathway_similarity_loss(att, labels, "l1"), slow.detach())


def test_sorted_l1_without_ties_equals_all_pairs():
    g = torch.Generator().manual_seed(7)
    rows = torch.randn(12, 5, dtype=torch.float64, generator=g, requires_grad=True)
    labels = torch.tensor([1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0])
    fast = _pair_l1_by_sorting(rows, labels)
    (grad,) = torch.autograd.grad(fast, rows)
    slow = torch.cdist(rows[labels == 1][None], rows[labels == 0][None], p=1.0).mean()
    (slow_grad,) = torch.autograd.grad(slow, rows)
    torch.testing.assert_close(fast, slow, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad, slow_grad, rtol=1e-12, atol=1e-12)


def test_fused_log_is_as_accurate_as_torch_log_in_float32():
    g = torch.Generator().manual_seed(8)
    x = torch.exp(torch.empty(200_000, dtype=torch.float64).uniform_(-16, 16, generator=g))
    x = torch.cat([x, torch.tensor([1.0, 2.0, 0.5, 1e-6, 1e6, 0.7071068, 1.4142135])]).float()
    exact = torch.log(x.double())
    error = (core.fused_log(x).double() - exact).abs()
    ulp = torch.finfo(torch.float32).eps * exact.abs().clamp_min(1.0)  # one ulp or better
    assert (error <= ulp).all()
    assert error.max() <= 1.5 * (torch.log(x).double() - exact).abs().max()
    assert core.fused_log(x.double()).dtype == torch.float64  # other dtypes: torch.log
