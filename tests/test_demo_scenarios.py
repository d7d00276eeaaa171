"""The demo scenarios plant what they claim: generative pieces by hand, then model-free checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neuropathx.demo.atlases import region_names
from neuropathx.demo.checks import cv_auc, pair_recovery, residualise, simulate_tables
from neuropathx.demo.freesurfer_stats import STATS_COLUMNS, simulate_regional_measures
from neuropathx.demo.scenarios import (
    SCENARIOS,
    TRUTH_COLUMNS,
    Confounders,
    diagnose,
    plan_effects,
    plant_regional_effects,
)

REGIONS = [f"{h}_{r}" for h in ("lh", "rh") for r in region_names("aparc")]
PATHWAYS = ["P1", "P2", "P3", "P4"]
OFF = {"enabled": False}


@pytest.mark.parametrize(
    ("scenario", "kinds"),
    [
        ("null", set()),
        ("additive", {"additive_pathway", "additive_region"}),
        ("coupling", {"coupling"}),
        ("mixed", {"additive_pathway", "additive_region", "coupling", "pair"}),
    ],
)
def test_plan_effects_kinds_per_scenario(scenario, kinds, rng):
    truth = plan_effects(scenario, PATHWAYS, REGIONS, rng, n_additive_regions=3)
    assert list(truth.columns) == TRUTH_COLUMNS and set(truth["kind"]) == kinds
    regional = truth[truth["kind"] != "additive_pathway"]
    assert regional["region"].is_unique and set(regional["region"]) <= set(REGIONS)
    assert (truth.loc[truth["kind"] == "additive_region", "pathway"] == "").all()
    assert (truth.loc[truth["kind"] == "additive_pathway", "region"] == "").all()
    assert (truth["kind"] == "additive_region").sum() == (3 if "additive_region" in kinds else 0)
    if scenario == "mixed":  # half additive (each with one pair region), half coupled
        add = truth.loc[truth["kind"] == "additive_pathway", "pathway"]
        assert list(add) == ["P1", "P2"]
        assert list(truth.loc[truth["kind"] == "pair", "pathway"]) == ["P1", "P2"]
        assert set(truth.loc[truth["kind"] == "coupling", "pathway"]) == {"P3", "P4"}
    if scenario == "coupling":
        assert truth.groupby("pathway").size().between(2, 3).all()


def test_plan_effects_rejects_unknown_scenario_and_small_mixed(rng):
    with pytest.raises(ValueError, match="demo.scenario must be one of"):
        plan_effects("interaction", PATHWAYS, REGIONS, rng)
    with pytest.raises(ValueError, match="n_causal_pathways >= 2"):
        plan_effects("mixed", ["P1"], REGIONS, rng)
    assert SCENARIOS == ("null", "additive", "coupling", "mixed")


def test_plant_regional_effects_hand_computed():
    """Each kind's formula on a 4-subject, 2-region, 1-measure table."""
    base = np.array([[10.0, 20.0], [12.0, 22.0], [14.0, 18.0], [16.0, 20.0]])
    values = {"lh": base[:, :, None].copy(), "rh": base[:, :, None].copy()}
    d = np.array([1, 1, 0, 0], bool)
    g = np.array([[1.0], [-1.0], [2.0], [0.5]])
    truth = pd.DataFrame(
        [
            ("coupling", "P1", "lh_a", "ThickAvg", 0.5),
            ("pair", "P1", "lh_b", "ThickAvg", -0.5),
            ("additive_region", "", "rh_a", "ThickAvg", -1.0),
            ("additive_pathway", "P1", "", "", 0.4),
        ],
        columns=TRUTH_COLUMNS,
    )
    out = plant_regional_effects(values, truth, ["a", "b"], ["ThickAvg"], g, ["P1"], d)
    sd_a, sd_b = base[:, 0].std(), base[:, 1].std()
    sign = np.array([1, 1, -1, -1])
    np.testing.assert_allclose(values["lh"][:, 0, 0], base[:, 0] + 0.5 * sign * g[:, 0] * sd_a)
    np.testing.assert_allclose(values["lh"][:, 1, 0], base[:, 1] - 0.5 * d * g[:, 0] * sd_b)
    np.testing.assert_allclose(values["rh"][:, 0, 0], base[:, 0] - d * sd_a)
    np.testing.assert_allclose(values["rh"][:, 1, 0], base[:, 1])  # untouched
    assert out.shape == (4, 3)


