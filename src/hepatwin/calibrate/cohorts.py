"""Untreated natural-history cohorts: expected survival from the model's death hazard by baseline group.

Mortality is the cohort mean of 1 - exp(-CH_death(t)) (the expected fraction dead), not a sampled
count, so the only randomness is in which virtual patients the cohort holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..engine.codegen import CompiledModel, compile_model
from ..engine.solver import solve_patients
from ..model import build_model
from ..model.catalog import EVENTS
from ..plan import derived_in_force, plan_restart
from ..population.config import PopulationConfig
from ..population.generate import generate

#: output days of the cohort run: 3 months, then yearly to 5 years
COHORT_DAYS = np.array([0.0, 91.0, 182.0, 365.25, 730.5, 1095.75, 1461.0, 1826.25])


def clinical_stage(ascites_grade: np.ndarray, hvpg: np.ndarray) -> np.ndarray:
    """D'Amico clinical stage proxy: 1 no varices/no ascites (HVPG < 10 mmHg), 2 varices without ascites
    (HVPG >= 10 mmHg as the proxy for varices), 3 ascites (grade >= 1). Stage 4 (variceal bleeding) is a landmark
    at the bleed, not a baseline stage."""
    return np.where(ascites_grade >= 1, 3, np.where(hvpg >= 10.0, 2, 1))


@dataclass
class CohortRun:
    """An untreated cohort simulated from its baseline: accepted patients, their parameters and trajectories."""

    baseline: pd.DataFrame
    model: CompiledModel
    params: np.ndarray          # patients x parameters
    days: np.ndarray
    y: np.ndarray               # patients x states x days
    ok: np.ndarray              # solver status 0
    events: list = field(default_factory=list)   # each patient's events (cause control that starts...)

    def derived(self, rows: slice, params: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Every derived quantity of patients `rows` on the run's days (patients x days), with the parameters
        in force at each day (`params` instead of the run's when given, e.g. a candidate hazard)."""
        y = np.transpose(np.nan_to_num(self.y[rows]), (1, 0, 2))
        p = self.params[rows] if params is None else params
        evs = self.events[rows] if self.events else [[] for _ in range(len(p))]
        return dict(zip(self.model.derived_names, derived_in_force(self.model, y, p, evs, self.days), strict=True))

    @property
    def stage(self) -> np.ndarray:
        """D'Amico clinical stage proxy at baseline."""
        return clinical_stage(self.baseline["ascites_grade"].to_numpy(), self.baseline["HVPG"].to_numpy())


def simulate_cohort(cfg: PopulationConfig, n: int, days: np.ndarray = COHORT_DAYS, chunk: int = 2000, *,
                    engine: str = "numba", executor=None) -> CohortRun:
    """Generate `n` patients of `cfg` (disease history burned in, through `executor`) and follow them untreated
    from day 0 to `days` on `engine`, with the death hazard counted from day 0."""
    pop = generate(cfg, n, chunk=chunk, engine=engine, executor=executor)
    base = pop.accepted.reset_index(drop=True)
    spec = build_model()
    model = compile_model(spec)
    plan = plan_restart(cfg, base, spec, model, control_on=any(t.start_day <= 0 for t in cfg.therapy),
                        therapy_days=[t.start_day for t in cfg.therapy if t.start_day > 0])
    sol = solve_patients(spec, plan.y0, plan.params, plan.t_start, np.asarray(days, float), plan.events,
                         engine=engine)
    return CohortRun(base, model, plan.params, np.asarray(days, float), sol.y, sol.status == 0, plan.events)


def first_decompensation(run: CohortRun, chunk: int = 250) -> tuple[np.ndarray, np.ndarray]:
    """Whether each patient is compensated at baseline (none of the kinds of the catalog's
    `first_decompensation`: no sign at or above its onset level, no bleed), and the day of its first
    decompensation of any kind after baseline (NaN if none), on the run's output days."""
    parts = EVENTS["first_decompensation"].of
    n, days = run.y.shape[0], run.days
    compensated = np.ones(n, dtype=bool)
    first = np.full(n, np.inf)
    names = run.model.state_names
    for a in range(0, n, chunk):
        y = np.transpose(np.nan_to_num(run.y[a:a + chunk]), (1, 0, 2))
        derived = run.derived(slice(a, a + chunk))
        for part in parts:
            e = EVENTS[part]
            if e.onset:
                var, level = e.onset
                x = derived[var] if var in derived else y[names.index(var)]
            else:   # an event the engine fires: its counter
                x, level = y[names.index(e.counter)], 1.0
            present = x[:, 0] >= level
            compensated[a:a + chunk] &= ~present
            hit = (x >= level) & ~present[:, None]
            day = np.where(hit.any(axis=1), days[np.argmax(hit, axis=1)], np.inf)
            first[a:a + chunk] = np.minimum(first[a:a + chunk], day)
    return compensated, np.where(np.isfinite(first), first, np.nan)


