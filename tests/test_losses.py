"""NeuroPathX losses against hand computations on tiny tensors."""

import math

import pytest
import torch

from neuropathx.models.losses import (
    LOG_CLAMP,
    classification_loss,
    neuropathx_loss,
    pathway_similarity_loss,
    sparsity_loss,
)


def test_bce_weights_patients_by_pos_weight():
    logits = torch.tensor([0.5, -1.0])
    labels = torch.tensor([1, 0])
    expected = (2.0 * math.log1p(math.exp(-0.5)) + math.log1p(math.exp(-1.0))) / 2
    assert classification_loss(logits, labels, pos_weight=2.0).item() == pytest.approx(expected)


def _kl(a: float, rho: float) -> float:
    ac = min(max(a, LOG_CLAMP), 1 - LOG_CLAMP)
    return a * math.log(ac / rho) + (1 - a) * math.log((1 - ac) / (1 - rho))


def test_sparsity_is_half_summed_kl_averaged_over_subjects():
    att = torch.tensor([[[0.2, 0.5]], [[0.0, 0.9]]], dtype=torch.float64)  # (B=2, P=1, R=2)
    rho = 0.1
    expected = 0.5 * ((_kl(0.2, rho) + _kl(0.5, rho)) + (_kl(0.0, rho) + _kl(0.9, rho))) / 2
    assert sparsity_loss(att, rho).item() == pytest.approx(expected, rel=1e-12)
    assert _kl(0.0, rho) == pytest.approx(-math.log(0.9), abs=1e-5)  # A = 0 stays finite


def test_sparsity_gradient_matches_autograd_of_the_formula():
    att = torch.tensor([[[0.2, 0.5], [1e-9, 0.7]]], dtype=torch.float64, requires_grad=True)
    rho = 0.05
    sparsity_loss(att, rho).backward()
    ref = att.detach().clone().requires_grad_(True)
    c = ref.clamp(LOG_CLAMP, 1 - LOG_CLAMP)
    naive = ref * torch.log(c / rho) + (1 - ref) * torch.log((1 - c) / (1 - rho))
    (0.5 * naive.sum() / 1).backward()
    torch.testing.assert_close(att.grad, ref.grad)


def _att_with_row_sums():
    # rows sums s^n = A^n 1_R: subject 0 -> (1, 2), subject 1 -> (0.5, 0), subject 2 -> (2, 2)
    a = torch.tensor(
        [[[0.5, 0.5], [1.0, 1.0]], [[0.25, 0.25], [0.0, 0.0]], [[1.0, 1.0], [1.5, 0.5]]],
        dtype=torch.float64,
    )
    return a, torch.tensor([1, 0, 0])


def test_pathway_similarity_l1_l2_cosine_over_all_pairs():
    att, labels = _att_with_row_sums()
    # pairs (0,1): diff (0.5, 2); (0,2): diff (-1, 0)
    assert pathway_similarity_loss(att, labels, "l1").item() == pytest.approx((2.5 + 1.0) / 2)
    l2 = (math.sqrt(0.25 + 4) + 1.0) / 2
    assert pathway_similarity_loss(att, labels, "l2").item() == pytest.approx(l2)
    cos01 = 0.5 / (math.sqrt(5) * 0.5)
    cos02 = 6 / (math.sqrt(5) * math.sqrt(8))
    expected = ((1 - cos01) + (1 - cos02)) / 2
    assert pathway_similarity_loss(att, labels, "cosine").item() == pytest.approx(expected)


def test_pathway_similarity_sampled_pairs_use_the_generator():
    att, labels = _att_with_row_sums()
    gen = torch.Generator().manual_seed(3)
    got = pathway_similarity_loss(att, labels, "l1", n_pairs=5, generator=gen)
    gen = torch.Generator().manual_seed(3)
    i = torch.randint(1, (5,), generator=gen)
    j = torch.randint(2, (5,), generator=gen)
    rows = att.sum(-1)
    pat, ctl = rows[labels == 1], rows[labels == 0]
    expected = (pat[i] - ctl[j]).abs().sum(1).mean()
    assert got.item() == pytest.approx(expected.item())


def test_l2_distance_has_finite_gradient_at_zero_distance():
    att = torch.ones(2, 2, 2, dtype=torch.float64, requires_grad=True)
    pathway_similarity_loss(att, torch.tensor([1, 0]), "l2").backward()
    assert torch.isfinite(att.grad).all()


