"""The C kernels (``models/csrc``) equal the PyTorch code: values, gradients, fallbacks."""

import functools
import math

import pytest
import torch
import torch.nn.functional as F
from required_tools import missing_tool

from neuropathx.models import attention_core as core
from neuropathx.models import backend, native_kernel
from neuropathx.models.losses import LOG_CLAMP, pathway_rows_loss, sparsity_loss
from neuropathx.models.neuropathx import image_factors, measure_moments
from neuropathx.training.optim import FlatAdamW


@functools.cache
def _kernels_missing() -> str | None:
    """Why the C kernels are not built, as said at the first try (later tests fake errors)."""
    return None if native_kernel.load() is not None else str(native_kernel.build_error())


@pytest.fixture
def kernels():
    """The built C kernels; without a compiler a skip, a failure under CI=true."""
    if _kernels_missing():
        missing_tool(f"C kernels unavailable: {_kernels_missing()}")


needs_kernels = pytest.mark.usefixtures("kernels")


@pytest.fixture
def native(kernels):
    before = backend.chosen()
    backend.use_backend("native")
    yield
    backend.use_backend(before)


def _direct_terms(qt, it, v, k, rho):
    """Row sums, fused A V and the summed KL of A, straight from METHOD.md (float64)."""
    r = torch.relu(torch.bmm(qt, it))
    a = r / (r + k)
    return a.sum(-1), torch.bmm(a, v[..., None]).squeeze(-1), 2 * len(a) * sparsity_loss(a, rho)


