"""Seed ensembles (training.ensemble) and the spread across seeds (reporting.seed_stability)."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from neuropathx.errors import InputError
from neuropathx.evaluation import collect_fold_metrics
from neuropathx.metrics import binary_metrics
from neuropathx.reporting.seed_stability import (
    ensemble_size_spread,
    jaccard,
    seed_differences,
    seed_link_shares,
    seed_spread,
    seed_spread_markdown,
    seed_stability_markdown,
    top_link_sets,
)
from neuropathx.reproducibility import CheckFold, check_cohort
from neuropathx.training import (
    load_checkpoint,
    predict_cohort,
    train_fold,
    write_fold_outputs,
)
from neuropathx.training.ensemble import SEED_STRIDE, member_seeds, train_seed_ensemble

PARAMS = {"epochs": 3, "patience": 2, "min_epochs": 1, "batch_size": 32}


@pytest.fixture(scope="module")
def fold():
    return check_cohort(CheckFold(n=120, pathways=5, regions=9, seed=2))


@pytest.fixture(scope="module")
def ensemble(fold):
    cohort, roles = fold
    return train_seed_ensemble(cohort, roles, {**PARAMS, "seeds": 3}, seed=4, device="cpu")


def test_one_seed_is_exactly_the_single_run(fold):
    cohort, roles = fold
    single = train_fold(cohort, roles, PARAMS, seed=4, device="cpu")
    ens = train_seed_ensemble(cohort, roles, {**PARAMS, "seeds": 1}, seed=4, device="cpu")
    assert np.array_equal(ens.result.attention, single.attention)
    pd.testing.assert_frame_equal(ens.result.predictions, single.predictions)
    assert ens.result.metrics["auc"] == single.metrics["auc"]
    assert ens.result.metrics["seeds"]["seed"] == [4]


def test_members_use_their_own_seeds_and_the_ensemble_averages_them(ensemble):
    members, result = ensemble.members, ensemble.result
    assert [m.seed for m in members] == [4, 4 + SEED_STRIDE, 4 + 2 * SEED_STRIDE]
    assert not np.array_equal(members[0].attention, members[1].attention)
    probs = np.stack([m.predictions["probability"].to_numpy() for m in members])
    np.testing.assert_allclose(result.predictions["probability"], probs.mean(0), rtol=1e-12)
    att = np.stack([m.attention.astype(np.float64) for m in members]).mean(0)
    np.testing.assert_allclose(result.attention, att, rtol=1e-6)
    test = result.predictions["split"] == "test"
    expected = binary_metrics(result.test_labels, probs.mean(0)[test.to_numpy()])
    assert result.metrics["auc"] == expected["auc"]
    assert result.metrics["seeds"]["auc"] == [m.metrics["auc"] for m in members]
    assert result.metrics["best_epoch"] == int(
        np.median([m.metrics["best_epoch"] for m in members])
    )
    assert sorted(set(result.history["seed"])) == [m.seed for m in members]


def test_outputs_hold_the_members_and_their_class_sums(ensemble, tmp_path):
    write_fold_outputs(
        ensemble.result,
        tmp_path,
        extra_attention=ensemble.attention_arrays(),
        extra_checkpoint=ensemble.checkpoint_extra(),
    )
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["seeds"]["seed"] == [m.seed for m in ensemble.members]
    assert metrics["cpu_build"]["isa_level"]  # the CPU build is recorded
    with np.load(tmp_path / "attention.npz") as data:
        labels = data["label"]
        assert data["seed_patient_sum"].shape == (3, 5, 9)
        for k, member in enumerate(ensemble.members):
            np.testing.assert_allclose(
                data["seed_control_sum"][k], member.attention[labels == 0].sum(0), rtol=1e-5
            )
            assert np.array_equal(
                data["seed_probability"][k],
                member.predictions.query("split == 'test'")["probability"].to_numpy(),
            )
    # the members' differences average to the ensemble's (the contrast is linear)
    diffs = seed_differences([tmp_path / "attention.npz"])
    att = ensemble.result.attention
    ensemble_diff = att[labels == 1].mean(0) - att[labels == 0].mean(0)
    np.testing.assert_allclose(diffs.mean(0), ensemble_diff, atol=1e-6)


def test_predicting_from_an_ensemble_checkpoint_averages_the_members(fold, ensemble, tmp_path):
    """predict_cohort gives the ensemble's probabilities and attention (each member's
    prediction averaged), not the first member's; the loaded model keeps its weights."""
    cohort, roles = fold
    write_fold_outputs(ensemble.result, tmp_path, extra_checkpoint=ensemble.checkpoint_extra())
    model, ckpt = load_checkpoint(tmp_path / "model.pt")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    prob, att = predict_cohort(model, ckpt, cohort)
    used = roles != ""
    expected = ensemble.result.predictions["probability"].to_numpy()
    np.testing.assert_allclose(prob[used], expected, rtol=1e-6)
    first = ensemble.members[0].predictions["probability"].to_numpy()
    assert np.abs(prob[used] - first).max() > 1e-4  # not the first member alone
    test = roles == "test"
    assert att.dtype == np.float32
    np.testing.assert_allclose(att[test], ensemble.result.attention, rtol=1e-5, atol=1e-7)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_zero_seeds_is_refused():
    with pytest.raises(ValueError, match="training.seeds must be >= 1"):
        member_seeds(1, 0)


