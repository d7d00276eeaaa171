"""Per-fold adjustment for covariates and site, fitted on the training rows only.

What the cohort stage's ``covariates.json`` asks for (:class:`AdjustmentSpec`) is done, in
this order, before the features are standardised:

1. ComBat (``batch``, e.g. site) on the imaging features, preserving the effects of the
   imaging covariates (neuropathx.combat).
2. Imaging features residualised on the ``imaging`` covariates, pathway scores on the
   ``genetics`` covariates (e.g. genetic PCs): ordinary least squares on the training rows;
   the fitted covariate effects (never the intercept) are subtracted from every row.

Coding rules, each recorded in the fold's ``metrics.json`` under ``adjustment``:

- Numeric covariates are centred and scaled with the training rows' mean and SD; one that is
  constant in the training rows is dropped for the fold.
- A numeric covariate named in ``spline_df`` (``{age: 3}``) enters as a restricted
  (natural) cubic spline with that many columns instead of one linear column: ``df + 1``
  knots at Harrell's quantiles of the TRAINING rows (``spline_knots``; df 3: the 5, 35, 65
  and 95 % quantiles), the basis of :func:`restricted_cubic_basis` (cubic between the knots,
  linear beyond the outer ones, so test rows outside the training range are extrapolated
  linearly), each column scaled with its training mean and SD. Fewer distinct knots than
  three in a fold (a near-constant covariate) fall back to the linear column, recorded.
- A text column (or one named in ``categorical``) is one-hot coded with its first level (in
  sorted order) as the reference, dropped. A level held by fewer than ``min_group_size``
  training subjects (a site with one subject in the fold) is merged into the reference:
  one subject cannot give a level effect that is not its own noise. A level seen only in
  validation or test rows is coded as the reference too. A categorical with one level left
  is dropped.
- ComBat estimates only sites with at least ``min_group_size`` training subjects; subjects of
  other sites (in any part) are left unharmonised. With fewer than two such sites, ComBat is
  skipped for the fold. Diagnosis is never a ComBat covariate: that would need test labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from neuropathx.cohort import CohortArrays
from neuropathx.combat import ComBat


@dataclass(frozen=True)
class AdjustmentSpec:
    """Which covariates adjust which modality (``covariates.json`` of the cohort stage)."""

    imaging: list[str] = field(default_factory=list)
    genetics: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    batch: str | None = None
    min_group_size: int = 2
    spline_df: dict[str, int] = field(default_factory=dict)  # covariate -> spline columns

    @classmethod
    def from_dict(cls, d: dict | None) -> AdjustmentSpec:
        d = dict(d or {})
        known = {"imaging", "genetics", "categorical", "batch", "min_group_size", "spline_df"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"adjustment: unknown key(s) {unknown}")
        spec = cls(
            imaging=list(d.get("imaging") or []),
            genetics=list(d.get("genetics") or []),
            categorical=list(d.get("categorical") or []),
            batch=d.get("batch") or None,
            min_group_size=int(d.get("min_group_size", 2)),
            spline_df=dict(d.get("spline_df") or {}),
        )
        for name, df in spec.spline_df.items():
            if name not in [*spec.imaging, *spec.genetics]:
                raise ValueError(
                    f"covariates.spline_df: {name!r} is not an imaging or genetics covariate "
                    f"({[*spec.imaging, *spec.genetics]})"
                )
            if name in spec.categorical:
                raise ValueError(f"covariates.spline_df: {name!r} is categorical")
            if isinstance(df, bool) or not isinstance(df, int) or df not in _HARRELL_QUANTILES:
                raise ValueError(
                    f"covariates.spline_df: {name}: {df!r} must be an integer from 2 to "
                    f"{max(_HARRELL_QUANTILES)} (1 is the linear term: leave the name out)"
                )
        if spec.batch is not None and spec.batch in spec.imaging:
            raise ValueError(
                f"covariates: {spec.batch!r} is both the ComBat batch and an imaging covariate; "
                "ComBat already removes its effects (drop it from covariates.imaging)"
            )
        if spec.min_group_size < 2:
            raise ValueError(f"covariates.min_group_size must be >= 2: {spec.min_group_size}")
        return spec

    @property
    def columns(self) -> list[str]:
        """Every covariate column the cohort must provide, in first-use order."""
        names = [*self.imaging, *self.genetics, *([self.batch] if self.batch else [])]
        return list(dict.fromkeys(names))

    @property
    def enabled(self) -> bool:
        return bool(self.imaging or self.genetics or self.batch)


# Knot positions (quantiles) of a restricted cubic spline by number of columns (df = knots - 1):
# Harrell, Regression Modeling Strategies (2015), table 2.3.
_HARRELL_QUANTILES = {
    2: (0.10, 0.50, 0.90),
    3: (0.05, 0.35, 0.65, 0.95),
    4: (0.05, 0.275, 0.50, 0.725, 0.95),
    5: (0.05, 0.23, 0.41, 0.59, 0.77, 0.95),
    6: (0.025, 0.1833, 0.3417, 0.50, 0.6583, 0.8167, 0.975),
}


def spline_knots(x_train: np.ndarray, df: int) -> np.ndarray:
    """The distinct knots of a ``df``-column restricted cubic spline: Harrell's quantiles of
    the training values (ties collapse, so fewer knots may come back)."""
    x = np.asarray(x_train, dtype=float)
    return np.unique(np.quantile(x, _HARRELL_QUANTILES[df]))


def restricted_cubic_basis(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """(N, k - 1) restricted cubic spline basis of ``x`` for ``k >= 3`` increasing knots.

    Column 0 is ``x``; column j (1..k-2), with ``u+ = max(u, 0)``, is

        [(x - t_j)+^3 - (x - t_{k-1})+^3 (t_k - t_j) / (t_k - t_{k-1})
                      + (x - t_k)+^3 (t_{k-1} - t_j) / (t_k - t_{k-1})] / (t_k - t_1)^2

    (Harrell's parametrisation, scaled to the units of x). With an intercept the columns
    span the natural cubic splines with these knots: cubic between knots, twice
    continuously differentiable, linear below t_1 and above t_k.
    """
    t = np.asarray(knots, dtype=float)
    if t.ndim != 1 or len(t) < 3 or np.any(np.diff(t) <= 0):
        raise ValueError(f"restricted cubic spline: need >= 3 increasing knots, got {t}")
    x = np.asarray(x, dtype=float)
    k, scale = len(t), (t[-1] - t[0]) ** 2

    def cube(u: np.ndarray) -> np.ndarray:
        return np.clip(u, 0, None) ** 3

    span = t[-1] - t[-2]
    cols = [x]
    for j in range(k - 2):
        term = (
            cube(x - t[j])
            - cube(x - t[-2]) * (t[-1] - t[j]) / span
            + cube(x - t[-1]) * (t[-2] - t[j]) / span
        )
        cols.append(term / scale)
    return np.column_stack(cols)


@dataclass
class CovariateDesign:
    """Covariate coding fitted on training rows; ``encode`` applies it to any rows."""

    numeric: dict[str, tuple[float, float]]  # column -> (training mean, SD)
    levels: dict[str, list[str]]  # categorical column -> coded (non-reference) levels
    notes: list[str]
    # spline covariate -> (knots, training mean and SD of each basis column)
    splines: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def fit(
        cls, table: pd.DataFrame, train: np.ndarray, names: list[str], spec: AdjustmentSpec
    ) -> CovariateDesign:
        numeric, levels, notes, splines = {}, {}, [], {}
        for name in names:
            col = table[name]
            if _is_categorical(col, name, spec):
                counts = col[train].astype(str).value_counts()
                small = sorted(counts.index[counts < spec.min_group_size].tolist())
                big = sorted(counts.index[counts >= spec.min_group_size].tolist())
                if small:
                    notes.append(
                        f"{name}: level(s) {small} with < {spec.min_group_size} training "
                        "subjects merged into the reference level"
                    )
                if len(big) < 2:
                    notes.append(
                        f"{name}: fewer than 2 levels with enough training subjects, dropped"
                    )
                    continue
                levels[name] = big[1:]  # big[0] is the reference (with any merged levels)
            else:
                x = col[train].to_numpy(dtype=float)
                sd = float(x.std())
                if not sd > 0:
                    notes.append(f"{name}: constant in the training rows, dropped")
                    continue
                if name in spec.spline_df:
                    knots = spline_knots(x, spec.spline_df[name])
                    if len(knots) >= 3:
                        basis = restricted_cubic_basis(x, knots)
                        splines[name] = (knots, basis.mean(axis=0), basis.std(axis=0))
                        continue
                    notes.append(
                        f"{name}: fewer than 3 distinct spline knots in the training rows, "
                        "linear term only"
                    )
                numeric[name] = (float(x.mean()), sd)
        return cls(numeric, levels, notes, splines)

    @property
    def column_names(self) -> list[str]:
        dummies = [f"{c}[{lv}]" for c, lvs in self.levels.items() for lv in lvs]
        spline = [
            f"{c}[rcs{j}]"
            for c, (knots, _, _) in self.splines.items()
            for j in range(len(knots) - 1)
        ]
        return [*self.numeric, *spline, *dummies]

    def encode(self, table: pd.DataFrame) -> np.ndarray:
        """(N, C) design without intercept: scaled numerics, scaled spline bases, then
        one-hot dummies."""
        cols = [(table[c].to_numpy(dtype=float) - m) / s for c, (m, s) in self.numeric.items()]
        for c, (knots, mean, sd) in self.splines.items():
            basis = (restricted_cubic_basis(table[c].to_numpy(dtype=float), knots) - mean) / sd
            cols += list(basis.T)
        for c, lvs in self.levels.items():
            values = table[c].astype(str).to_numpy()
            cols += [(values == lv).astype(float) for lv in lvs]
        return np.column_stack(cols) if cols else np.zeros((len(table), 0))


def _is_categorical(col: pd.Series, name: str, spec: AdjustmentSpec) -> bool:
    return name in spec.categorical or not pd.api.types.is_numeric_dtype(col)


def residualise(
    y: np.ndarray, design: np.ndarray, train: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Remove the covariate effects fitted by OLS on training rows from every row.

    Returns (adjusted y, R² of the covariates per column on the training rows).
    """
    d = np.hstack([np.ones((len(y), 1)), design])
    coef, *_ = np.linalg.lstsq(d[train], y[train], rcond=None)
    fitted = design @ coef[1:]
    resid = y[train] - d[train] @ coef
    total = ((y[train] - y[train].mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(total > 0, 1 - (resid**2).sum(axis=0) / total, 0.0)
    return y - fitted, r2


def batch_r2(y: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """Per-column share of variance explained by batch means (one-way ANOVA R²)."""
    total = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    within = sum(
        ((y[batch == b] - y[batch == b].mean(axis=0)) ** 2).sum(axis=0) for b in set(batch)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, 1 - within / total, 0.0)


def _r2_summary(r2: np.ndarray) -> dict:
    return {"mean": float(np.mean(r2)), "median": float(np.median(r2)), "max": float(np.max(r2))}


def _combat(
    cohort: CohortArrays, table: pd.DataFrame, train: np.ndarray, spec: AdjustmentSpec
) -> tuple[np.ndarray, dict]:
    """Imaging features harmonised across ``spec.batch`` (fitted on training rows)."""
    y = cohort.imaging_flat
    site = table[spec.batch].astype(str).to_numpy()
    counts = pd.Series(site[train]).value_counts()
    estimated = sorted(counts.index[counts >= spec.min_group_size].tolist())
    left = sorted(set(site.tolist()) - set(estimated))
    info = {
        "batch": spec.batch,
        "sites_harmonised": estimated,
        "sites_not_harmonised": left,
        "n_subjects_not_harmonised": int(np.isin(site, left).sum()),
        "rule": f"sites with < {spec.min_group_size} training subjects are left unharmonised",
    }
    if len(estimated) < 2:
        info["skipped"] = "fewer than 2 sites with enough training subjects"
        return y, info
    fit_rows = train & np.isin(site, estimated)
    design = CovariateDesign.fit(table, fit_rows, spec.imaging, spec)
    x = design.encode(table)
    info["preserved_covariates"] = design.column_names
    info["site_r2_before"] = _r2_summary(batch_r2(y[fit_rows], site[fit_rows]))
    # expected one-way R² of k sites without any site effect: (k - 1) / (n - 1)
    info["site_r2_chance"] = (len(estimated) - 1) / (int(fit_rows.sum()) - 1)
    model = ComBat.fit(y[fit_rows], site[fit_rows], x[fit_rows])
    out = model.apply(y, site, x)
    info["site_r2_after"] = _r2_summary(batch_r2(out[fit_rows], site[fit_rows]))
    return out, info


def adjust_fold(cohort: CohortArrays, train: np.ndarray) -> tuple[CohortArrays, dict]:
    """The cohort with covariate and site effects removed (fitted on ``train`` rows), and
    what was done (for ``metrics.json``). Without covariates: the cohort unchanged."""
    spec = AdjustmentSpec.from_dict(cohort.adjustment)
    if cohort.covariates is None or not spec.enabled:
        return cohort, {"enabled": False}
    train = np.asarray(train, dtype=bool)
    table = cohort.covariates
    summary: dict = {"enabled": True, "n_train": int(train.sum())}
    imaging = cohort.imaging_flat
    if spec.batch:
        imaging, summary["combat"] = _combat(cohort, table, train, spec)
    for modality, names in (("imaging", spec.imaging), ("genetics", spec.genetics)):
        if not names:
            continue
        design = CovariateDesign.fit(table, train, names, spec)
        values = imaging if modality == "imaging" else cohort.genetics
        adjusted, r2 = residualise(values, design.encode(table), train)
        summary[modality] = {
            "covariates": design.column_names,
            "notes": design.notes,
            "r2": _r2_summary(r2),
        }
        if modality == "imaging":
            imaging = adjusted
        else:
            cohort = replace(cohort, genetics=adjusted)
    return replace(cohort, imaging=imaging.reshape(cohort.imaging.shape)), summary


def summarise_adjustment(fold_metrics: list[dict]) -> str:
    """A markdown paragraph on what was adjusted and the variance the covariates explained,
    over the folds' ``metrics.json`` dicts (their ``adjustment`` entries)."""
    entries = [m.get("adjustment") for m in fold_metrics if m.get("adjustment")]
    done = [e for e in entries if e.get("enabled")]
    if not done:
        return (
            "**Covariate adjustment.** None: imaging features and pathway scores were not "
            "adjusted for covariates or site (config `covariates`)."
        )
    parts = [
        f"**Covariate adjustment** (fitted on the training rows of each of {len(done)} folds)."
    ]
    for modality, label in (("imaging", "Imaging features"), ("genetics", "Pathway scores")):
        runs = [e[modality] for e in done if modality in e]
        if not runs:
            continue
        names = sorted({c for r in runs for c in r["covariates"]})
        r2 = np.array([r["r2"]["mean"] for r in runs])
        parts.append(
            f"{label} were residualised on {', '.join(f'`{n}`' for n in names) or 'nothing'}; "
            f"the covariates explained {100 * r2.mean():.1f}% of a feature's training variance "
            f"on average (folds: {100 * r2.min():.1f}-{100 * r2.max():.1f}%)."
        )
    combat = [e["combat"] for e in done if "combat" in e]
    if combat:
        ran = [c for c in combat if "skipped" not in c]
        text = f"ComBat harmonised the imaging features across `{combat[0]['batch']}`"
        if ran:
            before = np.mean([c["site_r2_before"]["mean"] for c in ran])
            after = np.mean([c["site_r2_after"]["mean"] for c in ran])
            chance = np.mean([c["site_r2_chance"] for c in ran])
            text += (
                f" in {len(ran)} of {len(combat)} folds: site explained {100 * before:.1f}% of a "
                f"feature's training variance before and {100 * after:.2f}% after (chance level "
                f"without any site effect: {100 * chance:.1f}%)"
            )
        unharmonised = sorted({s for c in combat for s in c["sites_not_harmonised"]})
        if unharmonised:
            text += (
                f"; site(s) {unharmonised} had too few training subjects in some fold and were "
                "left unharmonised there"
            )
        parts.append(text + ".")
    notes = sorted(
        {n for e in done for m in ("imaging", "genetics") for n in e.get(m, {}).get("notes", [])}
    )
    if notes:
        parts.append("Per-fold coding notes: " + "; ".join(notes) + ".")
    return " ".join(parts)