@pytest.mark.parametrize(
    ("b", "p", "r", "f1", "lambda_sp", "bias_row"),
    [
        (7, 6, 13, 5, 0.3, False),
        (3, 4, 8, 2, 0.3, False),
        (2, 1, 1, 1, 0.3, False),
        (5, 9, 68, 5, 0.0, True),
        (3, 4, 150, 5, 0.3, True),  # Destrieux-sized: 19 blocks, two spans of the forward
        (2, 3, 136, 2, 0.3, False),  # 17 blocks: one block past the first span
    ],
)
def test_attention_kernel_equals_the_formula_in_float64(native, b, p, r, f1, lambda_sp, bias_row):
    g = torch.Generator().manual_seed(b * 100 + r)
    qt = torch.randn(b, p, f1, dtype=torch.float64, generator=g)
    it = torch.randn(b, f1, r, dtype=torch.float64, generator=g) * 2
    if bias_row:  # the model's image factors: the last row is 1 (the key's shift)
        it[:, -1] = 1.0
    it[0, :, 0] = 50.0  # a score so large that u is clamped at (1 - eps)/eps
    v = torch.randn(b, r, dtype=torch.float64, generator=g)
    k, rho = 0.7, 0.05
    fast_in = [t.float().requires_grad_(True) for t in (qt, it, v)]
    assert backend.backend_for(*fast_in) == "native"
    fast = core.attention_terms(*fast_in, k, rho, LOG_CLAMP)
    slow_in = [t.clone().requires_grad_(True) for t in (qt, it, v)]
    slow = _direct_terms(*slow_in, k, rho)
    for f, s in zip(fast, slow, strict=True):
        torch.testing.assert_close(f.double(), s, rtol=2e-5, atol=2e-5 * s.abs().max().item())
    w_rows, w_fused = torch.randn(2, b, p, dtype=torch.float64, generator=g)
    for out, w in ((fast, lambda t: t.float()), (slow, lambda t: t)):
        loss = (out[0] * w(w_rows)).sum() + (out[1] * w(w_fused)).sum() + lambda_sp * out[2]
        loss.backward()
    for f, s in zip(fast_in, slow_in, strict=True):
        scale = s.grad.abs().max().item()
        torch.testing.assert_close(f.grad.double(), s.grad, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize(("eps", "r"), [(LOG_CLAMP, 68), (1e-15, 68), (1e-21, 68), (0.2, 150)])
def test_grouped_kl_logs_stay_finite_at_the_clamp(native, eps, r):
    """Every entry at the upper clamp u = (1-eps)/eps: the kernel multiplies up to six factors
    (1 + u) before a log, which must shrink the group where the product would overflow
    (eps = 1e-15: 1e15^3 = 1e45, two per log; eps = 1e-21: one). 68 regions are 9 blocks of
    8, three full groups; 150 are 19 blocks in two spans of the staged forward, the last
    with 2 padded lanes whose factor must be exactly 1 (with eps = 0.2 a factor 1 + u there
    would add log 1.25 per lane)."""
    b, p = 2, 3
    qt = torch.ones(b, p, 2)
    it = torch.full((b, 2, r), 1e21)  # scores 2e21: u above every clamp
    v = torch.ones(b, r)
    got = {}
    for name in ("native", "eager"):
        backend.use_backend(name)
        got[name] = core.attention_terms(qt, it, v, 0.5, 0.01, eps)[2]
    hi = (1 - eps) / eps
    # A = 1 (in float32), so each entry is logit(A_c) - logit(rho) - log(1 + u) - log(1 - rho)
    entry = math.log(hi) - math.log(0.01 / 0.99) - math.log1p(hi) - math.log1p(-0.01)
    assert math.isfinite(float(got["native"]))
    torch.testing.assert_close(got["native"].double(), torch.tensor(b * p * r * entry,
                               dtype=torch.float64), rtol=1e-4, atol=1e-3)  # fmt: skip
    torch.testing.assert_close(got["native"], got["eager"], rtol=1e-5, atol=1e-3)


def test_attention_kernel_matches_the_eager_passes_in_float32(native):
    g = torch.Generator().manual_seed(11)
    qt, it, v = torch.randn(16, 30, 6, generator=g), torch.randn(16, 6, 70, generator=g), None
    v = torch.randn(16, 70, generator=g)
    k, rho = 1.3, 0.01
    out = {}
    for name in ("native", "eager"):
        backend.use_backend(name)
        inputs = [t.clone().requires_grad_(True) for t in (qt, it, v)]
        rows, fused, kl = core.attention_terms(*inputs, k, rho, LOG_CLAMP)
        (rows.square().sum() + fused.sum() + 1e-3 * kl).backward()
        out[name] = [rows, fused, kl] + [t.grad for t in inputs]
    for a, b in zip(out["native"], out["eager"], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(("b", "r", "nf"), [(3, 68, 4), (2, 5, 3), (1, 1, 1)])
def test_measure_layouts_equal_the_pytorch_ones_bit_for_bit(native, b, r, nf):
    """The centred measure rows and the image factors It: the same bits as ATen's
    ``flat - mean`` and transpose-and-cat (four measures take their own loop)."""
    g = torch.Generator().manual_seed(r)
    imaging = torch.randn(b, r, nf, generator=g) * 3 + 1
    imaging[0, 0] = -0.0  # signed zeros stay as they are
    flat = imaging.reshape(b * r, nf)
    mean = flat.mean(0)
    expected = flat - mean
    assert torch.equal(native_kernel.centre(flat, mean), expected)
    assert torch.equal(
        native_kernel.centre(flat, mean).view(torch.int32), expected.view(torch.int32)
    )
    it = native_kernel.image_factors(imaging)
    expected_it = torch.cat([imaging.transpose(1, 2), torch.ones(b, 1, r)], 1)
    assert torch.equal(it.view(torch.int32), expected_it.view(torch.int32))
    transposed = imaging.transpose(0, 1).contiguous().transpose(0, 1)  # not contiguous
    assert torch.equal(native_kernel.image_factors(transposed), expected_it)
    moments = {}
    for name in ("native", "eager"):
        backend.use_backend(name)
        moments[name] = measure_moments(imaging)
    for a, e in zip(moments["native"], moments["eager"], strict=True):
        assert torch.equal(a.view(torch.int32), e.view(torch.int32))
    backend.use_backend("native")  # measures that need a gradient keep the PyTorch ops
    leaf = imaging.clone().requires_grad_(True)
    (measure_moments(leaf)[2].sum() + image_factors(leaf).square().sum()).backward()
    weight = ((flat - mean).sum(1) * 2 / (b * r)).view(b, r, 1)  # d(sum of cov)/dx
    torch.testing.assert_close(leaf.grad, 2 * imaging + weight)


def test_query_kernel_equals_the_hidden_layer(native):
    g = torch.Generator().manual_seed(4)
    a = torch.randn(9, generator=g)
    a[2] = 0.0  # a channel with no kink
    c, m = torch.randn(9, generator=g), torch.randn(9, 4, generator=g)
    kinks = -c[a != 0] / a[a != 0]
    # values exactly on a kink: test_query_kernel_picks_the_same_pieces_as_searchsorted
    x = torch.cat([torch.randn(500, generator=g) * 3, kinks + 1e-3, kinks - 1e-3, torch.zeros(3)])
    params = [t.clone().requires_grad_(True) for t in (a, c, m)]
    assert backend.native_for(x)
    fast = core.piecewise_leaky_mlp(x, *params, 0.2)
    ref = [t.double().requires_grad_(True) for t in (a, c, m)]
    slow = F.leaky_relu(x.double()[:, None] * ref[0] + ref[1], 0.2) @ ref[2]
    torch.testing.assert_close(fast.double(), slow, rtol=1e-5, atol=1e-5)
    weight = torch.randn(fast.shape, generator=g)
    (fast * weight).sum().backward()
    (slow * weight.double()).sum().backward()
    for p, q in zip(params, ref, strict=True):
        torch.testing.assert_close(p.grad.double(), q.grad, rtol=1e-4, atol=1e-4)


@needs_kernels
def test_query_kernel_picks_the_same_pieces_as_searchsorted():
    kinks = torch.tensor([-1.0, 0.0, 0.5, 2.0])
    table = torch.arange(9 * 2, dtype=torch.float32).reshape(9, 2)  # W = 1: slope, offset
    x = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.0, 5.0])
    out, piece = native_kernel.query_rows(x, kinks, table)
    # intervals 0..4, kinks themselves 5..8 (index of the kink + K + 1)
    assert piece.tolist() == [0, 5, 1, 6, 2, 7, 3, 8, 4]
    torch.testing.assert_close(out[:, 0], table[piece, 1] + x * table[piece, 0])


