"""Model-free measurements that show a scenario plants what it claims (no training).

:func:`simulate_tables` draws one scenario's latent tables quickly (Gaussian burdens instead
of msprime genomes, the demo's own imaging and planting code); the measurements work on
any (burdens, imaging, diagnosis) tables:

- :func:`cv_auc`: cross-validated AUC of an L2 logistic regression (genetics, imaging,
  both, or imaging residualised on the covariates);
- :func:`pair_recovery`: AUROC of the planted pairs among all (pathway, region) pairs, and
  against decoys (pathways with a planted effect x regions with a planted effect, not
  planted together), for the univariate product |r(g_j, d)| x max_measure |r(m_r, d)| and
  for the interaction |atanh r_patients(g_j, m_r) - atanh r_controls(g_j, m_r)|.

``python -m neuropathx.demo.checks`` prints the figures over seeds, last line JSON.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd

from neuropathx.demo.atlases import region_names
from neuropathx.demo.freesurfer_stats import STATS_COLUMNS, simulate_regional_measures
from neuropathx.demo.scenarios import (
    PAIR_KINDS,
    SCENARIOS,
    Confounders,
    diagnose,
    plan_effects,
    plant_regional_effects,
)
from neuropathx.metrics import rank_auc

WORKFLOW_MEASURES = ["GrayVol", "SurfArea", "ThickAvg", "ThickStd"]


def simulate_tables(
    scenario: str,
    n: int,
    seed: int,
    *,
    n_pathways: int = 4,
    confounders: dict | None = None,
    heritability: float = 0.35,
    **effects,
) -> dict:
    """One scenario's latent tables for ``n`` subjects (aparc, burdens ~ N(0, 1)).

    Returns burdens (n, P), imaging (n, 68 regions x 4 measures), region keys per imaging
    column, diagnosis (0/1), covariates, truth and the pathway names.
    """
    from neuropathx.demo.simulate import _covariates

    rng = np.random.default_rng(seed)
    pathways = [f"P{j + 1}" for j in range(n_pathways)]
    burdens = rng.normal(size=(n, n_pathways))
    burdens = (burdens - burdens.mean(0)) / burdens.std(0)
    conf = Confounders.from_settings(confounders)
    cov = _covariates(n, rng)
    names = region_names("aparc")
    keys = [f"{h}_{r}" for h in ("lh", "rh") for r in names]
    truth = plan_effects(scenario, pathways, keys, rng, **effects)
    weights = rng.uniform(0.7, 1.3, n_pathways)
    patients, _, truth = diagnose(
        truth, burdens, pathways, weights, cov, conf, heritability, 0.45, rng
    )
    values = {h: simulate_regional_measures("aparc", h, cov, rng, conf) for h in ("lh", "rh")}
    plant_regional_effects(values, truth, names, STATS_COLUMNS, burdens, pathways, patients)
    cols = [STATS_COLUMNS.index(m) for m in WORKFLOW_MEASURES]
    imaging = np.concatenate([values[h][:, :, cols].reshape(n, -1) for h in ("lh", "rh")], 1)
    region_of_column = np.repeat(keys, len(cols))
    return {
        "burdens": burdens,
        "imaging": imaging,
        "region_of_column": region_of_column,
        "diagnosis": patients.astype(int),
        "covariates": cov,
        "truth": truth,
        "pathways": pathways,
    }


def residualise(x: np.ndarray, covariates: pd.DataFrame) -> np.ndarray:
    """Columns of ``x`` minus their least-squares fit on age, sex, site and log eTIV."""
    c = pd.get_dummies(covariates["site_index"].astype(str), drop_first=True, dtype=float)
    design = np.column_stack(
        [
            np.ones(len(x)),
            covariates["age"].to_numpy(float),
            (covariates["sex"] == "M").to_numpy(float),
            np.log(covariates["eTIV"].to_numpy(float)),
            c.to_numpy(),
        ]
    )
    beta, *_ = np.linalg.lstsq(design, x, rcond=None)
    return x - design @ beta


def cv_auc(x: np.ndarray, y: np.ndarray, seed: int = 0, folds: int = 5) -> float:
    """Out-of-fold AUC of a standardised L2 logistic regression (C = 0.1)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    split = StratifiedKFold(folds, shuffle=True, random_state=seed)
    prob = cross_val_predict(model, x, y, cv=split, method="predict_proba")[:, 1]
    return float(rank_auc(y.astype(bool), prob))