def test_diagnose_fills_pathway_coefficients_and_fraction(rng):
    n = 2000
    g = rng.normal(size=(n, 2))
    cov = pd.DataFrame(
        {"sex": rng.choice(["M", "F"], n), "age": rng.normal(62, 9, n), "site_index": 0}
    )
    truth = plan_effects("additive", ["P1", "P2"], REGIONS, rng)
    w = np.array([1.0, 1.0])
    patients, liab, filled = diagnose(
        truth, g, ["P1", "P2"], w, cov, Confounders(False), 0.5, 0.4, rng
    )
    assert patients.mean() == pytest.approx(0.4, abs=1e-3)
    coef = filled.loc[filled["kind"] == "additive_pathway", "effect"].to_numpy()
    np.testing.assert_allclose(coef, np.sqrt(0.5) / np.sqrt(2), atol=0.02)  # sd(g1+g2) ~ sqrt 2
    beta, *_ = np.linalg.lstsq(np.column_stack([np.ones(n), g]), liab, rcond=None)
    np.testing.assert_allclose(beta[1:], coef, atol=0.03)
    assert truth["effect"].isna().sum() == 2  # the input table is left alone


def test_confounders_settings_and_sizes():
    assert Confounders.from_settings(None) == Confounders()
    off = Confounders.from_settings({"enabled": False})
    assert off.size("age_dx") == 0.0 and Confounders().size("age_dx") == 0.3
    assert (off.table()["effect"] == 0).all() and len(off.table()) == 7
    with pytest.raises(ValueError, match="unknown key"):
        Confounders.from_settings({"age": 0.1})


def test_confounders_on_regional_measures_exactly(rng):
    """Same draws on and off: thickness ratio = ageing x sex x site factor; area ~ eTIV^0.8."""
    n = 400
    cov = pd.DataFrame(
        {
            "eTIV": rng.normal(1.5e6, 1.3e5, n),
            "age": rng.uniform(40, 85, n),
            "sex": rng.choice(["M", "F"], n),
            "site_index": rng.integers(0, 3, n),
        }
    )
    on = simulate_regional_measures("aparc", "lh", cov, np.random.default_rng(1), Confounders())
    off = simulate_regional_measures(
        "aparc", "lh", cov, np.random.default_rng(1), Confounders(False)
    )
    t = STATS_COLUMNS.index("ThickAvg")
    ratio = on[:, :, t] / off[:, :, t]
    expected = (1 - 0.0025 * np.clip(cov["age"] - 50, 0, None)) * np.where(
        cov["sex"] == "F", 1.01, 1
    )
    site_factor = ratio / expected.to_numpy()[:, None]
    for s in range(3):  # one factor per site, the same in every region and subject
        block = site_factor[cov["site_index"] == s]
        np.testing.assert_allclose(block, block[0, 0], rtol=1e-12)
        assert abs(block[0, 0] - 1) < 0.1
    a = STATS_COLUMNS.index("SurfArea")
    slope_on = np.polyfit(np.log(cov["eTIV"]), np.log(on[:, :, a]).mean(1), 1)[0]
    slope_off = np.polyfit(np.log(cov["eTIV"]), np.log(off[:, :, a]).mean(1), 1)[0]
    assert slope_on == pytest.approx(0.8, abs=0.05) and abs(slope_off) < 0.05


# Model-free checks on simulated tables (no training). 500 subjects, seed 0.
N = 500