def test_total_loss_combines_terms_and_skips_regularisers_on_single_class_batch():
    att, labels = _att_with_row_sums()
    logits = torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64)

    def loss(attention, labels, pos_weight=1.0, **kw):
        return neuropathx_loss(
            logits, attention, labels, pos_weight=pos_weight, lambda_sp=0.1, lambda_path=0.01,
            rho=0.01, **kw,
        )  # fmt: skip

    t = loss(att.clamp(max=0.9), labels, pos_weight=2.0)
    # every term by hand: BCE with the patient weighted 2, the halved KL averaged over the 3
    # subjects (entries 0.5,0.5,0.9,0.9 | 0.25,0.25,0,0 | 0.9,0.9,0.9,0.5), L1 over 2 pairs
    bce = 2 * math.log1p(math.exp(-0.3)) + math.log1p(math.exp(-0.2)) + math.log1p(math.exp(0.1))
    bce /= 3
    entries = [0.5, 0.5, 0.9, 0.9, 0.25, 0.25, 0.0, 0.0, 0.9, 0.9, 0.9, 0.5]
    sparsity = 0.5 * sum(_kl(a, 0.01) for a in entries) / 3
    assert t.bce.item() == pytest.approx(bce, rel=1e-12)
    assert t.sparsity.item() == pytest.approx(sparsity, rel=1e-9)
    assert t.pathway.item() == pytest.approx(1.75)
    assert t.total.item() == pytest.approx(bce + 0.1 * sparsity + 0.01 * 1.75, rel=1e-9)
    single = loss(att, torch.tensor([0, 0, 0]))
    assert single.sparsity.item() == 0 and single.pathway.item() == 0
    assert single.total.item() == pytest.approx(single.bce.item())
    small = loss(att.clamp(max=0.9), labels, min_batch_for_reg=4)
    assert small.pathway.item() == 0


# ---- float64 pure-Python oracles of METHOD.md §3 (the checks below are mutation-tested) ----


def _kl_eps(a: float, rho: float, eps: float) -> float:
    ac = min(max(a, eps), 1 - eps)
    return a * math.log(ac / rho) + (1 - a) * math.log((1 - ac) / (1 - rho))


def _logit(x: float) -> float:
    return math.log(x) - math.log(1 - x)


def test_sparsity_clamps_both_ends_and_takes_its_eps():
    entries = [[0.0, 1.0, 1e-9], [1 - 1e-9, 0.3, 0.02], [0.5, 1e-4, 0.999]]  # (B=3, P=1, R=3)
    att = torch.tensor(entries, dtype=torch.float64)[:, None, :]
    rho = 0.02
    for eps, got in ((LOG_CLAMP, sparsity_loss(att, rho)), (1e-3, sparsity_loss(att, rho, 1e-3))):
        expected = 0.5 * sum(_kl_eps(a, rho, eps) for row in entries for a in row) / 3
        assert got.item() == pytest.approx(expected, rel=1e-12)
    assert sparsity_loss(att, rho, 1e-3).item() != pytest.approx(sparsity_loss(att, rho).item())
    f32 = sparsity_loss(att.float(), rho)
    assert f32.dtype == torch.float32
    assert f32.item() == pytest.approx(sparsity_loss(att, rho).item(), rel=1e-5)


def test_sparsity_gradient_is_the_logit_difference_over_twice_the_batch():
    entries = [[0.2, 0.0, 0.7], [1.0, 0.01, 0.5], [0.9, 0.3, 1e-8], [0.05, 0.6, 0.4]]  # B = 4
    att = torch.tensor(entries, dtype=torch.float64)[:, None, :].requires_grad_(True)
    rho = 0.1
    (3.0 * sparsity_loss(att, rho)).backward()
    for b, row in enumerate(entries):
        for r, a in enumerate(row):
            ac = min(max(a, LOG_CLAMP), 1 - LOG_CLAMP)
            expected = 3.0 * (_logit(ac) - _logit(rho)) * 0.5 / 4
            assert att.grad[b, 0, r].item() == pytest.approx(expected, rel=1e-10)


def _rows_oracle(rows, labels):
    pairs = [(n, m) for n in range(len(labels)) for m in range(len(labels))
             if labels[n] == 1 and labels[m] == 0]  # fmt: skip
    return pairs


