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
