"""Drivers from the patient model: the organ-level time series that the tissue follows.

The patient simulation says how much (injury intensity, inflammation, stellate activation, collagen
synthesis and degradation, MSC delivery and the four mechanism effects); the tissue rules decide
where. The tissue's mean collagen therefore follows the patient's collagen budget, and its picture
(CPA measured as stained area, septa, nodules) is an independent read-out of that budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..model import build_model
from ..scenario import Scenario, load_scenario

#: patient variables the tissue reads (name in the patient dataset)
DRIVER_VARIABLES = ("inj", "M1", "stim", "A", "degr", "e_im", "e_af", "e_rg", "e_mc", "e_acd", "perf", "Mliver",
                    "CPA", "stage", "H", "Cs", "Cx")
#: patient parameters the tissue shares
SHARED_PARAMETERS = ("sC", "c_basal", "kdeg", "kx", "kdx", "A_ref", "kc_liver")


@dataclass
class Drivers:
    """Patient time series on a common grid (days; negative = disease history before baseline)."""

    time: np.ndarray
    values: dict[str, np.ndarray]
    params: dict[str, float]
    etiology: str
    route: str = "peripheral_iv"
    name: str = "patient"
    infusion_days: list[float] = field(default_factory=list)
    cause_control_day: float | None = None

    def at(self, t: float) -> dict[str, float]:
        """Linear interpolation of every driver at day `t` (held constant outside the grid)."""
        return {k: float(np.interp(t, self.time, v)) for k, v in self.values.items()}

    def msc_arrivals(self, t0: float, t1: float) -> float:
        """MSCs (cells) reaching the liver between days t0 and t1: rise of the liver pool plus its clearance."""
        kc = self.params["kc_liver"]
        ts = np.concatenate([[t0], self.time[(self.time > t0) & (self.time < t1)], [t1]])
        m = np.interp(ts, self.time, self.values["Mliver"])
        # a bolus shows as a jump between grid points; count rises, and clearance of what is there
        inflow = np.clip(np.diff(m) + kc * np.diff(ts) * 0.5 * (m[1:] + m[:-1]), 0.0, None)
        return float(inflow.sum())

    @property
    def t_start(self) -> float:
        return float(self.time[0])

    @property
    def t_end(self) -> float:
        return float(self.time[-1])


def drivers_from_scenario(scenario: Scenario | str | Path, *, history_step_days: float = 7.0,
                          step_days: float = 1.0, engine: str = "numba") -> Drivers:
    """Simulate the patient scenario (including its disease history) and collect the tissue's drivers."""
    from ..simulate import simulate

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    years = scenario.patient.history.years if scenario.patient.history is not None else 0.0
    t0 = -years * 365.25
    end = scenario.simulation.end_day
    grid = np.arange(0.0, end + 1e-9, step_days)
    if grid[-1] < end:
        grid = np.append(grid, end)
    if t0 < 0:
        hist = np.arange(t0, 0.0, history_step_days)
        grid = np.concatenate([hist, grid])
    # Output during the burn-in is not offered by scenario files; it is asked for here on a copy.
    sim = scenario.simulation.model_copy(update={"output_days": [float(x) for x in grid], "output_step_days": None})
    run = scenario.model_copy(update={"simulation": sim})
    res = simulate(run, engine=engine)
    if not res.ok:
        raise RuntimeError(f"patient simulation failed ({res.status}): {res.message}")
    ds = res.dataset
    vals = {k: np.asarray(ds[k].values, dtype=float) for k in DRIVER_VARIABLES}
    spec = build_model()
    params = {k: float(scenario.parameters.get(k, spec.parameters[k].value)) for k in SHARED_PARAMETERS}
    route = scenario.regimen[0].route if scenario.regimen else "peripheral_iv"
    days = sorted({float(d) for r in scenario.regimen for d in r.days})
    ctl = min((t.start_day for t in scenario.therapy), default=None)
    return Drivers(np.asarray(ds["time"].values, dtype=float), vals, params, scenario.patient.etiology, route=route,
                   name=scenario.name, infusion_days=days, cause_control_day=ctl)