def _l1_oracle(rows, labels):
    """Mean all-pairs L1 and its gradient wrt the rows (sign(0) = 0)."""
    pairs = _rows_oracle(rows, labels)
    value = sum(
        sum(abs(x - y) for x, y in zip(rows[n], rows[m], strict=True)) for n, m in pairs
    ) / len(pairs)
    grad = [[0.0] * len(rows[0]) for _ in rows]
    for n, m in pairs:
        for p, (x, y) in enumerate(zip(rows[n], rows[m], strict=True)):
            s = (x > y) - (x < y)
            grad[n][p] += s / len(pairs)
            grad[m][p] -= s / len(pairs)
    return value, grad


ROWS = [[0.3, 1.2, -0.4], [0.1, 1.2, 0.9], [0.7, 0.2, 0.25], [0.3, 0.5, -1.0], [0.45, 1.0, 0.0]]
ROW_LABELS = [1, 0, 1, 0, 0]  # ties: 0.3 (patient, control) and 1.2 (patient, control)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])  # float32: the C kernel
@pytest.mark.parametrize("ties", [True, False])
def test_all_pairs_l1_value_and_gradient(dtype, ties):
    rows = [r[:] for r in ROWS]
    if not ties:
        rows[3][0], rows[1][1] = 0.35, 1.1
    value, grad = _l1_oracle(rows, ROW_LABELS)
    att = torch.tensor(rows, dtype=dtype)[..., None].repeat(1, 1, 2) / 2  # row sums = rows
    att.requires_grad_(True)
    got = pathway_similarity_loss(att, torch.tensor(ROW_LABELS), "l1")
    (2.0 * got).backward()
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    assert got.dtype == dtype
    assert got.item() == pytest.approx(value, rel=tol)
    expected = torch.tensor(grad, dtype=torch.float64)[..., None].expand(-1, -1, 2) * 2.0
    torch.testing.assert_close(att.grad.double(), expected, rtol=tol, atol=tol)


def test_pathway_loss_on_small_rows_l2_and_cosine():
    # norms below 1: the cosine's eps (1e-8) matters only for (near-)zero rows
    rows = [[0.03, 0.04], [0.0, 0.05], [0.06, 0.0], [0.01, 0.02]]
    labels = [1, 0, 1, 0]
    pairs = _rows_oracle(rows, labels)
    l2 = sum(math.dist(rows[n], rows[m]) for n, m in pairs) / len(pairs)

    def cos(x, y):
        return sum(a * b for a, b in zip(x, y, strict=True)) / (math.hypot(*x) * math.hypot(*y))

    cosine = sum(1 - cos(rows[n], rows[m]) for n, m in pairs) / len(pairs)
    att = torch.tensor(rows, dtype=torch.float64)[..., None]
    lab = torch.tensor(labels)
    assert pathway_similarity_loss(att, lab, "l2").item() == pytest.approx(l2, rel=1e-12)
    assert pathway_similarity_loss(att, lab, "cosine").item() == pytest.approx(cosine, rel=1e-12)


@pytest.mark.parametrize("metric", ["l1", "l2", "cosine"])
def test_sampled_pairs_for_every_metric(metric):
    rows = [[0.03, 0.04], [0.0, 0.05], [0.06, 0.0], [0.01, 0.02], [0.2, 0.1]]
    labels = [1, 0, 1, 0, 0]
    gen = torch.Generator().manual_seed(11)
    i = torch.randint(2, (7,), generator=gen).tolist()
    j = torch.randint(3, (7,), generator=gen).tolist()
    pat = [r for r, y in zip(rows, labels, strict=True) if y == 1]
    ctl = [r for r, y in zip(rows, labels, strict=True) if y == 0]

    def dist(x, y):
        if metric == "l1":
            return sum(abs(a - b) for a, b in zip(x, y, strict=True))
        if metric == "l2":
            return math.dist(x, y)
        dot = sum(a * b for a, b in zip(x, y, strict=True))
        return 1 - dot / (math.hypot(*x) * math.hypot(*y))

    expected = sum(dist(pat[a], ctl[b]) for a, b in zip(i, j, strict=True)) / 7
    att = torch.tensor(rows, dtype=torch.float64)[..., None]
    got = pathway_similarity_loss(
        att, torch.tensor(labels), metric, n_pairs=7, generator=torch.Generator().manual_seed(11)
    )
    assert got.item() == pytest.approx(expected, rel=1e-12)