def aclf_course(cfg: PopulationConfig, n: int, years: float = 2.0, *, engine: str = "numba") -> pd.DataFrame:
    """`n` untreated patients of `cfg` followed daily for `years`: for each, the day ACLF (EASL-CLIF grade >= 1)
    first sets in after baseline (NaN if never, or if present at baseline), its highest grade in the 14 days
    after onset, and the expected survival 28 and 90 days after onset (NaN when follow-up ends before)."""
    days = np.arange(0.0, math.floor(years * 365.25) + 1.0)
    run = simulate_cohort(cfg, n, days, engine=engine)
    m = run.model
    ch = run.y[:, m.state_names.index("CH_death"), :]
    grade = np.empty_like(ch)
    for a in range(0, len(grade), 250):
        derived = run.derived(slice(a, a + 250))
        grade[a:a + 250] = derived["aclf_grade"]
    out = pd.DataFrame({"patient_id": run.baseline["patient_id"].to_numpy(), "ok": run.ok})
    onset = np.full(len(grade), np.nan)
    worst = np.full(len(grade), np.nan)
    surv = {28: np.full(len(grade), np.nan), 90: np.full(len(grade), np.nan)}
    for j in np.flatnonzero((grade[:, 0] < 1) & (grade >= 1).any(axis=1)):
        k = int(np.argmax(grade[j] >= 1))
        onset[j], worst[j] = days[k], grade[j, k:k + 15].max()
        for span in surv:
            if k + span < days.size:
                surv[span][j] = math.exp(-(ch[j, k + span] - ch[j, k]))
    out["aclf_day"], out["aclf_worst_grade"] = onset, worst
    out["surv_after_aclf_28"], out["surv_after_aclf_90"] = surv[28], surv[90]
    return out


#: the weekly grid of the natural-history run (to 5 years), on which events are timed
WEEKLY_DAYS = np.union1d(np.arange(0.0, COHORT_DAYS[-1], 7.0), COHORT_DAYS)


def natural_history(cfg: PopulationConfig, n: int, chunk: int = 2000, *, engine: str = "numba") -> pd.DataFrame:
    """Baseline labs/scores and expected survival at COHORT_DAYS for `n` untreated cirrhosis patients; with the
    day of each one's first variceal bleed (on a weekly grid; NaN if none) and the expected survival 6 weeks
    and one year after it (NaN when follow-up ends before)."""
    run = simulate_cohort(cfg, n, WEEKLY_DAYS, chunk, engine=engine)
    names = run.model.state_names
    ch = run.y[:, names.index("CH_death"), :]
    bleeds = run.y[:, names.index("N_vb"), :]
    out = run.baseline[["patient_id", "meld", "child_pugh_class", "child_pugh_points", "ascites_grade", "HVPG",
                        "Alb", "CHE", "age_years"]].copy()
    out["stage"] = run.stage
    out["ok"] = run.ok
    for day in COHORT_DAYS[1:]:
        out[f"surv_{day:g}"] = np.exp(-ch[:, np.searchsorted(WEEKLY_DAYS, day)])
    first = np.array([WEEKLY_DAYS[np.argmax(b >= 1)] if (b >= 1).any() else np.nan for b in bleeds])
    out["bleed_day"] = first
    out["compensated"], out["first_decompensation_day"] = first_decompensation(run)
    k = np.searchsorted(WEEKLY_DAYS, np.nan_to_num(out["first_decompensation_day"].to_numpy(), nan=0.0))
    out["alive_at_first_decompensation"] = np.where(out["first_decompensation_day"].notna(),
                                                    np.exp(-ch[np.arange(len(out)), k]), np.nan)
    for label, span in (("6w", 42.0), ("1y", 365.25)):
        after = np.full(len(out), np.nan)
        for j in np.flatnonzero(np.isfinite(first) & (first + span <= WEEKLY_DAYS[-1])):
            ch_at = np.interp([first[j], first[j] + span], WEEKLY_DAYS, ch[j])
            after[j] = np.exp(-(ch_at[1] - ch_at[0]))
        out[f"surv_after_bleed_{label}"] = after
    return out


def bootstrap_mean(x: np.ndarray, seed: int = 0, reps: int = 1000) -> tuple[float, float, float]:
    """Mean and 95% percentile bootstrap interval of the mean."""
    x = np.asarray(x, float)
    if x.size == 0:
        return np.nan, np.nan, np.nan
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, (reps, x.size))].mean(axis=1)
    return float(x.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))
