"""ComBat harmonisation of site (batch) effects, learnt on training rows, applied to any rows.

The parametric empirical-Bayes location/scale model of Johnson, Li & Rabinovic (2007,
Biostatistics 8:118) as adapted to imaging features by Fortin et al. (2018, NeuroImage
167:104), computed as the ``neuroCombat`` package (0.2.12) computes it, so that the two agree
on shared data (tests/test_adjust.py):

    y_ij(v) = alpha(v) + x_ij beta(v) + gamma_i(v) + delta_i(v) eps_ij(v)

for feature v, site i, subject j; x holds the biological covariates whose effects are kept.
OLS on [site one-hot, x] gives beta and the site intercepts; alpha is their subject-weighted
mean; sigma^2 the pooled residual variance (divided by n, as neuroCombat does). Standardised
data z = (y - alpha - x beta) / sigma give per-site mean and variance estimates, shrunk across
features with normal / inverse-gamma priors (iterated to a relative change < 1e-4). Adjusted
data: (z - gamma*_i) / sqrt(delta*_i) * sigma + alpha + x beta.

Unlike ``neuroCombatFromTraining`` (which uses the training subjects' mean covariate effect
for every new subject), :meth:`ComBat.apply` keeps each new subject's own covariate effect
x beta, as the model says. Subjects of a site without estimates pass through unchanged; the
caller decides and records which sites those are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONVERGENCE = 1e-4


@dataclass
class ComBat:
    """Estimates learnt on training rows: ``batches`` (site labels), ``alpha`` (F,),
    ``beta`` (C, F) covariate effects, ``sigma`` (F,), ``gamma``/``delta`` (n_batches, F)."""

    batches: list[str]
    alpha: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    gamma: np.ndarray
    delta: np.ndarray

    @classmethod
    def fit(cls, y: np.ndarray, batch: np.ndarray, covariates: np.ndarray | None) -> ComBat:
        """Fit on ``y`` (N, F) with site labels ``batch`` (N,) and covariates (N, C) or None.

        Every site needs at least 2 subjects (a within-site variance) and there must be at
        least 2 sites and 2 features (the priors pool across features); ValueError otherwise.
        """
        y = np.asarray(y, dtype=float)
        batch = np.asarray(batch).astype(str)
        levels, index, counts = np.unique(batch, return_inverse=True, return_counts=True)
        if len(levels) < 2 or counts.min() < 2 or y.shape[1] < 2:
            raise ValueError(
                f"ComBat needs >= 2 sites of >= 2 subjects and >= 2 features; got sites "
                f"{dict(zip(levels.tolist(), counts.tolist(), strict=True))}, {y.shape[1]} features"
            )
        x = np.zeros((len(y), 0)) if covariates is None else np.asarray(covariates, float)
        onehot = (index[:, None] == np.arange(len(levels))[None, :]).astype(float)
        design = np.hstack([onehot, x])
        coef = np.linalg.solve(design.T @ design, design.T @ y)  # (B + C, F)
        n_b = len(levels)
        alpha = (counts / len(y)) @ coef[:n_b]
        beta = coef[n_b:]
        var = ((y - design @ coef) ** 2).mean(axis=0)
        var[var == 0] = np.median(var != 0)  # as neuroCombat (sic: the median of a mask)
        sigma = np.sqrt(var)
        z = (y - alpha - x @ beta) / sigma
        gamma_hat = np.stack([z[index == b].mean(axis=0) for b in range(n_b)])
        delta_hat = np.stack([z[index == b].var(axis=0, ddof=1) for b in range(n_b)])
        delta_hat[delta_hat == 0] = 1.0
        gamma, delta = np.empty_like(gamma_hat), np.empty_like(delta_hat)
        for b in range(n_b):
            gamma[b], delta[b] = _shrink(z[index == b], gamma_hat[b], delta_hat[b])
        return cls(levels.tolist(), alpha, beta, sigma, gamma, delta)

    def apply(self, y: np.ndarray, batch: np.ndarray, covariates: np.ndarray | None) -> np.ndarray:
        """Harmonised copy of ``y`` (N, F); rows of sites without estimates are unchanged."""
        y = np.asarray(y, dtype=float)
        batch = np.asarray(batch).astype(str)
        x = np.zeros((len(y), 0)) if covariates is None else np.asarray(covariates, float)
        kept = x @ self.beta + self.alpha  # what harmonisation preserves
        out = y.copy()
        for b, level in enumerate(self.batches):
            rows = batch == level
            z = (y[rows] - kept[rows]) / self.sigma
            out[rows] = (z - self.gamma[b]) / np.sqrt(self.delta[b]) * self.sigma + kept[rows]
        return out


def _shrink(z: np.ndarray, g_hat: np.ndarray, d_hat: np.ndarray) -> tuple[np.ndarray, ...]:
    """Parametric EB posterior of one site's location (normal prior) and scale (inverse gamma),
    iterated as neuroCombat's ``it_sol``."""
    g_bar, t2 = g_hat.mean(), g_hat.var(ddof=1)
    m, s2 = d_hat.mean(), d_hat.var(ddof=1)
    a, b = (2 * s2 + m**2) / s2, (m * s2 + m**3) / s2
    n = np.isfinite(z).sum(axis=0)
    g_old, d_old = g_hat.copy(), d_hat.copy()
    while True:
        g_new = (t2 * n * g_hat + d_old * g_bar) / (t2 * n + d_old)
        sum2 = ((z - g_new) ** 2).sum(axis=0)
        d_new = (0.5 * sum2 + b) / (n / 2.0 + a - 1.0)
        change = max((np.abs(g_new - g_old) / g_old).max(), (np.abs(d_new - d_old) / d_old).max())
        g_old, d_old = g_new, d_new
        if not change > CONVERGENCE:
            return g_new, d_new
