"""NeuroPathX model: shapes, attention range, the formulas of METHOD.md §2, gradients."""

import math

import pytest
import torch
import torch.nn.functional as F

from neuropathx.models.neuropathx import NeuroPathX, NeuroPathXConfig

B, P, R, NF = 6, 5, 4, 3


def _model(**kw) -> NeuroPathX:
    torch.manual_seed(0)
    model = NeuroPathX(NeuroPathXConfig(n_pathways=P, n_regions=R, n_measures=NF, **kw))
    for bn in (model.query_norm, model.key_norm, model.value_norm):  # non-trivial affine
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.normal_()
    return model.double()


def _inputs():
    g = torch.Generator().manual_seed(1)
    return (
        torch.randn(B, P, generator=g, dtype=torch.float64),
        torch.randn(B, R, NF, generator=g, dtype=torch.float64),
    )


def _bn(x: torch.Tensor, bn) -> torch.Tensor:
    """Training-mode batch norm by hand, statistics over all rows."""
    mean, var = x.mean(0), x.var(0, unbiased=False)
    return (x - mean) / torch.sqrt(var + bn.eps) * bn.weight + bn.bias


def _attention_by_hand(model: NeuroPathX, genetics, imaging, reference: bool) -> torch.Tensor:
    lrelu = lambda x: F.leaky_relu(x, 0.2)  # noqa: E731
    h = lrelu(_bn(genetics.reshape(-1, 1) * model.query_in.weight.T, model.query_norm))
    q = (h @ model.query_out.weight.T).view(B, P, -1)
    if reference:
        q = lrelu(q)
    k = _bn(imaging.reshape(-1, NF) @ model.key.weight.T, model.key_norm).view(B, R, -1)
    s = torch.relu(q @ k.transpose(1, 2)) / (1.0 * math.sqrt(P) / 2)
    return s / (s.abs() + 0.5)


def test_shapes_and_attention_range():
    model = _model()
    genetics, imaging = _inputs()
    logits, att, fused = model(genetics * 5, imaging * 5)
    assert logits.shape == (B,) and att.shape == (B, P, R) and fused.shape == (B, P)
    assert att.min() >= 0 and att.max() < 1
    assert (att == 0).any()  # the ReLU zeroes negative scores


@pytest.mark.parametrize("reference", [False, True])
def test_attention_equals_the_formula(reference):
    model = _model(reference_query_activation=reference, dropout=0.0)
    genetics, imaging = _inputs()
    model.train()
    att = model.attention(genetics, imaging)
    torch.testing.assert_close(att, _attention_by_hand(model, genetics, imaging, reference))


def test_reference_mode_differs_only_by_the_second_query_activation():
    genetics, imaging = _inputs()
    paper, ref = _model(), _model(reference_query_activation=True)
    ref.load_state_dict(paper.state_dict())
    assert not torch.allclose(paper.attention(genetics, imaging), ref.attention(genetics, imaging))


def test_fused_representation_is_attention_times_values():
    model = _model(dropout=0.0)
    genetics, imaging = _inputs()
    _, att, fused = model(genetics, imaging)
    v_in = _bn(imaging.reshape(-1, NF) @ model.value_in.weight.T, model.value_norm)
    v = (F.leaky_relu(v_in, 0.2) @ model.value_out.weight.T).view(B, R)
    torch.testing.assert_close(fused, torch.einsum("bpr,br->bp", att, v))


@pytest.mark.parametrize("reference", [False, True])
def test_gradients_reach_every_parameter(reference):
    model = _model(reference_query_activation=reference)
    genetics, imaging = _inputs()
    logits, att, _ = model(genetics, imaging)
    (logits.sum() + att.sum()).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_eval_mode_uses_running_statistics():
    model = _model()
    genetics, imaging = _inputs()
    model(genetics, imaging)
    model.eval()
    one = model(genetics[:1], imaging[:1])[0]
    batch = model(genetics, imaging)[0]
    torch.testing.assert_close(one, batch[:1])


def test_config_rejects_bad_widths():
    with pytest.raises(ValueError, match="d_q"):
        NeuroPathXConfig(n_pathways=3, n_regions=2, d_q=0)
    with pytest.raises(ValueError, match="dropout"):
        NeuroPathXConfig(n_pathways=3, n_regions=2, dropout=1.0)


@pytest.mark.parametrize("key_activation", [False, True])
def test_regions_are_exchangeable_the_model_has_no_region_identity(key_activation):
    """Keys, values and their norms are one function of a region's F measures shared by all
    regions, and the fused representation sums over regions: permuting the regions (the same
    permutation for every subject) permutes the attention columns and leaves the logits and
    X_IGC unchanged. A coupling of one pathway with one region can only reach the head summed
    with every other region's term (README "Demo scenarios", coupling)."""
    torch.manual_seed(0)
    cfg = NeuroPathXConfig(n_pathways=6, n_regions=12, key_activation=key_activation)
    model = NeuroPathX(cfg).eval()
    genetics, imaging = torch.randn(32, 6), torch.randn(32, 12, 4)
    perm = torch.randperm(12)
    with torch.no_grad():
        logits, attention, fused = model(genetics, imaging)
        logits_p, attention_p, fused_p = model(genetics, imaging[:, perm])
    torch.testing.assert_close(logits_p, logits, atol=1e-5, rtol=0)
    torch.testing.assert_close(fused_p, fused, atol=1e-5, rtol=0)
    torch.testing.assert_close(attention_p, attention[:, :, perm], atol=1e-6, rtol=0)