def _corr_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of ``a`` with every column of ``b``."""
    za = (a - a.mean(0)) / a.std(0)
    zb = (b - b.mean(0)) / b.std(0)
    return za.T @ zb / len(a)


def pair_scores(tables: dict) -> pd.DataFrame:
    """Per (pathway, region): univariate product and interaction scores (max over measures)."""
    g, m, d = tables["burdens"], tables["imaging"], tables["diagnosis"]
    pat = d == 1
    r_g = np.abs(_corr_columns(g, d[:, None].astype(float)))[:, 0]
    r_m = np.abs(_corr_columns(m, d[:, None].astype(float)))[:, 0]
    inter = np.abs(
        np.arctanh(_corr_columns(g[pat], m[pat])) - np.arctanh(_corr_columns(g[~pat], m[~pat]))
    )
    frame = pd.DataFrame(
        {
            "pathway": np.repeat(tables["pathways"], m.shape[1]),
            "region": np.tile(tables["region_of_column"], g.shape[1]),
            "univariate_product": (r_g[:, None] * r_m[None, :]).ravel(),
            "interaction": inter.ravel(),
        }
    )
    return frame.groupby(["pathway", "region"], as_index=False).max()


def pair_recovery(tables: dict) -> dict:
    """AUROC of each score for planted pairs against all pairs and against decoys.

    With no planted pair (null, additive) the AUROC is NaN; ``decoy_vs_rest`` then says
    whether a score prefers the planted-pathway x planted-region combinations anyway.
    """
    scores = pair_scores(tables)
    truth = tables["truth"]
    pairs = truth[truth["kind"].isin(PAIR_KINDS)]
    key = list(zip(scores["pathway"], scores["region"], strict=True))
    planted_keys = set(zip(pairs["pathway"], pairs["region"], strict=True))
    planted = np.array([k in planted_keys for k in key])
    marked_paths = set(truth["pathway"]) - {""}
    marked_regions = set(truth["region"]) - {""}
    decoy = np.array([p in marked_paths and r in marked_regions for p, r in key]) & ~planted
    out = {}
    for name in ("univariate_product", "interaction"):
        s = scores[name].to_numpy()
        both = planted | decoy
        out[name] = {
            "auroc_all": rank_auc(planted, s) if 0 < planted.sum() < len(s) else float("nan"),
            "auroc_decoys": (
                rank_auc(planted[both], s[both]) if planted.any() and decoy.any() else float("nan")
            ),
            "decoy_vs_rest": (
                rank_auc(decoy[~planted], s[~planted]) if decoy.any() else float("nan")
            ),
        }
    return out


def scenario_figures(scenario: str, n: int, seed: int, confounders: dict | None = None) -> dict:
    """Every measurement on one simulated scenario."""
    t = simulate_tables(scenario, n, seed, confounders=confounders)
    g, m, y = t["burdens"], t["imaging"], t["diagnosis"]
    m_adj = residualise(m, t["covariates"])
    interactions = np.column_stack([g[:, [j]] * m_adj for j in range(g.shape[1])])
    return {
        "auc_genetics": cv_auc(g, y),
        "auc_imaging": cv_auc(m, y),
        "auc_imaging_adjusted": cv_auc(m_adj, y),
        "auc_concat": cv_auc(np.column_stack([g, m_adj]), y),
        "auc_with_interactions": cv_auc(np.column_stack([g, m_adj, interactions]), y),
        **{f"{k}_{s}": v for s, d in pair_recovery(t).items() for k, v in d.items()},
    }


def _rounded(x: float) -> float | None:
    return None if np.isnan(x) else round(float(x), 3)  # JSON has no NaN


def main(argv: list[str] | None = None) -> None:
    """Print mean +- SD of every figure per scenario over seeds; last line one JSON object."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--subjects", type=int, default=600)
    ap.add_argument("--no-confounders", action="store_true")
    args = ap.parse_args(argv)
    conf = {"enabled": not args.no_confounders}
    result = {}
    for scenario in args.scenarios:
        runs = pd.DataFrame(
            [scenario_figures(scenario, args.subjects, s, conf) for s in range(args.seeds)]
        )
        result[scenario] = {
            c: {"mean": _rounded(runs[c].mean()), "sd": _rounded(runs[c].std())}
            for c in runs.columns
        }
        for c in runs.columns:
            print(f"{scenario:9s} {c:34s} {runs[c].mean():.3f} +- {runs[c].std():.3f}")
    print(json.dumps({"subjects": args.subjects, "seeds": args.seeds, **conf, **result}))


if __name__ == "__main__":
    main(sys.argv[1:])
