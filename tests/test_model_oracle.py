"""NeuroPathX (neuropathx/models/neuropathx.py) against a float64 re-implementation of
METHOD.md §2 written with plain tensor operations: BatchNorm by hand (batch statistics in
training, running statistics in evaluation, running updates with the unbiased variance),
queries, keys, values, soft-sign attention and the head. Float64 runs the PyTorch layers,
float32 on the CPU the C kernels (values, dropout); both must equal the formula."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from required_tools import missing_tool

from neuropathx.models import native_kernel
from neuropathx.models.losses import LOG_CLAMP
from neuropathx.models.neuropathx import (
    VALUE_INITS,
    NeuroPathX,
    NeuroPathXConfig,
    measure_moments,
)

B, P, R, NF = 6, 4, 5, 3
SLOPE = 0.3  # not the default 0.2: the slope must come from the config


def make(dtype=torch.float64, seed=0, **kw) -> NeuroPathX:
    torch.manual_seed(seed)
    kw = {"d_q": 5, "d_qk": 4, "d_v": 3, "hidden": 6, "dropout": 0.0, "gamma": 1.7,
          "softsign_c": 0.8, "leaky_slope": SLOPE, **kw}  # fmt: skip
    model = NeuroPathX(NeuroPathXConfig(n_pathways=P, n_regions=R, n_measures=NF, **kw))
    g = torch.Generator().manual_seed(seed + 100)
    for bn in (model.query_norm, model.key_norm, model.value_norm, model.fused_norm,
               model.head_norm):  # fmt: skip
        bn.weight.data = torch.rand(bn.weight.shape, generator=g) + 0.5
        bn.bias.data = torch.randn(bn.bias.shape, generator=g)
    return model.to(dtype)


def inputs(dtype=torch.float64, seed=1, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    gen = scale * torch.randn(B, P, generator=g, dtype=torch.float64)
    img = scale * torch.randn(B, R, NF, generator=g, dtype=torch.float64) + 0.5
    return gen.to(dtype), img.to(dtype)


def bn(x, norm, training: bool):
    """(rows, C) batch norm by hand; in training also the running update (returned)."""
    w, b = norm.weight.double(), norm.bias.double()
    if training:
        mean, var = x.mean(0), x.var(0, unbiased=False)
        if norm.running_mean is None:
            return (x - mean) / torch.sqrt(var + norm.eps) * w + b, None
        m = norm.momentum
        new_mean = (1 - m) * norm.running_mean.double() + m * mean
        new_var = (1 - m) * norm.running_var.double() + m * x.var(0, unbiased=True)
        return (x - mean) / torch.sqrt(var + norm.eps) * w + b, (new_mean, new_var)
    mean, var = norm.running_mean.double(), norm.running_var.double()
    return (x - mean) / torch.sqrt(var + norm.eps) * w + b, None


def lrelu(x):
    return torch.where(x > 0, x, SLOPE * x)


def oracle(model: NeuroPathX, genetics, imaging, training: bool):
    """Logits, attention, fused and the running statistics after the pass (training)."""
    c = model.config
    g, im = genetics.double(), imaging.double()
    W = {n: p.detach().double() for n, p in model.named_parameters()}
    stats = {}
    h, stats["query_norm"] = bn(g.reshape(-1, 1) @ W["query_in.weight"].T, model.query_norm,
                                training)  # fmt: skip
    q = (lrelu(h) @ W["query_out.weight"].T).view(B, P, -1)
    if c.reference_query_activation:
        q = lrelu(q)
    k, stats["key_norm"] = bn(im.reshape(-1, NF) @ W["key.weight"].T, model.key_norm, training)
    k = k.view(B, R, -1)
    if c.key_activation:
        k = lrelu(k)
    v, stats["value_norm"] = bn(im.reshape(-1, NF) @ W["value_in.weight"].T, model.value_norm,
                                training)  # fmt: skip
    v = (lrelu(v) @ W["value_out.weight"].T).view(B, R)
    s = torch.relu(q @ k.transpose(1, 2)) / (c.gamma * math.sqrt(P) / 2)
    a = s / (s.abs() + c.softsign_c)
    fused = torch.einsum("bpr,br->bp", a, v)
    x, stats["fused_norm"] = bn(fused, model.fused_norm, training)
    x = lrelu(x) @ W["head_hidden.weight"].T + W["head_hidden.bias"]
    x, stats["head_norm"] = bn(x, model.head_norm, training)
    logits = (lrelu(x) @ W["head_out.weight"].T + W["head_out.bias"]).squeeze(-1)
    return logits, a, fused, stats


def kl_sum(a, rho, eps=LOG_CLAMP):
    ac = a.clamp(eps, 1 - eps)
    return (a * torch.log(ac / rho) + (1 - a) * torch.log((1 - ac) / (1 - rho))).sum()


def tol(dtype):
    return (
        {"rtol": 1e-10, "atol": 1e-11} if dtype == torch.float64 else {"rtol": 2e-4, "atol": 2e-5}
    )


VARIANTS = [{}, {"reference_query_activation": True}, {"key_activation": True}]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("variant", VARIANTS)
def test_forward_in_training_equals_the_formula_and_updates_running_stats(dtype, variant):
    model = make(dtype, **variant)
    genetics, imaging = inputs(dtype)
    model.train()
    logits, att, fused, stats = oracle(model, genetics, imaging, True)
    got = model(genetics, imaging)
    for name, want, have in zip(("logits", "attention", "fused"), (logits, att, fused), got,
                                strict=True):  # fmt: skip
        assert have.dtype == dtype, name
        torch.testing.assert_close(have.double(), want, **tol(dtype), msg=name)
    for name, (mean, var) in stats.items():
        norm = getattr(model, name)
        assert int(norm.num_batches_tracked) == 1, name
        torch.testing.assert_close(norm.running_mean.double(), mean, **tol(dtype), msg=name)
        torch.testing.assert_close(norm.running_var.double(), var, **tol(dtype), msg=name)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("variant", VARIANTS)
def test_forward_in_evaluation_uses_the_running_stats(dtype, variant):
    model = make(dtype, **variant)
    genetics, imaging = inputs(dtype)
    model.train()
    for seed in (2, 3):  # two updates: non-trivial running statistics
        model(*inputs(dtype, seed=seed, scale=1.5))
    model.eval()
    before = copy.deepcopy(model.state_dict())
    logits, att, fused, _ = oracle(model, genetics, imaging, False)
    for want, have in zip((logits, att, fused), model(genetics, imaging), strict=True):
        torch.testing.assert_close(have.double(), want, **tol(dtype))
    for key, value in model.state_dict().items():  # evaluation leaves every buffer alone
        torch.testing.assert_close(value, before[key], rtol=0, atol=0, msg=key)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_cumulative_running_average_when_momentum_is_none(dtype):
    model = make(dtype)
    reference = copy.deepcopy(model)
    for norm in (model.key_norm, model.value_norm, model.query_norm, reference.key_norm,
                 reference.value_norm, reference.query_norm):  # fmt: skip
        norm.momentum = None
    model.train(), reference.train()
    for seed in (2, 3, 4):
        genetics, imaging = inputs(dtype, seed=seed, scale=seed / 2)
        model(genetics, imaging)
        # torch's own BatchNorm on the directly computed layer inputs is the oracle here
        b = genetics.shape[0]
        reference.key_norm(reference.key(imaging).reshape(b * R, -1))
        reference.value_norm(reference.value_in(imaging).reshape(b * R, -1))
        reference.query_norm(reference.query_in(genetics.reshape(b * P, 1)))
    for name in ("key_norm", "value_norm", "query_norm"):
        a, b = getattr(model, name), getattr(reference, name)
        assert int(a.num_batches_tracked) == 3
        torch.testing.assert_close(a.running_mean, b.running_mean, **tol(dtype), msg=name)
        torch.testing.assert_close(a.running_var, b.running_var, **tol(dtype), msg=name)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_norms_without_running_stats_use_the_batch_in_evaluation(dtype):
    model = make(dtype)
    for name in ("key_norm", "value_norm", "query_norm"):
        old = getattr(model, name)
        new = torch.nn.BatchNorm1d(old.num_features, track_running_stats=False).to(dtype)
        new.weight.data, new.bias.data = old.weight.data.clone(), old.bias.data.clone()
        setattr(model, name, new)
    genetics, imaging = inputs(dtype)
    model.train()
    _, att_train, fused_train = model(genetics, imaging)
    model.eval()
    _, att_eval, fused_eval = model(genetics, imaging)
    torch.testing.assert_close(att_eval, att_train, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(fused_eval, fused_train, rtol=1e-6, atol=1e-7)
    _, att, fused, _ = oracle(model, genetics, imaging, True)  # batch statistics
    torch.testing.assert_close(att_eval.double(), att, **tol(dtype))


def test_norms_without_affine_parameters():
    model = make()
    for name in ("key_norm", "query_norm"):
        old = getattr(model, name)
        setattr(model, name, torch.nn.BatchNorm1d(old.num_features, affine=False).double())
        getattr(model, name).weight = None
    genetics, imaging = inputs()
    model.train()
    ref = copy.deepcopy(model)
    for name in ("key_norm", "query_norm"):  # the oracle's BN with weight 1, bias 0
        norm = getattr(ref, name)
        norm.weight = torch.nn.Parameter(torch.ones(norm.num_features, dtype=torch.float64))
        norm.bias = torch.nn.Parameter(torch.zeros(norm.num_features, dtype=torch.float64))
    _, att, _, _ = oracle(ref, genetics, imaging, True)
    torch.testing.assert_close(model.attention(genetics, imaging), att, **tol(torch.float64))


@pytest.mark.parametrize("variant", VARIANTS)
def test_gradients_equal_autograd_of_the_formula(variant):
    model = make(**variant)
    genetics, imaging = inputs()
    model.train()
    ref = copy.deepcopy(model)
    weight = torch.randn(B, P, R, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    logits, att, fused = model(genetics, imaging)
    (logits.sum() + (att * weight).sum() + fused.square().sum()).backward()
    params = dict(ref.named_parameters())

    # the oracle again, differentiably, on the copy's parameters
    def by_hand():
        c = ref.config

        def norm(x, n):
            mean, var = x.mean(0), x.var(0, unbiased=False)
            return (x - mean) / torch.sqrt(var + n.eps) * n.weight + n.bias

        h = norm(genetics.reshape(-1, 1) @ params["query_in.weight"].T, ref.query_norm)
        q = (lrelu(h) @ params["query_out.weight"].T).view(B, P, -1)
        q = lrelu(q) if c.reference_query_activation else q
        k = norm(imaging.reshape(-1, NF) @ params["key.weight"].T, ref.key_norm).view(B, R, -1)
        k = lrelu(k) if c.key_activation else k
        v = norm(imaging.reshape(-1, NF) @ params["value_in.weight"].T, ref.value_norm)
        v = (lrelu(v) @ params["value_out.weight"].T).view(B, R)
        s = torch.relu(q @ k.transpose(1, 2)) / (c.gamma * math.sqrt(P) / 2)
        a = s / (s.abs() + c.softsign_c)
        f = torch.einsum("bpr,br->bp", a, v)
        x = lrelu(norm(f, ref.fused_norm)) @ params["head_hidden.weight"].T
        x = lrelu(norm(x + params["head_hidden.bias"], ref.head_norm))
        return (x @ params["head_out.weight"].T + params["head_out.bias"]).squeeze(-1), a, f

    logits, att, fused = by_hand()
    (logits.sum() + (att * weight).sum() + fused.square().sum()).backward()
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.grad, params[name].grad, rtol=1e-9, atol=1e-11, msg=name)


def test_float32_value_kernel_gradients_equal_the_float64_formula():
    model = make(torch.float32)
    ref = make(torch.float64)
    genetics, imaging = inputs(torch.float32)
    model.train(), ref.train()
    v32 = model.values(imaging)
    weight = torch.randn(B, R, generator=torch.Generator().manual_seed(5))
    (v32 * weight).sum().backward()
    v64 = ref.values(imaging.double().requires_grad_(True))  # PyTorch layers (input grad)
    (v64 * weight.double()).sum().backward()
    torch.testing.assert_close(v32.double(), v64.detach(), rtol=2e-5, atol=2e-6)
    for name in ("value_in.weight", "value_out.weight", "value_norm.weight", "value_norm.bias"):
        a = dict(model.named_parameters())[name].grad.double()
        b = dict(ref.named_parameters())[name].grad
        torch.testing.assert_close(a, b, rtol=2e-4, atol=2e-5, msg=name)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("variant", VARIANTS)
def test_objective_terms_are_the_forward_pass_and_the_summed_kl(dtype, variant):
    model = make(dtype, **variant)
    genetics, imaging = inputs(dtype)
    model.train()
    rho = 0.07
    logits, att, _, _ = oracle(model, genetics, imaging, True)
    got_logits, rows, kl = model.objective_terms(genetics, imaging, rho)
    torch.testing.assert_close(got_logits.double(), logits, **tol(dtype))
    torch.testing.assert_close(rows.double(), att.sum(-1), **tol(dtype))
    torch.testing.assert_close(kl.double(), kl_sum(att, rho), **tol(dtype))
    # wide clamps: the eps must be used; at 0.3 attention above 0.7 meets the upper bound
    assert float(att.detach().max()) > 0.7 and float(att.detach().min()) < 0.3
    for eps in (1e-2, 0.3):
        model = make(dtype, **variant)
        model.train()
        _, _, kl = model.objective_terms(genetics, imaging, rho, eps)
        torch.testing.assert_close(kl.double(), kl_sum(att, rho, eps), **tol(dtype))


def test_softsign_gradient_is_zero_where_the_score_is_not_positive():
    model = make(dtype=torch.float64)
    scores = torch.tensor([[[-1.0, 0.0, 0.5, 2.0]]], dtype=torch.float64, requires_grad=True)
    from neuropathx.models.neuropathx import _softsign_attention

    k = 0.8
    a = _softsign_attention(scores, k)
    torch.testing.assert_close(a, torch.tensor([[[0.0, 0.0, 0.5 / 1.3, 2.0 / 2.8]]],
                                                dtype=torch.float64))  # fmt: skip
    (a * torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)).sum().backward()
    expected = [0.0, 0.0, 3.0 * k / 1.3**2, 4.0 * k / 2.8**2]
    assert scores.grad[0, 0].tolist() == pytest.approx(expected, rel=1e-12)
    assert model.softsign_k == pytest.approx(0.8 * 1.7 * math.sqrt(P) / 2, rel=1e-15)
    assert model.config.attention_scale == pytest.approx(1.7 * math.sqrt(P) / 2, rel=1e-15)


def test_measure_moments_are_the_flat_rows_their_mean_and_biased_covariance():
    _, imaging = inputs()
    flat, mean, cov = measure_moments(imaging)
    rows = imaging.reshape(-1, NF)
    torch.testing.assert_close(flat, rows, rtol=0, atol=0)
    torch.testing.assert_close(mean, rows.mean(0))
    centred = rows - rows.mean(0)
    torch.testing.assert_close(cov, centred.T @ centred / (B * R))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])  # float32: the C mask
def test_dropout_in_training_only_with_inverted_scaling(dtype):
    model = make(dtype, dropout=0.25)
    x = torch.ones(400, 50, dtype=dtype)
    model.train()
    torch.manual_seed(3)
    y = model._dropout(x)
    assert y.unique().tolist() == pytest.approx([0.0, 1 / 0.75], rel=1e-6)
    assert float((y == 0).double().mean()) == pytest.approx(0.25, abs=0.02)
    torch.manual_seed(3)
    torch.testing.assert_close(model._dropout(x), y, rtol=0, atol=0)  # from torch's generator
    assert not torch.equal(model._dropout(x), y)
    model.eval()
    assert torch.equal(model._dropout(x), x)
    none = make(dtype, dropout=0.0)
    none.train()
    assert torch.equal(none._dropout(x), x)


def test_value_init_normal_draws_the_last_value_weight_from_a_unit_normal():
    assert VALUE_INITS == ("default", "normal")
    big = NeuroPathXConfig(n_pathways=P, n_regions=R, n_measures=NF, d_v=4000,
                           value_init="normal")  # fmt: skip
    w = NeuroPathX(big).value_out.weight.detach()
    assert float(w.std()) == pytest.approx(1.0, abs=0.05)
    assert float(w.mean()) == pytest.approx(0.0, abs=0.05)
    default = NeuroPathX(NeuroPathXConfig(n_pathways=P, n_regions=R, n_measures=NF, d_v=4000))
    bound = 1 / math.sqrt(4000)  # nn.Linear's kaiming-uniform bound
    assert float(default.value_out.weight.abs().max()) <= bound
    torch.manual_seed(0)
    model = NeuroPathX(NeuroPathXConfig(n_pathways=P, n_regions=R, n_measures=NF))
    assert torch.equal(model.head_hidden.bias, torch.zeros(model.config.hidden))
    for name in ("query_in", "query_out", "key", "value_in", "head_hidden"):
        w = getattr(model, name).weight
        fan_out, fan_in = w.shape
        assert float(w.abs().max()) <= math.sqrt(6 / (fan_in + fan_out)), name  # xavier
        assert getattr(model, name).bias is None or name == "head_hidden"


def test_config_checks_and_dict():
    ok = dict(n_pathways=3, n_regions=2)
    for name in ("n_pathways", "n_regions", "n_measures", "d_q", "d_qk", "d_v", "hidden"):
        for bad in (0, -1, 2.0, True):
            with pytest.raises(ValueError) as err:
                NeuroPathXConfig(**{**ok, name: bad})
            assert str(err.value) == f"NeuroPathXConfig.{name} must be a positive int, got {bad!r}"
        NeuroPathXConfig(**{**ok, name: 1})
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError) as err:
            NeuroPathXConfig(**ok, dropout=bad)
        assert str(err.value) == f"NeuroPathXConfig.dropout must be in [0, 1), got {bad!r}"
    NeuroPathXConfig(**ok, dropout=0.0)
    for key in ("softsign_c", "gamma"):
        for bad in (0.0, -1.0):
            with pytest.raises(ValueError) as err:
                NeuroPathXConfig(**ok, **{key: bad})
            assert str(err.value) == "NeuroPathXConfig.softsign_c and gamma must be positive"
    with pytest.raises(ValueError) as err:
        NeuroPathXConfig(**ok, value_init="zeros")
    assert str(err.value) == (
        "NeuroPathXConfig.value_init must be one of ('default', 'normal'), got 'zeros'"
    )
    d = NeuroPathXConfig(**ok).to_dict()
    assert d == {"n_pathways": 3, "n_regions": 2, "n_measures": 4, "d_q": 32, "d_qk": 32,
                 "d_v": 8, "hidden": 24, "dropout": 0.5, "softsign_c": 0.5, "gamma": 1.0,
                 "leaky_slope": 0.2, "reference_query_activation": False,
                 "key_activation": False, "value_init": "default", "region_dim": 0}  # fmt: skip
    assert native_kernel is not None


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("key_activation", [False, True])
def test_queries_and_keys_called_directly_equal_the_formula(reference, key_activation):
    """The public ``queries``/``keys``: Q with the second activation only in reference mode,
    K = BN(I W_k) with the activation only when ``key_activation``."""
    model = make(reference_query_activation=reference, key_activation=key_activation)
    genetics, imaging = inputs()
    model.train()
    W = {n: p.detach() for n, p in model.named_parameters()}
    h, _ = bn(genetics.reshape(-1, 1) @ W["query_in.weight"].T, model.query_norm, True)
    q = (lrelu(h) @ W["query_out.weight"].T).view(B, P, -1)
    k, _ = bn(imaging.reshape(-1, NF) @ W["key.weight"].T, model.key_norm, True)
    k = k.view(B, R, -1)
    torch.testing.assert_close(model.queries(genetics), lrelu(q) if reference else q)
    torch.testing.assert_close(model.keys(imaging), lrelu(k) if key_activation else k)
    # both options together: attention from the activated query and key
    both = make(reference_query_activation=True, key_activation=True)
    both.train()
    _, att, _, _ = oracle(both, genetics, imaging, True)
    torch.testing.assert_close(both.attention(genetics, imaging), att, **tol(torch.float64))


def test_running_variance_of_a_two_row_batch_is_unbiased():
    """n = 2 rows per channel (B = 2 subjects, one region): the running variance takes
    var * n / (n - 1) = twice the biased variance, as torch's own BatchNorm1d does."""
    torch.manual_seed(4)
    config = NeuroPathXConfig(n_pathways=1, n_regions=1, n_measures=NF, d_q=3, d_qk=2, d_v=2,
                              hidden=3, dropout=0.0)  # fmt: skip
    model = NeuroPathX(config).double()
    reference = copy.deepcopy(model)
    genetics = torch.tensor([[0.3], [-1.2]], dtype=torch.float64)
    imaging = torch.tensor([[[0.5, 2.0, -1.0]], [[1.5, -0.5, 0.25]]], dtype=torch.float64)
    model.train(), reference.train()
    model(genetics, imaging)
    reference.key_norm(reference.key(imaging).reshape(2, -1))
    reference.value_norm(reference.value_in(imaging).reshape(2, -1))
    reference.query_norm(reference.query_in(genetics.reshape(2, 1)))
    for name in ("key_norm", "value_norm", "query_norm"):
        a, b = getattr(model, name), getattr(reference, name)
        torch.testing.assert_close(a.running_var, b.running_var, msg=name)
        torch.testing.assert_close(a.running_mean, b.running_mean, msg=name)
    x = reference.key(imaging).reshape(2, -1).detach()
    want = 0.9 * 1.0 + 0.1 * (x[0] - x[1]).square() / 2  # unbiased variance of two values
    torch.testing.assert_close(model.key_norm.running_var, want)


