"""The reference solver: SciPy's stiff integrators, one patient at a time, restarted at events."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from .codegen import CompiledModel
from .draws import exp_draw
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
    triggers = [_TriggerIndex(model, t) for t in model.spec.triggers.values()]
    for a, b in itertools.pairwise(knots):
        for ev in active:
            if ev.time == a:
                _apply(model, ev, y, p)
        while True:   # from a to b, stopping where a trigger fires
            if not _fire_due(triggers, y, p):
                return Solution(t_out, out, Status.FAILED,
                                describe(Status.FAILED, f"a trigger keeps firing at t={a:g}"), counter.used)
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

            crossings = [trig.event_function(p_seg) for trig in triggers]
            try:
                sol = solve_ivp(fun, (a, b), y, method=settings.method, rtol=settings.rtol, atol=atol,
                                t_eval=t_eval, max_step=settings.max_step, events=crossings or None)
            except _StopError as stop:
                return Solution(t_out, out, Status(stop.status), describe(stop.status, stop.message), counter.used)
            if not sol.success:
                status = Status.MAX_STEPS if "step" in sol.message.lower() else Status.FAILED
                return Solution(t_out, out, status, describe(status, f"t in [{a:g}, {b:g}]: {sol.message}"),
                                counter.used)
            if not np.all(np.isfinite(sol.y)):
                return Solution(t_out, out, Status.NON_FINITE,
                                describe(Status.NON_FINITE, f"non-finite state in t in [{a:g}, {b:g}]"), counter.used)
            n_reached = np.asarray(sol.t).size
            reached = t_out[mask][:n_reached] if sol.status == 1 else t_out[mask]
            got = np.isin(t_out, reached) & mask
            if got.any():
                out[:, got] = np.asarray(sol.y)[:, : int(got.sum())]
            if sol.status != 1:   # reached b
                y = sol.y[:, -1].copy()
                break
            # a trigger fired: the earliest crossing; outputs up to it are pre-event (solve_ivp's t_eval)
            q = min((k for k in range(len(triggers)) if sol.t_events[k].size), key=lambda k: sol.t_events[k][0])
            a = float(sol.t_events[q][0])
            y = sol.y_events[q][0].copy()
            triggers[q].fire(y, p)
    return Solution(t_out, out, Status.OK, "", counter.used)


class _TriggerIndex:
    """A spec trigger with its state and parameter indices (see `spec.model.Trigger`)."""

    def __init__(self, model: CompiledModel, trig):
        self.watch = model.state_index(trig.watch)
        self.threshold = model.param_index(trig.threshold)
        self.seed = model.param_index(trig.seed)
        self.counter = model.state_index(trig.counter)
        self.add = [(model.state_index(s), v) for s, v in trig.add.items()]
        self.set = [(model.param_index(q), v) for q, v in trig.set.items()]

    def event_function(self, p: np.ndarray):
        level, w = float(p[self.threshold]), self.watch

        def crossing(t, y):
            return y[w] - level
        crossing.terminal, crossing.direction = True, 1.0
        return crossing

    def fire(self, y: np.ndarray, p: np.ndarray) -> None:
        for i, v in self.add:
            y[i] += v
        for i, v in self.set:
            p[i] = v
        y[self.counter] += 1.0
        p[self.threshold] += exp_draw(p[self.seed], y[self.counter])


def _fire_due(triggers: list[_TriggerIndex], y: np.ndarray, p: np.ndarray, limit: int = 1000) -> bool:
    """Fire every trigger whose watched state is already at its threshold; False if that does not end."""
    for trig in triggers:
        k = 0
        while y[trig.watch] >= p[trig.threshold]:
            trig.fire(y, p)
            k += 1
            if k > limit:
                return False
    return True


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