def _fold_file(path, patient_sum, control_sum, labels):
    k, p, r = patient_sum.shape
    np.savez(
        path,
        attention=np.zeros((len(labels), p, r), np.float16),
        label=np.asarray(labels),
        participant_id=np.array([f"s{i}" for i in range(len(labels))]),
        pathways=np.array([f"p{i}" for i in range(p)]),
        regions=np.array([f"r{i}" for i in range(r)]),
        seed_patient_sum=patient_sum.astype(np.float32),
        seed_control_sum=control_sum.astype(np.float32),
    )
    return path


def test_links_are_ranked_per_seed_over_all_folds(tmp_path):
    """Two seeds, two folds, 1 pathway x 3 regions: differences worked out by hand."""
    # fold A: 1 patient, 1 control; fold B: 1 patient, 2 controls -> 2 patients, 3 controls
    a = _fold_file(
        tmp_path / "a.npz",
        np.array([[[0.8, 0.05, 0.3]], [[0.0, 0.9, 0.3]]]),
        np.zeros((2, 1, 3)),
        [1, 0],
    )
    b = _fold_file(
        tmp_path / "b.npz",
        np.array([[[0.8, 0.05, 0.3]], [[0.0, 0.9, 0.3]]]),
        np.array([[[0.3, 0.0, 0.0]], [[0.3, 0.0, 0.0]]]),
        [1, 0, 0],
    )
    diffs = seed_differences([a, b])
    # patients: sums over both folds / 2; controls: (0.3, 0, 0) / 3
    np.testing.assert_allclose(diffs[0, 0], [0.8 - 0.1, 0.05, 0.3], atol=1e-6)
    np.testing.assert_allclose(diffs[1, 0], [0.0 - 0.1, 0.9, 0.3], atol=1e-6)
    assert top_link_sets(diffs, 1) == [{0}, {1}]
    assert jaccard(*top_link_sets(diffs, 1)) == 0.0
    assert jaccard(*top_link_sets(diffs, 2)) == pytest.approx(1 / 3)  # {0, 2} vs {1, 2}
    links = pd.DataFrame({"rank": [1, 2, 3], "pathway": ["p0"] * 3, "region": ["r1", "r0", "r2"]})
    shares = seed_link_shares([a, b], links, ["p0"], ["r0", "r1", "r2"], top_k=2)
    assert shares.tolist() == [0.5, 0.5, 1.0]
    text = seed_stability_markdown(links.assign(seed_stability=shares), top_k=2)
    assert "| 1 | p0 | r1 | 0.50 |" in text


