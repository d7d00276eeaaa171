"""What the demo plants: the scenario's generative model of diagnosis and regional effects.

Notation: ``g_j`` is the standardised causal burden of pathway j (``pathway_burdens``),
``m_r`` one regional FreeSurfer measure with its simulated SD ``sd_r`` before any effect,
``d`` the diagnosis (1 patient, 0 control), ``z(.)`` standardisation over the target cohort.

Diagnosis: the patients are the top ``patient_fraction`` of a liability

    L = sqrt(h2) * z(sum_{j in A} w_j g_j) + C + sqrt(1 - h2) * eps,   eps ~ N(0, 1)

where A is the set of pathways with an ``additive_pathway`` effect (empty: L has no
genetic part) and C the confounder part (``Confounders``:
``age_dx * z(age) + sex_dx * (male - mean) + site_dx * (site index - 1)``).
Regional effects, added to the simulated measures once d is known:

    additive_region  (r):    m_r += delta_r * d * sd_r                    (shift in patients)
    coupling         (j, r): m_r += kappa_jr * (2d - 1) * g_j * sd_r     (slope +k / -k)
    pair             (j, r): m_r += beta_jr * d * g_j * sd_r              (slope in patients)

Scenarios:

- ``null``: A empty, no regional effect: diagnosis independent of genotypes and imaging
  (apart from the confounders, when enabled).
- ``additive``: every causal pathway in A, ``n_additive_regions`` regions shifted in
  patients; a region's measure does not depend on any pathway given d (no pairing).
- ``coupling``: A empty; each causal pathway coupled to 2-3 regions with opposite slopes in
  patients and controls. Since E[g_j] = 0 and g_j is independent of d, neither the pathway
  nor the region differs in mean between the groups: only the pair carries the signal.
- ``mixed`` (default): the first half of the causal pathways in A, each with one ``pair``
  region; the other half coupled (``coupling``) to 2-3 regions; ``n_additive_regions``
  regions shifted in patients.

The discovery GWAS (summary statistics) is of a heritable trait driven by every causal
pathway in every scenario, so the pathway scores track the burdens even when the target
diagnosis does not depend on them (``null``, ``coupling``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

SCENARIOS = ("null", "additive", "coupling", "mixed")
TRUTH_MEASURES = ("ThickAvg", "GrayVol", "SurfArea")
_MEASURE_PROBS = (0.5, 0.25, 0.25)
TRUTH_COLUMNS = ["kind", "pathway", "region", "measure", "effect"]
PAIR_KINDS = ("coupling", "pair")


@dataclass(frozen=True)
class Confounders:
    """Effect sizes of age, sex, site and head size; ``enabled: false`` sets them all to 0.

    On diagnosis (liability SD units): ``age_dx`` per SD of age, ``sex_dx`` for men against
    the cohort mean, ``site_dx`` per site step (site1 -1, site2 0, site3 +1).
    On the regional measures: thickness thins by ``age_thinning`` (fraction per year over
    50), women's cortex is ``sex_thickness`` (fraction) thicker, each site scales thickness
    and area by a factor 1 + N(0, ``site_sd``), and area scales as
    (eTIV / 1.5e6) ** ``etiv_area_exponent``. Grey-matter volume follows area x thickness.
    """

    enabled: bool = True
    age_dx: float = 0.3
    sex_dx: float = 0.4
    site_dx: float = 0.3
    age_thinning: float = 0.0025
    sex_thickness: float = 0.01
    site_sd: float = 0.02
    etiv_area_exponent: float = 0.8

    @classmethod
    def from_settings(cls, settings: dict | None) -> Confounders:
        """From the ``demo.confounders`` config mapping (missing keys take the defaults)."""
        settings = dict(settings or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ValueError(f"demo.confounders: unknown key(s) {unknown}; known: {sorted(known)}")
        return cls(**settings)

    def size(self, name: str) -> float:
        """The effect size in force (0 when disabled)."""
        return float(getattr(self, name)) if self.enabled else 0.0

    def table(self) -> pd.DataFrame:
        """What was planted, one row per effect (``confounders.tsv``)."""
        rows = [
            ("age", "diagnosis", "", "age_dx", "liability SD per SD of age"),
            ("sex", "diagnosis", "", "sex_dx", "liability SD, men against the cohort mean"),
            ("site", "diagnosis", "", "site_dx", "liability SD per site step (site1 -1, site3 +1)"),
            ("age", "regions", "ThickAvg", "age_thinning", "fraction per year over 50"),
            ("sex", "regions", "ThickAvg", "sex_thickness", "fraction, women thicker"),
            ("site", "regions", "ThickAvg,SurfArea", "site_sd", "SD of per-site factor"),
            ("eTIV", "regions", "SurfArea", "etiv_area_exponent", "exponent of eTIV/1.5e6"),
        ]
        return pd.DataFrame(
            [(c, t, m, k, self.size(k), u) for c, t, m, k, u in rows],
            columns=["covariate", "affects", "measure", "key", "effect", "unit"],
        )


def _pick_regions(regions: list[str], n: int, rng: np.random.Generator) -> tuple[list, list]:
    picked = rng.choice(len(regions), size=n, replace=False)
    measures = rng.choice(len(TRUTH_MEASURES), size=n, p=_MEASURE_PROBS)
    return [regions[i] for i in picked], [TRUTH_MEASURES[m] for m in measures]


def plan_effects(
    scenario: str,
    causal_pathways: list[str],
    regions: list[str],
    rng: np.random.Generator,
    *,
    n_additive_regions: int = 4,
    region_effect: tuple[float, float] = (0.3, 0.6),
    coupling_effect: tuple[float, float] = (0.5, 0.8),
    pair_effect: tuple[float, float] = (0.5, 1.0),
) -> pd.DataFrame:
    """The planted effects of one scenario as a truth table (``TRUTH_COLUMNS``).

    ``regions`` carry the hemisphere prefix (``lh_superiorfrontal``); every region gets at
    most one effect. ``additive_pathway`` rows have an empty region and measure (their
    effect is filled in by :func:`diagnose`); ``additive_region`` rows an empty pathway.
    Region effects are negative (atrophy); coupling slopes positive in patients.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"demo.scenario must be one of {SCENARIOS}, got {scenario!r}")
    if scenario == "mixed" and len(causal_pathways) < 2:
        raise ValueError("demo.scenario mixed needs demo.n_causal_pathways >= 2")
    if scenario == "null":
        return pd.DataFrame(columns=TRUTH_COLUMNS)
    half = (len(causal_pathways) + 1) // 2
    additive = {"additive": causal_pathways, "coupling": [], "mixed": causal_pathways[:half]}
    coupled = {"additive": [], "coupling": causal_pathways, "mixed": causal_pathways[half:]}
    additive, coupled = additive[scenario], coupled[scenario]
    n_coupled = [int(rng.integers(2, 4)) for _ in coupled]
    n_pair = len(additive) if scenario == "mixed" else 0
    n_region = 0 if scenario == "coupling" else n_additive_regions
    names, measures = _pick_regions(regions, sum(n_coupled) + n_pair + n_region, rng)
    rows = [("additive_pathway", p, "", "", np.nan) for p in additive]
    k = 0
    for p, count in zip(coupled, n_coupled, strict=True):
        for _ in range(count):
            rows.append(("coupling", p, names[k], measures[k], rng.uniform(*coupling_effect)))
            k += 1
    for p in additive[:n_pair]:
        rows.append(("pair", p, names[k], measures[k], -rng.uniform(*pair_effect)))
        k += 1
    for _ in range(n_region):
        rows.append(("additive_region", "", names[k], measures[k], -rng.uniform(*region_effect)))
        k += 1
    table = pd.DataFrame(rows, columns=TRUTH_COLUMNS)
    table["effect"] = table["effect"].round(3)
    return table


