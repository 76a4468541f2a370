"""Fit the death hazard's baseline and clinical-stage hazard ratios to annual mortality by clinical stage.

The hazard is h_ref * exp(b_meld (MELD - 10)) * HR(stage) * HR(encephalopathy) (model/survival.py). The MELD
slope (Kamath 2001) and the encephalopathy ratio (Stewart 2007) come from the literature; the three values
without a source, `h_ref` (stage 1, compensated without varices), `hr_csph` (stage 2, HVPG >= 10 mmHg as the
proxy for varices) and `hr_asc` (stage 3, ascites), are set so that an untreated virtual cohort's one-year
mortality by baseline stage equals D'Amico 2006's 1, 3.4 and 20 %/year.

The cohort is simulated once: the death hazard only accumulates into CH_death and feeds back on no other
state, so each candidate is the model's own `hazard_death` expression re-evaluated on the stored
trajectories and integrated (trapezoid on a two-day grid). Three equations, three unknowns, solved in log
space with scipy's least squares; `hepatwin validate` then checks the fit with the ODE-integrated hazard.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import optimize

from ..model import build_model
from ..model import sources as src
from ..population.config import load_population
from .cohorts import CohortRun, simulate_cohort

#: the parameters this procedure fits, and the D'Amico stage whose mortality sets each
HAZARD_PARAMETERS = ("h_ref", "hr_csph", "hr_asc")
#: annual mortality (%) by clinical stage, D'Amico 2006 (stage 4, variceal bleeding, is not a model state)
STAGE_MORTALITY = {1: 1.0, 2: 3.4, 3: 20.0}
HAZARD_TARGET = f"annual mortality by clinical stage 1-3 of {src.DAMICO_2006}: 1, 3.4 and 20 %/year"
YEAR_GRID = np.arange(0.0, 365.25 + 1e-9, 365.25 / 182)


@dataclass
class HazardFit:
    start: dict[str, float]
    fitted: dict[str, float]
    mortality_start: dict[int, float]
    mortality_fitted: dict[int, float]
    patients: dict[int, int]
    seconds: float
    settings: dict = field(default_factory=dict)

    @property
    def loss_fitted(self) -> float:
        """Sum of squared relative misses of the three stage targets."""
        return float(sum(((self.mortality_fitted[s] - t) / t) ** 2 for s, t in STAGE_MORTALITY.items()))

    @property
    def reached(self) -> bool:
        """Every stage target met within 1% of its value. A small cohort can miss: when its stage-1 patients
        sit just below 10 mmHg they move into stage 2 within the year and the two rates cannot be set apart."""
        return all(abs(self.mortality_fitted[s] - t) <= 0.01 * t for s, t in STAGE_MORTALITY.items())


def annual_mortality(run: CohortRun, values: dict[str, float], chunk: int = 250) -> dict[int, float]:
    """Mean one-year mortality (%) by baseline clinical stage of a cohort simulated on YEAR_GRID, with the
    hazard parameters set to `values` (others as simulated)."""
    model = run.model
    P = run.params.copy()
    for name, v in values.items():
        P[:, model.param_index(name)] = v
    k_h = model.derived_names.index("hazard_death")
    dt = np.diff(run.days)
    surv = np.empty(len(P))
    for a in range(0, len(P), chunk):
        y = np.transpose(np.nan_to_num(run.y[a:a + chunk]), (1, 0, 2))
        h = model.derived(y, P[a:a + chunk].T[:, :, None])[k_h]
        surv[a:a + chunk] = np.exp(-np.sum(0.5 * (h[:, 1:] + h[:, :-1]) * dt, axis=1))
    stage = run.stage
    return {s: float(100 * np.mean(1 - surv[run.ok & (stage == s)])) if np.any(run.ok & (stage == s)) else np.nan
            for s in STAGE_MORTALITY}


def fit_death_hazard(cohort: str | Path, n: int = 2000, *, engine: str = "numba", executor=None) -> HazardFit:
    """Fit h_ref, hr_csph and hr_asc to D'Amico's stage mortality on the untreated cohort `cohort` (a
    population file, e.g. examples/populations/cirrhosis_natural_history.toml) of `n` patients, screened
    through `executor` and simulated on `engine`."""
    t0 = time.perf_counter()
    cfg = load_population(cohort)
    spec = build_model()
    start = {p: spec.parameters[p].value for p in HAZARD_PARAMETERS}
    lo = np.log([spec.parameters[p].lower for p in HAZARD_PARAMETERS])
    hi = np.log([spec.parameters[p].upper for p in HAZARD_PARAMETERS])
    run = simulate_cohort(cfg, n, YEAR_GRID, engine=engine, executor=executor)
    patients = {s: int(np.count_nonzero(run.ok & (run.stage == s))) for s in STAGE_MORTALITY}
    empty = [s for s, k in patients.items() if k == 0]
    if empty:
        raise ValueError(f"the cohort {cohort} has no patient in clinical stage(s) {empty}; the stage hazard "
                         f"ratios cannot be fitted")
    targets = np.array(list(STAGE_MORTALITY.values()))

    def residuals(x):
        m = annual_mortality(run, dict(zip(HAZARD_PARAMETERS, np.exp(x), strict=True)))
        return (np.array([m[s] for s in STAGE_MORTALITY]) - targets) / targets

    x0 = np.clip(np.log(list(start.values())), lo, hi)
    opt = optimize.least_squares(residuals, x0, bounds=(lo, hi), x_scale=1.0, xtol=1e-10, ftol=1e-10)
    fitted = dict(zip(HAZARD_PARAMETERS, (float(v) for v in np.exp(opt.x)), strict=True))
    return HazardFit(start, fitted, annual_mortality(run, start), annual_mortality(run, fitted), patients,
                     time.perf_counter() - t0, {"cohort": str(cohort), "n": n, "method": "least squares (log space)"})