def test_folds_with_different_seed_counts_are_refused(tmp_path):
    a = _fold_file(tmp_path / "a.npz", np.ones((2, 1, 2)), np.ones((2, 1, 2)), [1, 0])
    b = _fold_file(tmp_path / "b.npz", np.ones((3, 1, 2)), np.ones((3, 1, 2)), [1, 0])
    with pytest.raises(InputError, match="same training.seeds"):
        seed_differences([a, b])


def test_one_seed_or_old_files_give_no_seed_stability(tmp_path):
    a = _fold_file(tmp_path / "a.npz", np.ones((1, 1, 2)), np.ones((1, 1, 2)), [1, 0])
    links = pd.DataFrame({"rank": [1], "pathway": ["p0"], "region": ["r0"]})
    assert seed_link_shares([a], links, ["p0"], ["r0", "r1"], 1).isna().all()
    np.savez(tmp_path / "old.npz", label=np.array([1, 0]))
    assert seed_differences([tmp_path / "old.npz"]) is None
    assert "training.seeds: 1" in seed_stability_markdown(links.assign(seed_stability=np.nan), 1)


def test_evaluation_reports_the_spread_across_seeds(tmp_path):
    metrics = {m: 0.5 for m in ("accuracy", "sensitivity", "specificity", "auc", "f1", "kappa")}
    paths = []
    for fold, aucs in enumerate([[0.6, 0.7, 0.8], [0.5, 0.5, 0.8]]):
        path = tmp_path / "neuropathx" / "repeat0" / f"fold{fold}" / "metrics.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({**metrics, "seeds": {"auc": aucs}}))
        paths.append(path)
    base = tmp_path / "logreg" / "repeat0" / "fold0" / "metrics.json"
    base.parent.mkdir(parents=True)
    base.write_text(json.dumps(metrics))
    folds = collect_fold_metrics([*paths, base])
    sd = folds.set_index("model")["auc_seed_sd"]
    assert sd["neuropathx"].tolist() == pytest.approx([0.1, np.sqrt(0.03)])
    assert np.isnan(sd["logreg"])
    assert seed_spread({"seeds": {"auc": [0.6]}}) == {
        "n_seeds": 1,
        "auc_seed_sd": pytest.approx(np.nan, nan_ok=True),
    }
    text = seed_spread_markdown(folds)
    assert f"SD across its 3 seeds {(0.1 + np.sqrt(0.03)) / 2:.3f} (mean over 2 folds" in text
    assert "logreg" not in text


def test_ensemble_size_spread_compares_independent_sub_ensembles(tmp_path):
    """Four members, sub-ensembles of two: {0, 1} ranks the test subjects perfectly (AUC 1),
    {2, 3} backwards (AUC 0); their top link differs (Jaccard 0)."""
    labels = np.array([1, 0, 1, 0])
    good, bad = np.array([0.9, 0.1, 0.8, 0.2]), np.array([0.1, 0.9, 0.2, 0.8])
    patient = np.zeros((4, 1, 2))
    patient[:2, 0, 0], patient[2:, 0, 1] = 1.0, 1.0  # members 0, 1 favour r0; 2, 3 favour r1
    path = _fold_file(tmp_path / "a.npz", patient, np.zeros((4, 1, 2)), labels)
    with np.load(path) as data:
        arrays = dict(data)
    np.savez(path, **arrays, seed_probability=np.stack([good, good, bad, bad]))
    two = ensemble_size_spread([path], 2, top_k=1)
    assert two["independent_ensembles"] == 2
    assert two["fold_auc_sd"] == pytest.approx(np.sqrt(0.5))
    assert two["top_links_jaccard"] == 0.0
    four = ensemble_size_spread([path], 4, top_k=1)
    assert np.isnan(four["fold_auc_sd"]) and four["jaccard_pairs"] == 0