def _pieces_by_searchsorted(x, kinks):
    """The oracle for the query kernel's pieces: torch.searchsorted, then the kink rows."""
    if len(kinks) == 0:
        return torch.zeros(len(x), dtype=torch.int64)
    piece = torch.searchsorted(kinks, x)  # x in (kinks[i-1], kinks[i]]
    on_kink = kinks[piece.clamp_max(len(kinks) - 1)] == x
    return torch.where(on_kink, piece + len(kinks) + 1, piece)


@needs_kernels
@pytest.mark.parametrize(
    "n, k, w",
    [
        (1003, 32, 5),  # blocks of 4 kinks, N not a multiple of 8, the last rows buffered
        (7, 32, 5),  # fewer x than one vector
        (1, 3, 5),  # one row, narrower than 8 lanes
        (37, 40, 3),  # blocks of 8 kinks, the last one partial
        (50, 64, 8),  # the most kinks and the widest rows of the vector path
        (50, 70, 5),  # more kinks: the plain loop
        (30, 10, 9),  # wider rows: the plain loops
        (20, 0, 2),  # no kinks: one piece
        (19, 1, 1),
    ],
)
def test_query_kernel_pieces_rows_and_gradient_at_awkward_sizes(n, k, w):
    g = torch.Generator().manual_seed(n + k + w)
    kinks = torch.randn(k, generator=g)
    if k >= 6:
        kinks[:3] = kinks[3]  # a repeated kink
        kinks[4], kinks[5] = 0.0, -0.0
    kinks = kinks.sort().values
    x = torch.randn(n, generator=g) * 2
    if k:
        x[::3] = kinks[torch.arange(0, n, 3) % k]  # exactly on kinks, every one of them
    x[1::7] = torch.tensor([0.0, -0.0, 1e30, -1e30, float("inf"), float("-inf")]).repeat(n)[
        : len(x[1::7])
    ]
    table = torch.randn(2 * k + 1, 2 * w, generator=g)
    out, piece = native_kernel.query_rows(x, kinks, table)
    want = _pieces_by_searchsorted(x, kinks)
    assert torch.equal(piece, want)
    rows = table[want]
    assert torch.equal(out, rows[:, w:] + x[:, None] * rows[:, :w])  # same bits: no FMA
    g_out = torch.randn(n, w, generator=g)
    x = torch.where(x.abs() < 1e3, x, 0.0)  # finite sums for the gradient (same pieces)
    g_table = native_kernel.query_rows_backward(x, piece, g_out, len(table))
    ref = torch.zeros(len(table), 2 * w, dtype=torch.float64)
    ref.index_add_(0, want, torch.cat([x[:, None] * g_out, g_out], 1).double())
    torch.testing.assert_close(g_table.double(), ref, rtol=1e-5, atol=1e-5)
    stacked = native_kernel.query_rows_backward(x, piece, g_out, len(table), stacked=True)
    assert torch.equal(stacked, torch.cat([g_table[:, :w], g_table[:, w:]], 0))