def test_l2_distance_is_exactly_zero_with_zero_gradient_at_zero_distance():
    att = torch.tensor([[[0.1]], [[0.1]], [[0.4]]], dtype=torch.float64, requires_grad=True)
    got = pathway_similarity_loss(att, torch.tensor([1, 0, 0]), "l2")
    assert got.item() == pytest.approx(0.15, rel=1e-12)  # (0 + 0.3) / 2
    got.backward()
    assert att.grad[:, 0, 0].tolist() == pytest.approx([-0.5, 0.0, 0.5], rel=1e-12)
    same = torch.full((2, 1, 1), 0.1, dtype=torch.float64, requires_grad=True)
    zero = pathway_similarity_loss(same, torch.tensor([1, 0]), "l2")
    assert zero.item() == 0.0
    zero.backward()
    assert same.grad.abs().sum().item() == 0.0


def test_pathway_loss_errors():
    att = torch.ones(3, 2, 2)
    with pytest.raises(ValueError) as err:
        pathway_similarity_loss(att, torch.tensor([1, 0, 0]), "l3")
    assert str(err.value) == "path_metric must be one of ('l1', 'l2', 'cosine'), got 'l3'"
    for labels in ([1, 1, 1], [0, 0, 0]):
        with pytest.raises(ValueError) as err:
            pathway_similarity_loss(att, torch.tensor(labels), "l2")
        assert str(err.value) == (
            "pathway_similarity_loss needs both patients and controls in the batch"
        )


def test_bce_pos_weight_keeps_the_logits_precision():
    logits = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    labels = torch.tensor([1, 0, 1])
    w = 1 / 3
    expected = (w * math.log1p(math.exp(-0.5)) + math.log1p(math.exp(-1.0))
                + w * math.log1p(math.exp(-2.0))) / 3  # fmt: skip
    got = classification_loss(logits, labels, pos_weight=w)
    assert got.dtype == torch.float64
    assert got.item() == pytest.approx(expected, rel=1e-14)


def _parts(logits, rows_att, labels, **kw):
    args = dict(pos_weight=1.0, lambda_sp=0.1, lambda_path=0.01, rho=0.05)
    return neuropathx_loss(logits, rows_att, labels, **{**args, **kw})


def test_total_loss_wiring_of_every_option():
    rows = [[0.03, 0.04], [0.0, 0.05], [0.06, 0.0], [0.01, 0.02]]
    labels_list = [1, 0, 1, 0]
    labels = torch.tensor(labels_list)
    att = torch.tensor(rows, dtype=torch.float64)[..., None].repeat(1, 1, 2) / 2
    logits = torch.tensor([0.2, -0.1, 0.4, 0.0], dtype=torch.float64)
    bce = classification_loss(logits, labels, 1.0).item()
    entries = [a for row in rows for a in row for _ in range(2)]
    sp = 0.5 * sum(_kl_eps(a / 2, 0.05, LOG_CLAMP) for a in entries) / 4
    l1, _ = _l1_oracle(rows, labels_list)
    pairs = _rows_oracle(rows, labels_list)
    l2 = sum(math.dist(rows[n], rows[m]) for n, m in pairs) / len(pairs)
    t = _parts(logits, att, labels, min_batch_for_reg=4)  # exactly the smallest batch
    assert (t.bce.item(), t.sparsity.item(), t.pathway.item()) == pytest.approx((bce, sp, l1))
    assert t.total.item() == pytest.approx(bce + 0.1 * sp + 0.01 * l1, rel=1e-12)
    assert t == (t.total, t.bce, t.sparsity, t.pathway)
    t = _parts(logits, att, labels, path_metric="l2")
    assert t.pathway.item() == pytest.approx(l2, rel=1e-12)
    sampled = _parts(logits, att, labels, path_pairs=3, generator=torch.Generator().manual_seed(5))
    direct = pathway_similarity_loss(att, labels, "l1", 3, torch.Generator().manual_seed(5))
    assert sampled.pathway.item() == direct.item()
    assert sampled.pathway.item() != pytest.approx(l1)
    off = _parts(logits, att, labels, lambda_sp=0.0, lambda_path=0.0)
    assert (off.sparsity.item(), off.pathway.item(), off.total.item()) == (0.0, 0.0, bce)
    t = _parts(logits, att, labels, lambda_sp=0.0)
    assert t.sparsity.item() == 0.0 and t.pathway.item() == pytest.approx(l1)
    t = _parts(logits, att, labels, lambda_path=0.0)
    assert t.pathway.item() == 0.0 and t.sparsity.item() == pytest.approx(sp)
    for no_reg in (_parts(logits, att, labels, min_batch_for_reg=5),
                   _parts(logits, att, torch.tensor([1, 1, 1, 1]))):  # fmt: skip
        assert (no_reg.sparsity.item(), no_reg.pathway.item()) == (0.0, 0.0)
        assert no_reg.total.item() == no_reg.bce.item()


