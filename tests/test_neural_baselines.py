"""G-MIND and SurvPATH baselines: shapes, losses by hand, masking, determinism, training."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_training import _cohort, _roles

from neuropathx.models.gmind import GMind, GMindConfig
from neuropathx.models.survpath import SurvPath, SurvPathConfig, attention_mask
from neuropathx.training import load_checkpoint, train_fold, write_fold_outputs
from neuropathx.training.neural import split_params

B, P, R, NF = 6, 5, 4, 3
FAST = {"epochs": 30, "lr": 0.01, "batch_size": 16, "patience": 30, "min_epochs": 1}


def _inputs(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(B, P, generator=gen), torch.randn(B, R, NF, generator=gen)


def test_gmind_shapes_and_loss_by_hand():
    torch.manual_seed(0)
    model = GMind(GMindConfig(P, R, NF, hidden=7, latent=3)).eval()
    g, im = _inputs()
    logits, attention = model(g, im)
    assert logits.shape == (B,) and attention is None
    labels = torch.tensor([1.0, 0, 0, 1, 0, 0])
    total, bce, extra = model.loss_terms(g, im, labels, pos_weight=2.0)
    # by hand: eval mask = keep probability 0.9 at init; latent = mean of the two codes
    flat = im.reshape(B, -1)
    z = 0.5 * (model.encode_genetics(0.9 * g) + model.encode_imaging(0.9 * flat))
    zl = model.classifier(z).squeeze(-1)
    p = torch.sigmoid(zl)
    want_bce = -(2.0 * labels * torch.log(p) + (1 - labels) * torch.log(1 - p)).mean()
    want_img = ((model.decode_imaging(z) - flat) ** 2).mean()
    want_gen = ((model.decode_genetics(z) - g) ** 2).mean()
    torch.testing.assert_close(logits, zl)
    torch.testing.assert_close(bce, want_bce)
    torch.testing.assert_close(extra, torch.stack([want_img, want_gen, torch.tensor(0.9)]))
    want = want_bce + 1e-4 * want_img + 1e-3 * want_gen + 1e-3 * 0.9
    torch.testing.assert_close(total, want)


def test_gmind_dropout_gradient_reaches_keep_probabilities():
    torch.manual_seed(1)
    model = GMind(GMindConfig(P, R, NF)).train()
    g, im = _inputs()
    total, _, _ = model.loss_terms(g, im, torch.tensor([1.0, 0, 1, 0, 1, 0]), 1.0)
    total.backward()
    assert model.drop_genetics.keep_logit.grad.abs().min() > 0
    importance = model.feature_importance(
        [f"p{i}" for i in range(P)], [f"c{i}" for i in range(R * NF)]
    )
    assert len(importance["feature"]) == P + R * NF
    assert importance["keep_probability"][0] == pytest.approx(0.9)


def test_survpath_pathway_tokens_are_one_mlp_per_pathway():
    torch.manual_seed(2)
    model = SurvPath(SurvPathConfig(P, R, NF, d_token=4, pathway_hidden=3))
    g, im = _inputs()
    tokens = model.tokens(g, im)
    assert tokens.shape == (B, P + R, 4)
    for j in range(P):  # pathway j's own MLP, one at a time
        h = F.leaky_relu(g[:, j : j + 1] * model.pathway_in[j] + model.pathway_in_bias[j], 0.2)
        torch.testing.assert_close(
            tokens[:, j], h @ model.pathway_out[j] + model.pathway_out_bias[j]
        )
    torch.testing.assert_close(tokens[:, P:], im @ model.region.weight.T + model.region.bias)


def test_survpath_masking_by_hand():
    torch.manual_seed(3)
    model = SurvPath(SurvPathConfig(P, R, NF, d_token=4)).eval()
    g, im = _inputs()
    x = model.tokens(g, im)
    _, weights = model.attend(x)
    q, k = model.query(x), model.key(x)
    for t in (0, P):  # a pathway query sees all P+R tokens; a region query only pathways
        seen = P + R if t < P else P
        s = (q[:, t, None, :] * k[:, :seen]).sum(-1) / 2.0  # sqrt(d) = 2
        want = torch.zeros(B, P + R)
        want[:, :seen] = torch.softmax(s, dim=-1)
        torch.testing.assert_close(weights[:, t], want)
    assert not attention_mask(P, R)[P:, P:].any() and attention_mask(P, R)[:P].all()
    logits, attention = model(g, im)
    assert logits.shape == (B,) and attention.shape == (B, P, R)
    torch.testing.assert_close(attention, weights[:, :P, P:])
    assert attention.sum(-1).max().item() < 1  # pathway rows also weigh pathway tokens


def test_survpath_loss_is_weighted_bce():
    torch.manual_seed(4)
    model = SurvPath(SurvPathConfig(P, R, NF)).eval()
    g, im = _inputs()
    labels = torch.tensor([1.0, 0, 0, 1, 1, 0])
    total, bce, extra = model.loss_terms(g, im, labels, 0.5)
    p = torch.sigmoid(model(g, im)[0])
    want = -(0.5 * labels * torch.log(p) + (1 - labels) * torch.log(1 - p)).mean()
    torch.testing.assert_close(total, want)
    assert extra.numel() == 0


def test_unknown_baseline_parameter_is_an_error():
    with pytest.raises(ValueError, match="unknown survpath parameter 'lambda_sp'"):
        split_params("survpath", {"architecture": "survpath", "lambda_sp": 0.1})
    model, optim = split_params("gmind", {"architecture": "gmind", "latent": 8, "lr": 0.1})
    assert model == {"latent": 8} and optim.lr == 0.1


@pytest.fixture(scope="module", params=["gmind", "survpath"])
def trained(request):
    params = {"architecture": request.param, **FAST}
    return request.param, train_fold(_cohort(), _roles(), params, seed=11, device="cpu")


def test_baseline_learns_planted_signal(trained):
    from sklearn.metrics import roc_auc_score

    _, result = trained
    train = result.predictions[result.predictions.split == "train"]
    assert roc_auc_score(train.label, train.probability) > 0.9
    assert result.metrics["auc"] > 0.8


def test_baseline_training_is_deterministic(trained):
    name, result = trained
    again = train_fold(_cohort(), _roles(), {"architecture": name, **FAST}, seed=11, device="cpu")
    for key, value in result.state_dict.items():
        assert torch.equal(value, again.state_dict[key]), key
    other = train_fold(_cohort(), _roles(), {"architecture": name, **FAST}, seed=12, device="cpu")
    assert not all(torch.equal(v, other.state_dict[k]) for k, v in result.state_dict.items())


def test_baseline_outputs_and_checkpoint(trained, tmp_path):
    name, result = trained
    write_fold_outputs(result, tmp_path)
    model, ckpt = load_checkpoint(tmp_path / "model.pt")
    assert ckpt["architecture"] == name
    assert type(model).__name__ == {"gmind": "GMind", "survpath": "SurvPath"}[name]
    for key, value in model.state_dict().items():
        assert torch.equal(value, result.state_dict[key]), key
    if name == "gmind":
        assert not (tmp_path / "attention.npz").exists()
        importance = np.genfromtxt(
            tmp_path / "feature_importance.tsv", names=True, dtype=None, delimiter="\t"
        )
        assert len(importance) == 5 + 4 * 4
    else:
        with np.load(tmp_path / "attention.npz") as npz:
            assert set(npz.files) == {"attention", "label", "participant_id", "pathways", "regions"}
            assert npz["attention"].shape == (10, 5, 4)
            assert list(npz["participant_id"]) == list(result.test_subjects)
    assert not math.isnan(float(result.history["val_auc"].iloc[-1]))