@pytest.mark.parametrize(
    ("b", "p", "every"),
    [
        (19, 7, 3),  # 7 patients, 12 controls: a short last block of controls and of pathways
        (40, 20, 5),  # 32 controls (no short block); pathways 8 + 8 + 4
        (23, 9, -7),  # 16 patients, 7 controls (fewer than 8): every short-block slot
        (10, 1, -10),  # one pathway, one control
        (11, 17, 11),  # one patient, 10 controls; pathways 8 + 8 + 1
        (30, 16, 2),  # 15 patients, 15 controls, two full blocks of pathways
    ],
)
def test_pair_l1_kernel_equals_all_pairs_with_ties(native, b, p, every):
    g = torch.Generator().manual_seed(6 + b + p)
    rows = torch.randn(b, p, generator=g)
    rows[3, :2] = rows[4, :2]  # patient-control ties (in most cases): zero subgradient
    rows[:, -1] = 0.0
    rows[1::4, 0] = -0.0
    rows[::2, p // 2] = torch.randint(0, 3, (len(rows[::2]),), generator=g) * 0.5  # ties
    index = torch.arange(b) % abs(every) == 0
    labels = (index if every > 0 else ~index).float()
    fast_in = rows.clone().requires_grad_(True)
    fast = pathway_rows_loss(fast_in, labels, "l1")
    fast.backward()
    slow_in = rows.double().requires_grad_(True)
    slow = torch.cdist(slow_in[labels == 1][None], slow_in[labels == 0][None], p=1.0).mean()
    slow.backward()
    torch.testing.assert_close(fast.double(), slow, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(fast_in.grad.double(), slow_in.grad, rtol=1e-6, atol=1e-7)


@needs_kernels
def test_pair_l1_kernel_gives_a_nan_loss_the_bits_of_the_first_nan_term():
    rows = torch.rand(12, 10)
    is_patient = torch.arange(12) < 5
    negative, positive = -torch.tensor(math.nan), torch.tensor(math.nan)
    rows[1, 3], rows[7, 6] = negative, positive  # pathway 3 comes first
    value, grad = native_kernel.pair_l1(rows, is_patient)
    assert math.isnan(value) and math.copysign(1.0, value) < 0
    assert torch.isfinite(grad).all()
    rows[1, 3], rows[7, 6] = positive, negative
    value, _ = native_kernel.pair_l1(rows, is_patient)
    assert math.isnan(value) and math.copysign(1.0, value) > 0
    rows[7, 6] = 1.0
    rows[2, 0], rows[3, 0] = negative, positive  # patients 2 and 3, pathway 0: patient 2 first
    value, _ = native_kernel.pair_l1(rows, is_patient)
    assert math.isnan(value) and math.copysign(1.0, value) < 0
    rows[1, 3], rows[2, 0], rows[3, 0], rows[7, 6] = 0.5, 0.5, 0.5, positive
    rows[0, 1], rows[11, 1] = math.inf, math.inf  # inf - inf: the machine's default NaN
    value, _ = native_kernel.pair_l1(rows, is_patient)
    default = torch.tensor(math.inf) - torch.tensor(math.inf)
    assert math.isnan(value) and math.copysign(1.0, value) == math.copysign(1.0, default)


@needs_kernels
def test_pair_l1_kernel_rejects_a_single_class():
    with pytest.raises(ValueError, match="both patients and controls"):
        native_kernel.pair_l1(torch.randn(4, 3), torch.ones(4, dtype=torch.bool))


def test_no_compiler_falls_back_to_pytorch_and_says_why(monkeypatch, tmp_path):
    monkeypatch.setenv("NEUROPATHX_KERNEL_CACHE", str(tmp_path))
    monkeypatch.setattr(native_kernel, "_compiler", lambda: None)
    assert native_kernel.build_and_load() is None
    assert "no C compiler" in native_kernel.build_error()
    monkeypatch.setattr(native_kernel, "load", native_kernel.build_and_load)
    before = backend.chosen()
    backend.use_backend("native")
    try:
        assert backend.backend_for(torch.zeros(2)) == "eager"
    finally:
        backend.use_backend(before)


def test_a_failing_compiler_is_reported(monkeypatch, tmp_path):
    fake = tmp_path / "cc"
    fake.write_text("#!/bin/sh\necho 'cc: fatal error: broken toolchain' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("NEUROPATHX_KERNEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(native_kernel, "_compiler", lambda: str(fake))
    assert native_kernel.build_and_load() is None
    assert "broken toolchain" in native_kernel.build_error()
    assert not list((tmp_path / "cache").glob("*.so"))  # no half-written library left


@needs_kernels
def test_the_library_is_built_once_into_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("NEUROPATHX_KERNEL_CACHE", str(tmp_path))
    assert native_kernel.build_and_load() is not None
    built = list(tmp_path.glob("neuropathx_kernels-*.so"))
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    assert native_kernel.build_and_load() is not None
    assert built[0].stat().st_mtime_ns == stamp  # reused, not rebuilt
    assert not list(tmp_path.glob("tmp*"))


def test_unknown_backend_is_rejected():
    with pytest.raises(ValueError, match="native"):
        backend.use_backend("fast")


def test_flat_adamw_equals_torch_adamw():
    def model():
        torch.manual_seed(0)
        return torch.nn.Sequential(
            torch.nn.Linear(5, 7), torch.nn.BatchNorm1d(7), torch.nn.Linear(7, 1)
        )

    ours, theirs = model(), model()
    flat = FlatAdamW(ours, lr=1e-2, weight_decay=1e-2)
    reference = torch.optim.AdamW(theirs.parameters(), lr=1e-2, weight_decay=1e-2)
    x = torch.randn(32, 5, generator=torch.Generator().manual_seed(1))
    for _ in range(25):
        flat.zero_grad()
        ours(x).square().mean().backward()
        flat.step()
        reference.zero_grad()
        theirs(x).square().mean().backward()
        reference.step()
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert ours[0].weight.grad.data_ptr() == flat.grad.data_ptr()  # gradients land in place
    assert math.isclose(flat.steps, 25)


@pytest.mark.parametrize("training", [True, False])
def test_value_kernel_equals_the_layers_and_updates_running_stats_alike(native, training):
    from neuropathx.models.neuropathx import NeuroPathX, NeuroPathXConfig

    torch.manual_seed(0)
    fast = NeuroPathX(NeuroPathXConfig(n_pathways=3, n_regions=11, n_measures=4))
    fast.value_norm.weight.data.uniform_(0.5, 1.5)
    fast.value_norm.bias.data.normal_()
    imaging = torch.randn(9, 11, 4, generator=torch.Generator().manual_seed(2)) * 2 + 1
    fast.values(imaging)  # non-trivial running statistics
    direct = NeuroPathX(fast.config).double()
    direct.load_state_dict({k: v.double() for k, v in fast.state_dict().items()})
    fast.train(training), direct.train(training)
    got = fast.values(imaging)
    backend.use_backend("eager")
    want = direct.values(imaging.double())
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-5)
    for (name, a), b in zip(fast.named_buffers(), direct.buffers(), strict=True):
        torch.testing.assert_close(a.double(), b.double(), rtol=1e-5, atol=1e-6, msg=name)
    if training:
        weight = torch.randn(got.shape, generator=torch.Generator().manual_seed(3))
        backend.use_backend("native")
        (fast.values(imaging) * weight).sum().backward()
        backend.use_backend("eager")
        (direct.values(imaging.double()) * weight.double()).sum().backward()
        for (name, a), b in zip(fast.named_parameters(), direct.parameters(), strict=True):
            if b.grad is not None:
                torch.testing.assert_close(a.grad.double(), b.grad, rtol=1e-4, atol=1e-5, msg=name)


@needs_kernels
@pytest.mark.parametrize(("n", "f", "j"), [(8 * 68 * 2, 4, 8), (613, 4, 8), (45, 3, 5), (7, 1, 2)])
def test_value_kernels_equal_the_mlp_and_its_gradients_in_float64(n, f, j):
    """Several chunks of rows (n > 256), a short last block, and measure counts other than 4."""
    g = torch.Generator().manual_seed(n + f)
    flat = torch.randn(n, f, generator=g)
    flat[::5] = 0.0  # h = c exactly: zero for the units with c = 0 (LeakyReLU'(0) = slope)
    weight, shift = torch.randn(f, j, generator=g), torch.randn(j, generator=g)
    shift[0] = 0.0
    w_out, g_out = torch.randn(j, generator=g), torch.randn(n, generator=g)
    g_out[1::7] = 0.0
    out = native_kernel.value_mlp(flat, weight, shift, w_out, 0.01)
    grads = native_kernel.value_mlp_backward(flat, weight, shift, w_out, 0.01, g_out)
    params = [t.double().requires_grad_(True) for t in (weight, shift, w_out)]
    want = F.leaky_relu(flat.double() @ params[0] + params[1], 0.01) @ params[2]
    (want * g_out.double()).sum().backward()
    torch.testing.assert_close(out.double(), want.detach(), rtol=1e-5, atol=1e-5)
    for got, p in zip(grads, params, strict=True):
        torch.testing.assert_close(got.double(), p.grad, rtol=1e-4, atol=1e-4)


@needs_kernels
def test_dropout_mask_keeps_the_right_share_scaled_and_follows_the_seed():
    like = torch.empty(200, 500)
    mask = native_kernel.dropout_mask(like, 0.3, seed=12345)
    kept = mask > 0
    assert abs(kept.float().mean().item() - 0.7) < 0.005  # 100,000 draws: SD 0.0014
    torch.testing.assert_close(mask[kept], torch.full_like(mask[kept], 1 / 0.7))
    assert torch.equal(mask, native_kernel.dropout_mask(like, 0.3, seed=12345))
    other = native_kernel.dropout_mask(like, 0.3, seed=12346)
    assert 0.35 < (other > 0).eq(kept).float().mean().item() < 0.65  # independent: ~0.58
    rows, cols = kept.float().mean(1), kept.float().mean(0)  # no stripes along either axis
    assert rows.std() < 0.05 and cols.std() < 0.05


def test_model_dropout_uses_the_seeded_mask_in_training_only(native):
    from neuropathx.models.neuropathx import NeuroPathX, NeuroPathXConfig

    model = NeuroPathX(NeuroPathXConfig(n_pathways=40, n_regions=3, dropout=0.5))
    x = torch.ones(64, 40)
    torch.manual_seed(7)
    first = model._dropout(x)
    torch.manual_seed(7)
    assert torch.equal(first, model._dropout(x))
    assert set(first.unique().tolist()) == {0.0, 2.0}
    model.eval()
    assert torch.equal(model._dropout(x), x)


@needs_kernels
def test_attention_kernels_give_the_same_bits_on_several_threads():
    g = torch.Generator().manual_seed(12)
    qt, it = torch.randn(50, 9, 5, generator=g), torch.randn(50, 5, 20, generator=g)
    v, g_rows, g_fused = torch.randn(50, 20, generator=g), *torch.randn(2, 50, 9, generator=g)
    results = []
    try:
        for threads in (1, 3):
            native_kernel.set_threads(threads)
            assert len(native_kernel._subject_chunks(50)) == threads
            out = native_kernel.forward(qt, it, v, 1.1, -4.6, 1e-6, 1e6)
            grads = native_kernel.backward(qt, it, v, 1.1, -4.6, 1e-6, 1e6, g_rows, g_fused, 0.2)
            results.append(out + grads)
    finally:
        native_kernel.set_threads(1)
    for one, three in zip(*results, strict=True):
        assert torch.equal(one, three)
    assert len(native_kernel._subject_chunks(12)) == 1  # too few subjects to split


@needs_kernels
def test_training_gives_the_threads_to_the_kernels():
    from neuropathx.training.loop import configure_speed

    before = torch.get_num_threads()
    try:
        configure_speed("native", threads=2)
        assert torch.get_num_threads() == 1
        assert native_kernel._THREADS["n"] == 2
        configure_speed("eager", threads=2)
        assert torch.get_num_threads() == 2
    finally:
        configure_speed("native", threads=1)
        torch.set_num_threads(before)


@needs_kernels
def test_training_log_says_why_native_kernels_did_not_run(monkeypatch, caplog):
    from neuropathx.training import loop

    with caplog.at_level("INFO", logger="neuropathx.training.loop"):
        loop._log_kernel("native", torch.zeros(2))
        loop._log_kernel("native", torch.zeros(2, dtype=torch.float64))  # runs in PyTorch
        monkeypatch.setattr(native_kernel, "load", lambda: None)
        monkeypatch.setattr(native_kernel, "build_error", lambda: "no C compiler found")
        loop._log_kernel("native", torch.zeros(2))
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert messages[0] == ("INFO", "hot loops run with the native kernels")
    assert messages[1] == ("INFO", "hot loops run in PyTorch (eager) for cpu tensors")
    assert messages[2][0] == "WARNING" and "no C compiler found" in messages[2][1]
