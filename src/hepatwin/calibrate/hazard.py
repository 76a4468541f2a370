"""Fit the death hazard's baseline and clinical-stage hazard ratios to D'Amico 2006's natural history.

The hazard is h_ref * exp(b_meld (MELD - 10)) * HR(stage) * HR(encephalopathy) (model/survival.py). The MELD
slope (Kamath 2001) and the encephalopathy ratio (Stewart 2007) come from the literature; the three values
without a source are set on an untreated virtual cohort so that

* `h_ref` (stage 1, compensated without varices) gives D'Amico's 1 %/year mortality of stage 1,
* `hr_csph` (stage 2, HVPG >= 10 mmHg as the proxy for varices, no ascites) its 3.4 %/year,
* `hr_asc` (stage 3, ascites) its median survival of about 2 years after decompensation.

Stage 3's own one-year mortality (20 %/year) is left as a test: the decompensated patients' risk rises over the
years as their liver fails (model/regeneration.py), so their survival curve is not the exponential a constant
annual rate implies, and the median is the figure that decides a trial's survival endpoint.

The cohort is simulated once: the death hazard only accumulates into CH_death and feeds back on no other
state, so each candidate is the model's own `hazard_death` expression re-evaluated on the stored
trajectories and integrated (trapezoid on a four-day grid). Three equations, three unknowns, solved in log
space with scipy's least squares; `hepatwin validate` then checks the fit with the ODE-integrated hazard.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import optimize

from ..model import build_model
from ..model import sources as src
from ..population.config import load_population
from .cohorts import CohortRun, simulate_cohort

#: the parameters this procedure fits
HAZARD_PARAMETERS = ("h_ref", "hr_csph", "hr_asc")
#: annual mortality (%) of clinical stages 1 and 2, D'Amico 2006
STAGE_MORTALITY = {1: 1.0, 2: 3.4}
#: median survival (years) of patients with clinically evident ascites (stage 3), D'Amico 2006
MEDIAN_SURVIVAL_DECOMPENSATED = 2.0
#: target name -> published value, in the order of HAZARD_PARAMETERS
TARGETS = {"stage 1 annual mortality (%)": STAGE_MORTALITY[1], "stage 2 annual mortality (%)": STAGE_MORTALITY[2],
           "stage 3 median survival (years)": MEDIAN_SURVIVAL_DECOMPENSATED}
HAZARD_TARGET = (f"{src.DAMICO_2006}: annual mortality 1 and 3.4 %/year in clinical stages 1 and 2, median "
                 f"survival about 2 years after decompensation")
#: five years on a four-day grid
GRID = np.linspace(0.0, 5 * 365.25, 457)


@dataclass
class HazardFit:
    start: dict[str, float]
    fitted: dict[str, float]
    targets_start: dict[str, float]
    targets_fitted: dict[str, float]
    patients: dict[int, int]
    seconds: float
    settings: dict = field(default_factory=dict)

    @property
    def loss_fitted(self) -> float:
        """Sum of squared relative misses of the three targets."""
        return float(sum(((self.targets_fitted[k] - t) / t) ** 2 for k, t in TARGETS.items()))

    def at_bound(self, name: str) -> bool:
        """Whether the fitted `name` sits at (within 0.1% of) an end of its declared range."""
        p = build_model().parameters[name]
        v = self.fitted[name]
        return bool(abs(v - p.lower) <= 1e-3 * abs(p.lower) or abs(v - p.upper) <= 1e-3 * abs(p.upper))

    @property
    def reached(self) -> bool:
        """Every target met within 1% of its value. A small cohort can miss: when its stage-1 patients sit just
        below 10 mmHg they move into stage 2 within the year and the two rates cannot be set apart."""
        return all(abs(self.targets_fitted[k] - t) <= 0.01 * t for k, t in TARGETS.items())


def median_years(days: np.ndarray, curve: np.ndarray) -> float:
    """Where a survival curve first reaches 0.5, linearly interpolated, in years (NaN if it stays above)."""
    below = np.flatnonzero(curve <= 0.5)
    if not below.size:
        return math.nan
    k = below[0]
    d0, d1 = (days[k - 1], days[k]) if k else (0.0, days[0])
    s0, s1 = (curve[k - 1], curve[k]) if k else (1.0, curve[0])
    return float((d0 + (s0 - 0.5) / (s0 - s1) * (d1 - d0)) / 365.25)


def survival_curves(run: CohortRun, values: dict[str, float], chunk: int = 250) -> np.ndarray:
    """Each patient's survival on the run's days (patients x days), with the hazard parameters set to `values`
    (others as simulated): exp of minus the trapezoid integral of the model's `hazard_death`."""
    model = run.model
    P = run.params.copy()
    for name, v in values.items():
        P[:, model.param_index(name)] = v
    dt = np.diff(run.days)
    surv = np.ones((len(P), run.days.size))
    for a in range(0, len(P), chunk):
        h = run.derived(slice(a, a + chunk), P[a:a + chunk])["hazard_death"]
        surv[a:a + chunk, 1:] = np.exp(-np.cumsum(0.5 * (h[:, 1:] + h[:, :-1]) * dt, axis=1))
    return surv


