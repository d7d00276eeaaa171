"""The linear baselines (neuropathx/models/baselines.py) against a scikit-learn re-implementation
of their documented design (module docstring, METHOD.md section 6): features of one or both
modalities (or CCA variates fitted on training rows), scaled on training rows, elastic net
(l1_ratio 0.5, balanced classes, saga) for each C of the grid, C chosen on validation AUC
(first of equals), test part scored once. AUCs come from sklearn's roc_auc_score."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.cross_decomposition import CCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from neuropathx.adjust import adjust_fold
from neuropathx.cohort import CohortArrays
from neuropathx.models import baselines
from neuropathx.models.baselines import train_baseline_fold, write_baseline_outputs

GRID = (0.001, 0.01, 0.1, 1.0)


def cohort(
    n: int = 48, seed: int = 1, covariates: bool = False, p: int = 4, regions: int = 3, f: int = 2
) -> CohortArrays:
    rng = np.random.default_rng(seed)
    genetics, imaging = rng.normal(size=(n, p)), rng.normal(size=(n, regions, f))
    liability = genetics[:, 0] - imaging[:, 1, 0] + 0.8 * rng.normal(size=n)
    labels = (liability > np.median(liability)).astype(int)
    extra = {}
    if covariates:
        age = rng.normal(60, 8, size=n)
        imaging = imaging + 0.2 * (age - 60)[:, None, None]
        extra = dict(covariates=pd.DataFrame({"age": age}), adjustment={"imaging": ["age"]})
    return CohortArrays(
        np.array([f"s{i:02d}" for i in range(n)]), labels, genetics,
        [f"P{j}" for j in range(p)], imaging, [f"r{r}" for r in range(regions)],
        ["a", "b", "c"][:f], **extra,
    )  # fmt: skip


def roles_for(n: int, seed: int = 0, unused: int = 2) -> np.ndarray:
    roles = np.array(["train"] * n, dtype=object)
    idx = np.random.default_rng(seed).permutation(n)
    roles[idx[:10]] = "test"
    roles[idx[10:20]] = "val"
    roles[idx[20 : 20 + unused]] = ""
    return roles


def oracle(c: CohortArrays, roles: np.ndarray, name: str, seed: int):
    train, val, test = (roles == r for r in ("train", "val", "test"))
    c, _ = adjust_fold(c, train)
    g, im = c.genetics, c.imaging.reshape(len(c.subjects), -1)
    if name == "cca":
        g = StandardScaler().fit(g[train]).transform(g)
        im = StandardScaler().fit(im[train]).transform(im)
        k = min(5, g.shape[1], im.shape[1], int(train.sum()) - 1)
        u, v = CCA(n_components=k, max_iter=1000).fit(g[train], im[train]).transform(g, im)
        x = np.hstack([u, v])
    else:
        x = {"logreg_concat": np.hstack([g, im]), "logreg_imaging": im, "logreg_genetics": g}[name]
    x = StandardScaler().fit(x[train]).transform(x)
    fits = []
    for C in GRID:
        clf = LogisticRegression(
            C=C, l1_ratio=0.5, solver="saga", class_weight="balanced", max_iter=2000,
            random_state=seed,
        ).fit(x[train], c.labels[train])  # fmt: skip
        fits.append((roc_auc_score(c.labels[val], clf.predict_proba(x[val])[:, 1]), C, clf))
    best = max(fits, key=lambda f: f[0])  # max keeps the first of equals
    return best[1], best[2].predict_proba(x)[:, 1], [f[0] for f in fits]


@pytest.mark.parametrize("name", ["logreg_concat", "logreg_imaging", "logreg_genetics", "cca"])
def test_baseline_equals_the_documented_recipe(name, tmp_path):
    c, roles = cohort(), roles_for(48)
    C, prob, _ = oracle(c, roles, name, seed=3)
    result = train_baseline_fold(c, roles, name, seed=3)
    assert result.name == name
    assert result.metrics["selected_C"] == C
    used = roles != ""
    pred = result.predictions
    assert list(pred.columns) == ["participant_id", "split", "label", "probability"]
    assert pred["participant_id"].tolist() == c.subjects[used].tolist()
    assert pred["split"].tolist() == roles[used].tolist()
    assert pred["label"].tolist() == c.labels[used].tolist()
    np.testing.assert_allclose(pred["probability"], prob[used], rtol=1e-10, atol=1e-12)
    m = result.metrics
    test, val = roles == "test", roles == "val"
    assert m["auc"] == pytest.approx(roc_auc_score(c.labels[test], prob[test]), abs=1e-12)
    assert m["validation"]["auc"] == pytest.approx(roc_auc_score(c.labels[val], prob[val]))
    acc = ((prob[test] >= 0.5) == c.labels[test]).mean()
    assert m["accuracy"] == pytest.approx(acc)
    val_acc = ((prob[val] >= 0.5) == c.labels[val]).mean()
    assert m["validation"]["accuracy"] == pytest.approx(val_acc)
    assert (m["n_train"], m["n_val"], m["n_test"]) == (26, 10, 10)
    assert m["adjustment"] == {"enabled": False}
    write_baseline_outputs(result, tmp_path / "out")
    back = pd.read_csv(tmp_path / "out" / "predictions.tsv", sep="\t")
    assert back["participant_id"].tolist() == pred["participant_id"].tolist()
    np.testing.assert_allclose(back["probability"], pred["probability"], rtol=1e-9)  # 10 digits
    written = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert written["selected_C"] == C and written["n_test"] == 10


def test_grid_and_components_are_the_documented_ones():
    assert baselines.C_GRID == GRID
    assert baselines.CCA_COMPONENTS == 5
    assert baselines.BASELINES == ("logreg_concat", "logreg_imaging", "logreg_genetics", "cca")


def test_the_first_of_equally_good_strengths_is_chosen():
    # two validation subjects: AUC is 0, 0.5 or 1, so strengths tie
    c = cohort(n=40, seed=4)
    roles = np.array(["train"] * 40, dtype=object)
    roles[:8] = "test"
    patients, controls = np.flatnonzero(c.labels == 1), np.flatnonzero(c.labels == 0)
    roles[[patients[-1], controls[-1]]] = "val"
    C, prob, aucs = oracle(c, roles, "logreg_concat", seed=0)
    assert aucs.count(max(aucs)) >= 2 and C == GRID[aucs.index(max(aucs))]
    result = train_baseline_fold(c, roles, "logreg_concat", seed=0)
    assert result.metrics["selected_C"] == C
    np.testing.assert_allclose(result.predictions["probability"], prob, rtol=1e-10, atol=1e-12)


def test_seed_reaches_the_solver():
    c, roles = cohort(), roles_for(48)
    for seed in (0, 7):
        _, prob, _ = oracle(c, roles, "logreg_concat", seed=seed)
        got = train_baseline_fold(c, roles, "logreg_concat", seed=seed)
        np.testing.assert_allclose(
            got.predictions["probability"], prob[roles != ""], rtol=1e-10, atol=1e-12
        )


@pytest.mark.parametrize("name", ["logreg_imaging", "cca"])
def test_covariate_adjustment_is_fitted_on_training_rows(name):
    c, roles = cohort(covariates=True), roles_for(48)
    C, prob, _ = oracle(c, roles, name, seed=0)
    result = train_baseline_fold(c, roles, name, seed=0)
    assert result.metrics["adjustment"]["enabled"] is True
    assert result.metrics["adjustment"]["n_train"] == 26
    assert result.metrics["selected_C"] == C
    np.testing.assert_allclose(
        result.predictions["probability"], prob[roles != ""], rtol=1e-10, atol=1e-12
    )


def test_cca_components_are_capped_by_the_training_rows():
    # 5 training rows: at most 4 components (also below the 4 pathways and 6 features)
    c = cohort(n=30, seed=2)
    roles = np.array(["test"] * 30, dtype=object)
    pos, neg = np.flatnonzero(c.labels == 1), np.flatnonzero(c.labels == 0)
    roles[[*pos[:3], *neg[:2]]] = "train"
    roles[[*pos[3:6], *neg[2:5]]] = "val"
    C, prob, _ = oracle(c, roles, "cca", seed=0)
    result = train_baseline_fold(c, roles, "cca", seed=0)
    assert result.metrics["selected_C"] == C
    np.testing.assert_allclose(result.predictions["probability"], prob, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    ("p", "regions", "f", "n_train", "k"),
    [
        (7, 4, 2, 28, 5),  # 5 components at most: 7 pathways, 8 imaging features
        (7, 3, 1, 28, 3),  # 3 imaging features
        (3, 4, 2, 28, 3),  # 3 pathways
        (7, 4, 2, 4, 3),  # 4 training rows: 3
    ],
)
def test_cca_keeps_min_of_5_pathways_features_and_training_rows_minus_1(p, regions, f, n_train, k):
    c = cohort(n=60, seed=5, p=p, regions=regions, f=f)
    pos, neg = np.flatnonzero(c.labels == 1), np.flatnonzero(c.labels == 0)
    train = np.zeros(60, dtype=bool)
    train[[*pos[: n_train // 2], *neg[: n_train - n_train // 2]]] = True
    x = baselines._cca_variates(c, train)
    assert x.shape == (60, 2 * k)
    g = StandardScaler().fit(c.genetics[train]).transform(c.genetics)
    flat = c.imaging.reshape(60, -1)
    im = StandardScaler().fit(flat[train]).transform(flat)
    u, v = CCA(n_components=k, max_iter=1000).fit(g[train], im[train]).transform(g, im)
    np.testing.assert_allclose(x, np.hstack([u, v]), rtol=1e-9, atol=1e-9)


def test_only_convergence_warnings_are_silenced(monkeypatch):
    from sklearn.exceptions import ConvergenceWarning

    fit = LogisticRegression.fit

    def noisy_fit(self, *args, **kwargs):
        warnings.warn("not converged", ConvergenceWarning, stacklevel=2)
        warnings.warn("something else", UserWarning, stacklevel=2)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(LogisticRegression, "fit", noisy_fit)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train_baseline_fold(cohort(), roles_for(48), "logreg_concat", seed=0)
    ours = [w for w in caught if str(w.message) in ("not converged", "something else")]
    assert {type(w.message) for w in ours} == {UserWarning}


def test_the_solvers_get_the_documented_settings(monkeypatch):
    # the iteration caps only matter where a solver has not converged, which the equality
    # tests above cannot reach: record what each solver is constructed with
    made = []
    for cls in (LogisticRegression, CCA):
        fit = cls.fit

        def spy(self, *args, _fit=fit, **kwargs):
            made.append((type(self).__name__, self.get_params()))
            return _fit(self, *args, **kwargs)

        monkeypatch.setattr(cls, "fit", spy)
    train_baseline_fold(cohort(p=7, regions=4), roles_for(48), "cca", seed=4)
    assert made[0][0] == "CCA"
    assert (made[0][1]["n_components"], made[0][1]["max_iter"]) == (5, 1000)
    recipe = dict(l1_ratio=0.5, solver="saga", class_weight="balanced", max_iter=2000)
    assert [name for name, _ in made[1:]] == ["LogisticRegression"] * len(GRID)
    for C, (_, params) in zip(GRID, made[1:], strict=True):
        assert {k: params[k] for k in (*recipe, "C", "random_state")} == {
            **recipe, "C": C, "random_state": 4,
        }  # fmt: skip


def test_fold_errors_are_named():
    c = cohort()
    for missing in ("train", "val", "test"):
        roles = roles_for(48).copy()
        roles[roles == missing] = ""
        with pytest.raises(ValueError) as err:
            train_baseline_fold(c, roles, "logreg_concat", seed=0)
        assert str(err.value) == f"fold has no {missing} subjects"
    for part in ("train", "val"):
        roles = roles_for(48).copy()
        roles[(roles == part) & (c.labels == 0)] = ""
        with pytest.raises(ValueError) as err:
            train_baseline_fold(c, roles, "logreg_concat", seed=0)
        assert str(err.value) == f"the {part} part of the fold holds a single class (1)"
    roles = roles_for(48).copy()
    roles[roles == "val"] = ""
    roles[np.flatnonzero(roles == "train")[0]] = "val"  # one subject: one class, named
    with pytest.raises(ValueError, match=rf"single class \({c.labels[roles == 'val'][0]}\)"):
        train_baseline_fold(c, roles, "logreg_concat", seed=0)
    roles = roles_for(48).copy()
    roles[(roles == "test") & (c.labels == 0)] = ""
    assert train_baseline_fold(c, roles, "logreg_genetics", seed=0).metrics["n_test"] > 0
    with pytest.raises(ValueError) as err:
        train_baseline_fold(c, roles_for(48), "svm", seed=0)
    assert str(err.value) == (
        "unknown baseline 'svm'; expected one of "
        "('logreg_concat', 'logreg_imaging', 'logreg_genetics', 'cca')"
    )