def _z(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, float)
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else x - x.mean()


def diagnose(
    truth: pd.DataFrame,
    burdens: np.ndarray,
    causal_pathways: list[str],
    weights: np.ndarray,
    covariates: pd.DataFrame,
    confounders: Confounders,
    heritability: float,
    patient_fraction: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Diagnosis (bool, patients) and liability of the target cohort; truth with A's effects.

    ``covariates`` has sex (M/F), age and site_index. The ``additive_pathway`` rows get
    their coefficient on g_j in L as effect. The noise is drawn whatever the scenario, so
    scenarios differ only in what they plant.
    """
    noise = rng.normal(0.0, 1.0, size=burdens.shape[0])
    truth = truth.copy()
    additive = truth["kind"] == "additive_pathway"
    if additive.any():
        cols = [causal_pathways.index(p) for p in truth.loc[additive, "pathway"]]
        raw = burdens[:, cols] @ weights[cols]
        coef = np.sqrt(heritability) * weights[cols] / raw.std()
        genetic = raw * (np.sqrt(heritability) / raw.std())
        truth.loc[additive, "effect"] = np.round(coef, 3)
        liab = genetic - genetic.mean() + np.sqrt(1.0 - heritability) * noise
    else:
        liab = noise.copy()
    male = (covariates["sex"].to_numpy() == "M").astype(float)
    liab = liab + confounders.size("age_dx") * _z(covariates["age"].to_numpy())
    liab = liab + confounders.size("sex_dx") * (male - male.mean())
    liab = liab + confounders.size("site_dx") * (covariates["site_index"].to_numpy() - 1.0)
    patients = liab >= np.quantile(liab, 1 - patient_fraction)
    return patients, liab, truth


def plant_regional_effects(
    values: dict[str, np.ndarray],
    truth: pd.DataFrame,
    region_names: list[str],
    measure_columns: list[str],
    burdens: np.ndarray,
    causal_pathways: list[str],
    patients: np.ndarray,
) -> np.ndarray:
    """Add the truth's region effects to ``values`` ({hemi: (n, regions, measures)}) in place.

    Returns the (n, effects) planted measures, in the order of the truth's region rows.
    Values stay positive (floored at 5% of the measure's mean).
    """
    d = np.asarray(patients, float)
    rows = truth[truth["kind"] != "additive_pathway"]
    out = np.empty((len(d), len(rows)))
    for k, row in enumerate(rows.itertuples(index=False)):
        hemi, region = row.region.split("_", 1)
        r, m = region_names.index(region), measure_columns.index(row.measure)
        col = values[hemi][:, r, m]
        if row.kind == "additive_region":
            shift = d
        else:
            g = burdens[:, causal_pathways.index(row.pathway)]
            shift = (2 * d - 1) * g if row.kind == "coupling" else d * g
        changed = col + row.effect * shift * col.std()
        values[hemi][:, r, m] = np.maximum(changed, 0.05 * col.mean())
        out[:, k] = values[hemi][:, r, m]
    return out