def test_summed_kl_as_a_tensor_or_a_callable_called_only_when_used():
    from neuropathx.models.losses import loss_from_terms

    logits = torch.tensor([0.2, -0.1, 0.4], dtype=torch.float64)
    labels = torch.tensor([1, 0, 0])
    rows = torch.tensor([[0.5], [0.1], [0.2]], dtype=torch.float64)
    kw = dict(pos_weight=1.0, lambda_sp=0.5, lambda_path=0.0)
    t = loss_from_terms(logits, rows, torch.tensor(1.2, dtype=torch.float64), labels, **kw)
    assert t.sparsity.item() == pytest.approx(1.2 * 0.5 / 3, rel=1e-12)
    t = loss_from_terms(logits, rows, lambda: torch.tensor(1.2, dtype=torch.float64), labels, **kw)
    assert t.sparsity.item() == pytest.approx(0.2, rel=1e-12)

    def never():
        raise AssertionError("the sparsity KL was computed for a batch without regularisers")

    for labels_, lambda_sp in ((torch.tensor([0, 0, 0]), 0.5), (labels, 0.0)):
        t = loss_from_terms(logits, rows, never, labels_, **{**kw, "lambda_sp": lambda_sp})
        assert t.sparsity.item() == 0.0


def test_defaults_l1_over_all_pairs_and_regularisers_from_two_subjects():
    att, labels = _att_with_row_sums()
    assert pathway_similarity_loss(att, labels).item() == pytest.approx(1.75, rel=1e-12)
    logits = torch.tensor([0.3, -0.2], dtype=torch.float64)
    two = neuropathx_loss(logits, att[:2], labels[:2], pos_weight=1.0, lambda_sp=0.1,
                          lambda_path=0.01, rho=0.01)  # fmt: skip
    assert two.pathway.item() == pytest.approx(2.5, rel=1e-12)  # row sums (1, 2) vs (0.5, 0)
    entries = [0.5, 0.5, 1.0, 1.0, 0.25, 0.25, 0.0, 0.0]
    assert two.sparsity.item() == pytest.approx(
        0.5 * sum(_kl(a, 0.01) for a in entries) / 2, rel=1e-9
    )


def test_sampled_pairs_in_the_total_use_the_given_generator():
    g = torch.Generator().manual_seed(2)
    att = torch.rand(8, 3, 2, generator=g, dtype=torch.float64)
    labels = torch.tensor([1, 0, 1, 0, 1, 0, 1, 0])
    logits = torch.zeros(8, dtype=torch.float64)
    kw = dict(pos_weight=1.0, lambda_sp=0.0, lambda_path=1.0, rho=0.01, path_pairs=5)
    for seed in (5, 6):
        got = neuropathx_loss(
            logits, att, labels, **kw, generator=torch.Generator().manual_seed(seed)
        )
        want = pathway_similarity_loss(att, labels, "l1", 5, torch.Generator().manual_seed(seed))
        assert got.pathway.item() == want.item()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_all_pairs_l1_of_a_single_pathway(dtype):
    rows = [[0.3], [0.1], [0.7], [0.3], [0.45]]
    value, grad = _l1_oracle(rows, ROW_LABELS)
    att = torch.tensor(rows, dtype=dtype)[..., None].requires_grad_(True)  # P = R = 1
    got = pathway_similarity_loss(att, torch.tensor(ROW_LABELS), "l1")
    got.backward()
    assert got.item() == pytest.approx(value, rel=1e-6)
    assert att.grad[:, 0, 0].tolist() == pytest.approx([g[0] for g in grad], rel=1e-6)


