"""The reference solver: SciPy's stiff integrators, one patient at a time, restarted at events."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from .codegen import CompiledModel
from .events import Event
from .status import Status, describe

METHODS = ("LSODA", "BDF", "Radau")


@dataclass
class SolverSettings:
    """Tolerances and method of the reference solver."""

    method: str = "LSODA"
    rtol: float = 1e-6
    atol: float = 1e-9
    max_step: float = np.inf
    max_rhs_evals: int = 500_000  # per patient; beyond it the patient is marked "max_steps"


@dataclass
class Solution:
    """States at the requested times (n_states x n_times) and a status for the patient."""

    t: np.ndarray
    y: np.ndarray
    status: Status
    message: str
    n_rhs: int


def solve(model: CompiledModel, y0: np.ndarray, params: np.ndarray, t_start: float,
          t_out: Sequence[float], events: Sequence[Event] = (),
          settings: SolverSettings | None = None) -> Solution:
    """Integrate from `t_start` to the last output time, stopping at every event time.

    Outputs at an event time are the state just before the event.
    """
    settings = settings or SolverSettings()
    t_out = np.asarray(t_out, dtype=float)
    if t_out.size == 0 or np.any(np.diff(t_out) <= 0) or t_out[0] < t_start:
        raise ValueError("output times must be increasing and not before the start time")
    t_end = float(t_out[-1])
    y = np.asarray(y0, dtype=float).copy()
    p = np.asarray(params, dtype=float).copy()
    out = np.full((y.size, t_out.size), np.nan)
    out[:, t_out == t_start] = y[:, None]
    active = [e for e in events if t_start <= e.time < t_end]
    knots = sorted({t_start, t_end, *(e.time for e in active)})
    counter = _Budget(settings.max_rhs_evals)
    atol = settings.atol * model.spec.state_scales()  # per-state absolute tolerance
    for a, b in itertools.pairwise(knots):
        for ev in active:
            if ev.time == a:
                _apply(model, ev, y, p)
        mask = (t_out > a) & (t_out <= b)
        t_eval = t_out[mask]
        if t_eval.size == 0 or t_eval[-1] != b:
            t_eval = np.append(t_eval, b)
        p_seg = p.copy()

        def fun(t, yy, _p=p_seg):
            counter.spend(t)
            dy = model.rhs(t, yy, _p)
            if not np.all(np.isfinite(dy)):
                raise _StopError("non_finite", f"non-finite derivative at t={t:g}")
            return dy

        try:
            sol = solve_ivp(fun, (a, b), y, method=settings.method, rtol=settings.rtol, atol=atol,
                            t_eval=t_eval, max_step=settings.max_step)
        except _StopError as stop:
            return Solution(t_out, out, Status(stop.status), describe(stop.status, stop.message), counter.used)
        if not sol.success:
            status = Status.MAX_STEPS if "step" in sol.message.lower() else Status.FAILED
            return Solution(t_out, out, status, describe(status, f"t in [{a:g}, {b:g}]: {sol.message}"),
                            counter.used)
        if not np.all(np.isfinite(sol.y)):
            return Solution(t_out, out, Status.NON_FINITE,
                            describe(Status.NON_FINITE, f"non-finite state in t in [{a:g}, {b:g}]"), counter.used)
        out[:, mask] = sol.y[:, : int(mask.sum())]
        y = sol.y[:, -1].copy()
    return Solution(t_out, out, Status.OK, "", counter.used)


def _apply(model: CompiledModel, ev: Event, y: np.ndarray, p: np.ndarray) -> None:
    for name, amount in ev.add.items():
        y[model.state_index(name)] += amount
    for name, value in ev.set.items():
        p[model.param_index(name)] = value


class _StopError(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class _Budget:
    """Counts right-hand-side evaluations and stops a patient that exceeds its budget."""

    def __init__(self, limit: int):
        self.limit, self.used = limit, 0

    def spend(self, t: float) -> None:
        self.used += 1
        if self.used > self.limit:
            raise _StopError("max_steps", f"more than {self.limit} right-hand-side evaluations (stopped at t={t:g})")
