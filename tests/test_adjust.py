"""Covariate and site adjustment per fold: ComBat against neuroCombat, planted confounders
removed, no leakage from test rows, categorical coding rules, fold metrics and summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neuropathx.adjust import (
    AdjustmentSpec,
    CovariateDesign,
    adjust_fold,
    residualise,
    restricted_cubic_basis,
    spline_knots,
    summarise_adjustment,
)
from neuropathx.cohort import CohortArrays
from neuropathx.combat import ComBat
from neuropathx.models.baselines import train_baseline_fold
from neuropathx.training import train_fold

N, P, R, F = 120, 4, 6, 2
SITES = np.array(["siteA", "siteB", "siteC"])
SPEC = {"imaging": ["age", "sex", "eTIV"], "genetics": ["PC1"], "batch": "site"}


def _confounded(seed: int = 0, spec: dict | None = SPEC) -> CohortArrays:
    """Region 0 carries the disease; region 1 only age, region 2 only sex, region 3 only eTIV;
    every imaging feature gets a site offset and scale; patients are older (age ~ label)."""
    rng = np.random.default_rng(seed)
    labels = np.tile([0, 1], N // 2)
    age = np.round((60 + 8 * labels + rng.normal(0, 6, N)) * 4) / 4
    sex = rng.choice(["F", "M"], N)
    etiv = rng.normal(1.5e6, 1.2e5, N)
    site = SITES[rng.integers(0, 3, N)]
    pc1 = rng.normal(size=N)
    imaging = rng.normal(size=(N, R, F))
    imaging[:, 0] += 1.0 * labels[:, None]
    imaging[:, 1] += 0.25 * (age - 60)[:, None]
    imaging[:, 2] += 2.0 * (sex == "M")[:, None]
    imaging[:, 3] += ((etiv - 1.5e6) / 1.2e5 * 1.5)[:, None]
    offset = {"siteA": 0.0, "siteB": 3.0, "siteC": -2.0}
    scale = {"siteA": 1.0, "siteB": 1.6, "siteC": 0.7}
    for s in SITES:
        rows = site == s
        imaging[rows] = imaging[rows] * scale[s] + offset[s]
    genetics = rng.normal(size=(N, P))
    genetics[:, 1] += 2.0 * pc1  # ancestry in a pathway score
    genetics[:, 0] += 1.0 * labels
    covariates = pd.DataFrame({"age": age, "sex": sex, "eTIV": etiv, "site": site, "PC1": pc1})
    return CohortArrays(
        np.array([f"sub-{i:03d}" for i in range(N)]),
        labels,
        genetics,
        [f"path{i}" for i in range(P)],
        imaging,
        [f"reg{i}" for i in range(R)],
        ["GrayVol", "ThickAvg"],
        covariates=covariates,
        adjustment=spec,
    )


def _roles() -> np.ndarray:
    return np.array(["train"] * 84 + ["val"] * 18 + ["test"] * 18)


def _corr(a, b):
    return abs(np.corrcoef(a, b)[0, 1])


# ---------------------------------------------------------------- ComBat


def test_combat_equals_neurocombat_on_shared_data():
    neurocombat = pytest.importorskip("neuroCombat").neuroCombat
    c = _confounded()
    y, cov = c.imaging_flat, c.covariates  # ages in quarter years: exact in neuroCombat's float32
    ref = neurocombat(y.T, cov[["site", "age", "sex"]], "site", ["sex"], ["age"])["data"].T
    x = np.column_stack([(cov["sex"] == "M").astype(float), cov["age"]])
    mine = ComBat.fit(y, cov["site"], x).apply(y, cov["site"], x)
    np.testing.assert_allclose(mine, ref, rtol=0, atol=1e-9)
    ref0 = neurocombat(y.T, cov[["site"]], "site")["data"].T
    np.testing.assert_allclose(ComBat.fit(y, cov["site"], None).apply(y, cov["site"], None), ref0,
                               rtol=0, atol=1e-9)  # fmt: skip


def test_combat_apply_to_new_rows_keeps_their_own_covariate_effect():
    c = _confounded()
    y, cov = c.imaging_flat, c.covariates
    x = np.column_stack([(cov["sex"] == "M").astype(float), cov["age"]])
    model = ComBat.fit(y[:80], cov["site"][:80], x[:80])
    # a "new" subject identical to a training one is harmonised identically
    again = model.apply(y[[3]], cov["site"][[3]].to_numpy(), x[[3]])
    np.testing.assert_allclose(again, model.apply(y[:80], cov["site"][:80], x[:80])[[3]])
    # site with no estimates: unchanged
    out = model.apply(y[:2], np.array(["siteZ", "siteZ"]), x[:2])
    np.testing.assert_array_equal(out, y[:2])
    with pytest.raises(ValueError, match="ComBat needs >= 2 sites of >= 2 subjects"):
        ComBat.fit(y[:5], np.array(["a", "a", "a", "a", "b"]), None)


# ---------------------------------------------------------------- planted confounders


def test_planted_confounders_removed_disease_signal_kept():
    c = _confounded()
    roles = _roles()
    adjusted, summary = adjust_fold(c, roles == "train")
    test = roles == "test"
    cov = c.covariates
    img_raw, img = c.imaging, adjusted.imaging
    # unadjusted: the age region tracks age (and so the label); adjusted: not any more
    assert _corr(img_raw[:, 1, 0], cov["age"]) > 0.5
    assert _corr(img[:, 1, 0], cov["age"]) < 0.1
    assert _corr(img_raw[:, 2, 0], cov["sex"] == "M") > 0.2  # diluted by the site effects
    assert _corr(img[:, 2, 0], cov["sex"] == "M") < 0.1
    assert _corr(img[:, 3, 0], cov["eTIV"]) < 0.1
    # site means of the adjusted test rows: from 5 units apart to within noise
    raw_means = [img_raw[test & (cov["site"] == s).to_numpy(), 4].mean() for s in SITES]
    means = [img[test & (cov["site"] == s).to_numpy(), 4].mean() for s in SITES]
    assert np.ptp(raw_means) > 3 and np.ptp(means) < 1.0
    # the disease region keeps most of its label effect (planted: +1); adjusting for age, which
    # the label is correlated with, takes some of it away (omitted-variable bias of the fit)
    d = img[:, 0, 0]
    assert d[c.labels == 1].mean() - d[c.labels == 0].mean() > 0.4
    # the ancestry component of pathway 1 is gone, the label effect of pathway 0 kept
    assert _corr(c.genetics[:, 1], cov["PC1"]) > 0.8
    assert _corr(adjusted.genetics[:, 1], cov["PC1"]) < 0.1
    g = adjusted.genetics[:, 0]
    assert g[c.labels == 1].mean() - g[c.labels == 0].mean() > 0.6
    # what was done is recorded
    assert summary["imaging"]["covariates"] == ["age", "eTIV", "sex[M]"]
    assert summary["genetics"]["covariates"] == ["PC1"]
    assert summary["combat"]["sites_harmonised"] == list(SITES)
    assert summary["combat"]["site_r2_before"]["mean"] > 0.3
    assert summary["combat"]["site_r2_after"]["mean"] < 0.05
    assert summary["combat"]["site_r2_chance"] == pytest.approx(2 / 83)
    assert 0.1 < summary["imaging"]["r2"]["mean"] < 0.9


def test_residualise_matches_hand_regression():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(30, 2))
    y = 2.0 + x @ np.array([[1.5], [-0.5]]) + rng.normal(0, 0.1, (30, 1))
    train = np.arange(30) < 20
    out, r2 = residualise(y, x, train)
    d = np.column_stack([np.ones(20), x[:20]])
    beta = np.linalg.solve(d.T @ d, d.T @ y[:20])
    np.testing.assert_allclose(out, y - x @ beta[1:])
    res = y[:20] - d @ beta
    np.testing.assert_allclose(r2, 1 - (res**2).sum() / ((y[:20] - y[:20].mean()) ** 2).sum())


# ---------------------------------------------------------------- leakage


def test_test_rows_never_change_the_fit():
    c = _confounded()
    roles = _roles()
    base, summary = adjust_fold(c, roles == "train")
    other = _confounded()
    test = roles == "test"
    rng = np.random.default_rng(9)
    other.imaging[test] = rng.normal(50, 30, other.imaging[test].shape)
    other.genetics[test] = rng.normal(-9, 4, other.genetics[test].shape)
    other.covariates.loc[test, "age"] = 99.0
    other.covariates.loc[test, "site"] = "siteC"
    moved, summary2 = adjust_fold(other, roles == "train")
    keep = ~test
    np.testing.assert_array_equal(base.imaging[keep], moved.imaging[keep])
    np.testing.assert_array_equal(base.genetics[keep], moved.genetics[keep])
    assert summary == summary2
    # and one test row's output depends on that row only
    one = _confounded()
    k = np.flatnonzero(test)[0]
    one.imaging[k] += 5.0
    changed, _ = adjust_fold(one, roles == "train")
    diff = np.abs(changed.imaging - base.imaging).reshape(N, -1).max(axis=1)
    assert np.flatnonzero(diff > 0).tolist() == [k]


# ---------------------------------------------------------------- coding rules


def test_categorical_coding_reference_rare_and_unseen_levels():
    table = pd.DataFrame(
        {
            "site": ["b", "a", "a", "b", "c", "a", "b", "d"],
            "sex": ["M", "F", "M", "F", "M", "F", "M", "F"],
            "age": [50.0] * 8,
            "code": [1, 2, 1, 2, 1, 2, 1, 2],
        }
    )
    train = np.array([True] * 7 + [False])  # "c": one training subject; "d": test only
    spec = AdjustmentSpec(categorical=["code"])
    design = CovariateDesign.fit(table, train, ["site", "sex", "age", "code"], spec)
    assert design.column_names == ["site[b]", "sex[M]", "code[2]"]
    merged = "site: level(s) ['c'] with < 2 training subjects merged into the reference level"
    assert merged in design.notes
    assert "age: constant in the training rows, dropped" in design.notes
    x = design.encode(table)
    assert x[:, 0].tolist() == [1, 0, 0, 1, 0, 0, 1, 0]  # c and d coded as the reference a
    assert x[:, 2].tolist() == [0, 1, 0, 1, 0, 1, 0, 1]  # numeric codes treated as categories
    only_one = CovariateDesign.fit(table, train, ["site"], AdjustmentSpec(min_group_size=4))
    assert only_one.column_names == []
    assert "fewer than 2 levels" in only_one.notes[-1]


def test_site_with_one_training_subject_left_unharmonised():
    c = _confounded(spec={"batch": "site"})  # ComBat only: unharmonised rows stay as they are
    roles = _roles()
    train = roles == "train"
    lone = np.flatnonzero(train)[0]
    test_row = np.flatnonzero(roles == "test")[0]
    c.covariates.loc[[lone, test_row], "site"] = "siteD"
    adjusted, summary = adjust_fold(c, train)
    combat = summary["combat"]
    assert combat["sites_not_harmonised"] == ["siteD"]
    assert combat["n_subjects_not_harmonised"] == 2
    assert combat["sites_harmonised"] == list(SITES)
    np.testing.assert_array_equal(adjusted.imaging[[lone, test_row]], c.imaging[[lone, test_row]])
    assert not np.allclose(adjusted.imaging[train][1:], c.imaging[train][1:])
    # with a single site left estimable, ComBat is skipped for the fold, and says so
    c.covariates["site"] = "siteA"
    c.covariates.loc[lone, "site"] = "siteE"
    skipped, summary = adjust_fold(c, train)
    assert summary["combat"]["skipped"] == "fewer than 2 sites with enough training subjects"
    np.testing.assert_array_equal(skipped.imaging, c.imaging)


def test_spec_errors():
    with pytest.raises(ValueError, match="both the ComBat batch and an imaging covariate"):
        AdjustmentSpec.from_dict({"imaging": ["site"], "batch": "site"})
    with pytest.raises(ValueError, match="unknown key"):
        AdjustmentSpec.from_dict({"imagin": ["age"]})


# ---------------------------------------------------------------- hooks and summary


def test_neuropathx_and_baselines_record_the_adjustment():
    c = _confounded()
    roles = _roles()
    fast = {"epochs": 2, "batch_size": 32, "patience": 2, "min_epochs": 1}
    npx = train_fold(c, roles, fast, seed=1, device="cpu")
    base = train_baseline_fold(c, roles, "logreg_imaging", seed=1)
    _, expected = adjust_fold(c, roles == "train")
    assert npx.metrics["adjustment"] == expected
    assert base.metrics["adjustment"] == expected
    # the models see adjusted features: same metrics as training on the pre-adjusted cohort
    pre, _ = adjust_fold(c, roles == "train")
    plain = CohortArrays(**{**pre.__dict__, "covariates": None, "adjustment": None})
    again = train_baseline_fold(plain, roles, "logreg_imaging", seed=1)
    assert again.metrics["auc"] == base.metrics["auc"]
    assert again.metrics["adjustment"] == {"enabled": False}


def test_summary_paragraph():
    c = _confounded()
    roles = _roles()
    folds = [{"adjustment": adjust_fold(c, roles == "train")[1]} for _ in range(2)]
    text = summarise_adjustment(folds)
    assert text.startswith("**Covariate adjustment** (fitted on the training rows of each of 2")
    assert "Imaging features were residualised on `age`, `eTIV`, `sex[M]`" in text
    assert "Pathway scores were residualised on `PC1`" in text
    assert "ComBat harmonised the imaging features across `site` in 2 of 2 folds" in text
    r2 = folds[0]["adjustment"]["imaging"]["r2"]["mean"]
    assert f"{100 * r2:.1f}% of a feature's training variance" in text
    assert "None" in summarise_adjustment([{"adjustment": {"enabled": False}}, {}])


def test_restricted_cubic_basis_by_hand():
    # knots 0, 1, 2 (scale (2 - 0)^2 = 4): column 1 is
    # [x+^3 - (x - 1)+^3 * 2 + (x - 2)+^3 * 1] / 4
    basis = restricted_cubic_basis(np.array([-1.0, 0.5, 1.5, 3.0]), np.array([0.0, 1.0, 2.0]))
    expected = np.array([0.0, 0.125 / 4, (3.375 - 2 * 0.125) / 4, (27 - 2 * 8 + 1) / 4])
    np.testing.assert_allclose(basis[:, 0], [-1.0, 0.5, 1.5, 3.0])
    np.testing.assert_allclose(basis[:, 1], expected, rtol=1e-12)
    with pytest.raises(ValueError, match=">= 3 increasing knots"):
        restricted_cubic_basis(np.zeros(3), np.array([0.0, 1.0, 1.0]))


def test_restricted_cubic_basis_spans_the_natural_splines_sklearn_oracle():
    """Inside the knots every column is a cubic spline with these knots (in the span of
    scikit-learn's B-spline basis, an independent implementation); beyond the outer knots it
    is linear (zero second differences): with the intercept, the k-dimensional space of
    natural cubic splines."""
    from sklearn.preprocessing import SplineTransformer

    knots = np.array([40.0, 52.0, 61.0, 66.0, 80.0])
    inside = np.linspace(40.0, 80.0, 401)
    rcs = np.column_stack([np.ones_like(inside), restricted_cubic_basis(inside, knots)])
    bspl = SplineTransformer(knots=knots[:, None], degree=3).fit_transform(inside[:, None])
    assert bspl.shape[1] == len(knots) + 2  # all cubic splines: k + 2 dimensions
    coef, *_ = np.linalg.lstsq(bspl, rcs, rcond=None)
    assert np.abs(bspl @ coef - rcs).max() < 1e-8 * np.abs(rcs).max()
    assert np.linalg.matrix_rank(rcs) == len(knots)  # natural: k of the k + 2 dimensions
    for outside in (np.linspace(10.0, 40.0, 31), np.linspace(80.0, 120.0, 41)):
        second = np.diff(restricted_cubic_basis(outside, knots), n=2, axis=0)
        assert np.abs(second).max() < 1e-9
    # between knots the curvature is real (else the spline would be just the linear term)
    assert np.abs(np.diff(restricted_cubic_basis(inside, knots)[:, 1:], n=2, axis=0)).max() > 1e-6


def test_spline_knots_from_training_rows_only_and_exact_removal():
    rng = np.random.default_rng(3)
    n = 200
    age = rng.uniform(40, 85, n)
    train = np.arange(n) < 150
    table = pd.DataFrame({"age": age, "sex": rng.choice(["F", "M"], n)})
    spec = AdjustmentSpec(imaging=["age", "sex"], spline_df={"age": 3})
    design = CovariateDesign.fit(table, train, ["age", "sex"], spec)
    knots = design.splines["age"][0]
    np.testing.assert_allclose(knots, np.quantile(age[train], [0.05, 0.35, 0.65, 0.95]))
    np.testing.assert_array_equal(knots, spline_knots(age[train], 3))
    assert design.column_names == ["age[rcs0]", "age[rcs1]", "age[rcs2]", "sex[M]"]
    # test rows far outside the training range change nothing fitted on the training rows
    moved = table.copy()
    moved.loc[~train, "age"] = 130.0
    refit = CovariateDesign.fit(moved, train, ["age", "sex"], spec)
    np.testing.assert_array_equal(refit.splines["age"][0], knots)
    np.testing.assert_array_equal(refit.encode(moved)[train], design.encode(table)[train])
    # an age effect that is a natural spline with these knots (a hinge-like curve) is removed
    # exactly by the spline design, and only in part by the linear one
    curve = restricted_cubic_basis(age, knots) @ np.array([0.02, 1.5, -0.8])
    y = np.column_stack([curve, rng.normal(size=n)])
    y[:, 1] += curve
    adjusted, r2 = residualise(y, design.encode(table), train)
    np.testing.assert_allclose(adjusted[:, 0], adjusted[:, 0].mean(), atol=1e-9)
    linear = CovariateDesign.fit(table, train, ["age", "sex"], AdjustmentSpec(imaging=["age"]))
    lin_adjusted, lin_r2 = residualise(y, linear.encode(table), train)
    assert np.std(lin_adjusted[:, 0]) > 0.1 * np.std(curve) and r2[0] > lin_r2[0]


def test_spline_spec_errors_and_fallback():
    with pytest.raises(ValueError, match="'PC1' is not an imaging or genetics covariate"):
        AdjustmentSpec.from_dict({"imaging": ["age"], "spline_df": {"PC1": 3}})
    with pytest.raises(ValueError, match="must be an integer from 2 to 6"):
        AdjustmentSpec.from_dict({"imaging": ["age"], "spline_df": {"age": 1}})
    with pytest.raises(ValueError, match="must be an integer from 2 to 6"):
        AdjustmentSpec.from_dict({"imaging": ["age"], "spline_df": {"age": True}})
    with pytest.raises(ValueError, match="'site' is categorical"):
        AdjustmentSpec.from_dict(
            {"imaging": ["site"], "categorical": ["site"], "spline_df": {"site": 3}}
        )
    spec = AdjustmentSpec.from_dict({"imaging": ["age"], "spline_df": {"age": 3}})
    assert spec.spline_df == {"age": 3}
    # ages on two values only: the quantile knots collapse, the linear term is used
    table = pd.DataFrame({"age": np.repeat([60.0, 70.0], 20)})
    design = CovariateDesign.fit(table, np.ones(40, bool), ["age"], spec)
    assert (
        design.column_names == ["age"] and "fewer than 3 distinct spline knots" in design.notes[0]
    )