def test_row_loss_and_term_defaults_are_l1_over_all_pairs_from_two_subjects():
    from neuropathx.models.losses import loss_from_terms, pathway_rows_loss

    rows = torch.tensor([[1.0, 2.0], [0.5, 0.0], [2.0, 2.0]], dtype=torch.float64)
    labels = torch.tensor([1, 0, 0])
    assert pathway_rows_loss(rows, labels).item() == pytest.approx(1.75, rel=1e-12)
    logits = torch.tensor([0.3, -0.2], dtype=torch.float64)
    kl = torch.tensor(0.8, dtype=torch.float64)
    t = loss_from_terms(logits, rows[:2], kl, labels[:2], pos_weight=1.0, lambda_sp=1.0,
                        lambda_path=1.0)  # fmt: skip
    assert t.pathway.item() == pytest.approx(2.5, rel=1e-12)  # all pairs: the one pair, L1
    assert t.sparsity.item() == pytest.approx(0.8 * 0.5 / 2, rel=1e-12)
    logits = torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64)
    t = loss_from_terms(logits, rows, kl, labels, pos_weight=1.0, lambda_sp=1.0, lambda_path=1.0)
    assert t.pathway.item() == pytest.approx(1.75, rel=1e-12)  # both pairs (2.5, 1.0), not one


def test_one_sampled_pair_is_a_draw_not_all_pairs():
    rows = torch.tensor([[1.0], [0.0], [3.0], [10.0]], dtype=torch.float64)
    labels = torch.tensor([1, 0, 0, 0])
    for seed in range(4):
        gen = torch.Generator().manual_seed(seed)
        torch.randint(1, (1,), generator=gen)  # the patient's draw comes first
        j = torch.randint(3, (1,), generator=gen).item()
        got = pathway_similarity_loss(rows[..., None], labels, "l1", 1,
                                      torch.Generator().manual_seed(seed))  # fmt: skip
        assert got.item() == abs(1.0 - [0.0, 3.0, 10.0][j])


@pytest.mark.parametrize("tiny", ["patients", "controls"])
@pytest.mark.parametrize("n_pairs", [0, 6])
def test_cosine_of_tiny_rows_divides_by_at_least_1e8(n_pairs, tiny):
    rows = [[3e-10, 4e-10], [0.6, 0.8], [1e-9, 0.0], [0.0, 2.0]]
    labels = [1, 0, 1, 0] if tiny == "patients" else [0, 1, 0, 1]

    def unit(x):
        n = max(math.hypot(*x), 1e-8)
        return [a / n for a in x]

    def dist(x, y):
        return 1 - sum(a * b for a, b in zip(unit(x), unit(y), strict=True))

    att = torch.tensor(rows, dtype=torch.float64)[..., None]
    lab = torch.tensor(labels)
    if n_pairs:
        gen = torch.Generator().manual_seed(1)
        i = torch.randint(2, (n_pairs,), generator=gen).tolist()
        j = torch.randint(2, (n_pairs,), generator=gen).tolist()
        pat = [r for r, y in zip(rows, labels, strict=True) if y == 1]
        ctl = [r for r, y in zip(rows, labels, strict=True) if y == 0]
        want = sum(dist(pat[a], ctl[b]) for a, b in zip(i, j, strict=True)) / n_pairs
    else:
        pairs = _rows_oracle(rows, labels)
        want = sum(dist(rows[n], rows[m]) for n, m in pairs) / len(pairs)
    got = pathway_similarity_loss(att, lab, "cosine", n_pairs, torch.Generator().manual_seed(1))
    assert got.item() == pytest.approx(want, rel=1e-12)
    assert want < 0.99  # the tiny rows' unit vectors would give a distance near 1 (or 0.2)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_all_pairs_l1_of_identical_subjects_has_zero_value_and_gradient(dtype):
    att = torch.tensor([[[0.2, 0.1], [0.4, 0.4]]] * 5, dtype=dtype).requires_grad_(True)
    got = pathway_similarity_loss(att, torch.tensor([1, 0, 1, 0, 0]), "l1")
    got.backward()
    assert got.item() == 0.0
    assert att.grad.abs().sum().item() == 0.0