def targets(run: CohortRun, values: dict[str, float]) -> dict[str, float]:
    """The three fitted quantities of a cohort simulated on GRID (see TARGETS)."""
    surv = survival_curves(run, values)
    year = int(np.searchsorted(run.days, 365.25 - 1e-6))
    stage = run.stage
    out = {}
    for s, key in ((1, "stage 1 annual mortality (%)"), (2, "stage 2 annual mortality (%)")):
        sel = run.ok & (stage == s)
        out[key] = float(100 * np.mean(1 - surv[sel, year])) if sel.any() else math.nan
    sel = run.ok & (stage == 3)
    out["stage 3 median survival (years)"] = (median_years(run.days, surv[sel].mean(axis=0)) if sel.any()
                                              else math.nan)
    return out


def fit_death_hazard(cohort: str | Path, n: int = 2000, *, engine: str = "numba", executor=None) -> HazardFit:
    """Fit h_ref, hr_csph and hr_asc to D'Amico's natural history (TARGETS) on the untreated cohort `cohort` (a
    population file, e.g. examples/populations/cirrhosis_natural_history.toml) of `n` patients, screened
    through `executor` and simulated on `engine`."""
    t0 = time.perf_counter()
    cfg = load_population(cohort)
    spec = build_model()
    start = {p: spec.parameters[p].value for p in HAZARD_PARAMETERS}
    lo = np.log([spec.parameters[p].lower for p in HAZARD_PARAMETERS])
    hi = np.log([spec.parameters[p].upper for p in HAZARD_PARAMETERS])
    run = simulate_cohort(cfg, n, GRID, engine=engine, executor=executor)
    patients = {s: int(np.count_nonzero(run.ok & (run.stage == s))) for s in (1, 2, 3)}
    empty = [s for s, k in patients.items() if k == 0]
    if empty:
        raise ValueError(f"the cohort {cohort} has no patient in clinical stage(s) {empty}; the stage hazard "
                         f"ratios cannot be fitted")
    goal = np.array(list(TARGETS.values()))

    def residuals(x):
        m = targets(run, dict(zip(HAZARD_PARAMETERS, np.exp(x), strict=True)))
        # a median beyond the five simulated years counts as twice the target's miss at five years
        got = np.array([m[k] if np.isfinite(m[k]) else 10.0 for k in TARGETS])
        return (got - goal) / goal

    x0 = np.clip(np.log(list(start.values())), lo, hi)
    opt = optimize.least_squares(residuals, x0, bounds=(lo, hi), x_scale=1.0, xtol=1e-10, ftol=1e-10)
    fitted = dict(zip(HAZARD_PARAMETERS, (float(v) for v in np.exp(opt.x)), strict=True))
    return HazardFit(start, fitted, targets(run, start), targets(run, fitted), patients,
                     time.perf_counter() - t0, {"cohort": str(cohort), "n": n, "method": "least squares (log space)"})