def _aucs(t: dict) -> dict:
    g, m, y = t["burdens"], t["imaging"], t["diagnosis"]
    return {
        "genetics": cv_auc(g, y),
        "imaging": cv_auc(m, y),
        "concat": cv_auc(np.column_stack([g, m]), y),
    }


def test_null_has_no_signal_without_confounders():
    t = simulate_tables("null", N, 0, confounders=OFF)
    assert t["truth"].empty
    for name, auc in _aucs(t).items():
        assert abs(auc - 0.5) < 0.07, (name, auc)


def test_null_with_confounders_is_confounded_until_adjusted():
    """Diagnosis follows age (and sex, site): the mean cortical thickness predicts it until
    the imaging is residualised on the covariates."""
    t = simulate_tables("null", 1000, 0)
    y, cov = t["diagnosis"], t["covariates"]
    assert cov["age"][y == 1].mean() - cov["age"][y == 0].mean() > 2.0
    thick = t["imaging"][:, 2::4].mean(1, keepdims=True)  # ThickAvg columns
    assert cv_auc(thick, y) > 0.56
    assert abs(cv_auc(residualise(thick, cov), y) - 0.5) < 0.05
    genetics = cv_auc(t["burdens"], y)
    assert abs(genetics - 0.5) < 0.07


def test_additive_predicts_but_has_no_pairing():
    t = simulate_tables("additive", N, 0, confounders=OFF)
    auc = _aucs(t)
    assert auc["genetics"] > 0.65 and auc["imaging"] > 0.55
    rec = pair_recovery(t)
    # no planted pair; the univariate product still ranks every planted pathway x planted
    # region combination on top (a false pairing), the interaction does not
    assert np.isnan(rec["interaction"]["auroc_all"])
    assert rec["univariate_product"]["decoy_vs_rest"] > 0.9
    assert abs(rec["interaction"]["decoy_vs_rest"] - 0.5) < 0.15


def test_coupling_is_found_by_interaction_only():
    t = simulate_tables("coupling", N, 0, confounders=OFF)
    for name, auc in _aucs(t).items():  # no marginal signal for additive models
        assert abs(auc - 0.5) < 0.07, (name, auc)
    rec = pair_recovery(t)
    assert abs(rec["univariate_product"]["auroc_all"] - 0.5) < 0.15
    assert rec["interaction"]["auroc_all"] > 0.95 and rec["interaction"]["auroc_decoys"] > 0.95


def test_mixed_has_both():
    t = simulate_tables("mixed", N, 0, confounders=OFF)
    auc = _aucs(t)
    assert auc["genetics"] > 0.6 and auc["imaging"] > 0.55
    rec = pair_recovery(t)
    assert rec["interaction"]["auroc_all"] > 0.95
    assert rec["univariate_product"]["auroc_all"] < 0.8  # misses the coupled pairs


@pytest.mark.parametrize("scenario", ["null", "additive"])
def test_report_truth_check_accepts_a_truth_without_pairs(scenario, tmp_path, rng):
    """The report stage reads truth.tsv; with no planted pair it lists none (no crash)."""
    from neuropathx.io import write_tsv
    from neuropathx.reporting.truth import planted_pairs, planted_ranks, truth_check

    write_tsv(plan_effects(scenario, PATHWAYS, REGIONS, rng), tmp_path / "truth.tsv")
    pairs = planted_pairs(tmp_path / "truth.tsv")
    assert pairs.empty
    links = pd.DataFrame(
        {"pathway": ["P1"], "region": ["lh_insula"], "rank": [1], "effect": [0.1]}
        | {"p": [0.5], "p_maxT": [1.0]}
    )
    table, summary = planted_ranks(pairs, links, 10)
    assert table.empty and summary["planted"] == 0 and summary["in_top_k"] == 0
    check = truth_check({"x_raw": np.ones((1, 1))}, pairs, ["P1"], ["lh_insula"])
    assert check[["auroc", "auprc"]].isna().all().all()