def test_eager_dropout_is_torchs_and_the_c_mask_takes_a_62_bit_seed_from_torch():
    """float64 (no C kernel): torch's own dropout under the same global seed. float32 with
    the C kernels: the hash mask seeded by one draw in [0, 2**62) from torch's generator, so
    a run seeded by its config reproduces its masks. Without dropout nothing is drawn."""
    x64 = torch.ones(40, 30, dtype=torch.float64)
    model = make(torch.float64, dropout=0.4)
    model.train()
    torch.manual_seed(11)
    want = torch.nn.functional.dropout(x64, 0.4, training=True)
    torch.manual_seed(11)
    torch.testing.assert_close(model._dropout(x64), want, rtol=0, atol=0)
    if native_kernel.load() is None:
        missing_tool(f"C kernels unavailable: {native_kernel.build_error()}")
    x32 = torch.ones(40, 30, dtype=torch.float32)
    model32 = make(torch.float32, dropout=0.4)
    model32.train()
    torch.manual_seed(11)
    seed = int(torch.randint(0, 2**62, (1,)))
    torch.manual_seed(11)
    got = model32._dropout(x32)
    torch.testing.assert_close(got, native_kernel.dropout_mask(x32, 0.4, seed), rtol=0, atol=0)
    assert not torch.equal(got, torch.nn.functional.dropout(x32, 0.4, training=True))
    for dtype in (torch.float32, torch.float64):
        none = make(dtype, dropout=0.0)
        none.train()
        torch.manual_seed(5)
        out = none._dropout(torch.ones(8, 3, dtype=dtype))
        assert torch.equal(out, torch.ones(8, 3, dtype=dtype))
        after = torch.rand(1)
        torch.manual_seed(5)
        assert torch.equal(after, torch.rand(1)), dtype  # no random number consumed


def test_float32_values_pass_the_gradient_to_measures_that_require_it():
    """The C value kernel gives no input gradient, so measures that require one (saliency
    of the imaging) take the PyTorch layers: the gradient equals the float64 formula's."""
    model = make(torch.float32)
    ref = make(torch.float64)
    model.train(), ref.train()
    _, imaging = inputs(torch.float32)
    img32 = imaging.clone().requires_grad_(True)
    img64 = imaging.double().requires_grad_(True)
    weight = torch.randn(B, R, generator=torch.Generator().manual_seed(6))
    (model.values(img32) * weight).sum().backward()
    (ref.values(img64) * weight.double()).sum().backward()
    assert img32.grad is not None
    torch.testing.assert_close(img32.grad.double(), img64.grad, rtol=2e-4, atol=2e-5)
