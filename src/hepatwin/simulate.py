"""The one entry point: scenario -> plan (plan.py) -> engine -> results."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import __version__
from .engine.solver import check_engine, reference_model, solve_patients
from .engine.status import from_code
from .errors import InputError
from .limits import check_scenario
from .model import build_model
from .model.catalog import EVENTS
from .plan import RunPlan, plan_run
from .results import SCORES, SimulationResult, build_dataset
from .scenario import Scenario, load_scenario, revalidate
from .spec.model import ModelSpec


def simulate(scenario: Scenario | str | Path, *, engine: str = "scipy",
             spec: ModelSpec | None = None, allow_large: bool = False) -> SimulationResult:
    """Simulate one scenario (object or TOML path) and return labelled results.

    `engine`: "scipy" (reference, LSODA/BDF/Radau per the scenario) or "numba" (the compiled
    batched BDF engine). A solver failure does not raise: the result carries `status`/`message`.
    A scenario whose results would be beyond the limits of `hepatwin.limits` raises RunTooLargeError
    unless `allow_large`.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return simulate_many([scenario], engine=engine, spec=spec, allow_large=allow_large)[0]


def result_width(spec: ModelSpec) -> int:
    """Variables in one scenario's results: states, derived quantities and scores."""
    return len(spec.states) + len(spec.derived) + len(SCORES)


def simulate_many(scenarios: list[Scenario], *, engine: str = "numba",
                  spec: ModelSpec | None = None, allow_large: bool = False) -> list[SimulationResult]:
    """Simulate several scenarios; with engine="numba" all patients go through one parallel batch.

    The numba engine needs every scenario to share output times and solver tolerances.
    """
    check_engine(engine)
    spec = spec or build_model()
    scenarios = [revalidate(s) for s in scenarios]   # edits made in Python are checked as a file's would be
    for s in scenarios:   # before any grid is built: a too-fine grid must not fill the memory first
        check_scenario(s, result_width(spec), allow_large)
    t0 = time.perf_counter()
    plans = [plan_run(s, spec) for s in scenarios]
    model = reference_model(spec)
    setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    if engine == "scipy":   # one patient at a time, each with its scenario's method and tolerances
        sols = []
        for s, plan in zip(scenarios, plans, strict=True):
            sim = s.simulation
            sol = solve_patients(spec, model.state_vector(plan.initial)[None], model.param_vector(plan.params)[None],
                                 plan.t_start, plan.t_out, [plan.events], engine="scipy", rtol=sim.rtol,
                                 atol=sim.atol, method=sim.method)
            sols.append((sol.y[0], from_code(sol.status[0]), sol.messages[0], sol.n_rhs[0], sim.method))
    else:
        sols = _solve_numba(spec, model, scenarios, plans)
    solve_s = (time.perf_counter() - t1) / len(scenarios)
    results = []
    for s, plan, (y, status, message, n_rhs, method) in zip(scenarios, plans, sols, strict=True):
        t2 = time.perf_counter()
        ds = build_dataset(model, plan.t_out, y, _params_over_time(model, plan), s)
        _check_event_needs(s, ds)
        timings = {"setup_s": setup / len(scenarios), "solve_s": solve_s, "postprocess_s": time.perf_counter() - t2}
        results.append(SimulationResult(
            dataset=ds, scenario=s, status=status, message=message, timings=timings,
            solver={"engine": engine, "method": method, "rtol": s.simulation.rtol, "atol": s.simulation.atol,
                    "rhs_evaluations": int(n_rhs), "t_start_day": plan.t_start},
            events=[{"day": e.time, "label": e.label} for e in plan.events],
            version=__version__,
        ))
    return results


def _check_event_needs(scenario: Scenario, ds) -> None:
    """Refuse a given event the patient cannot have (catalog `Event.needs`, e.g. an ACLF precipitant without
    cirrhosis), judged on the last output day at or before the event (day 0 if none)."""
    t = ds["time"].values
    for i, ev in enumerate(scenario.event):
        need = EVENTS[ev.kind].needs
        if need is None:
            continue
        var, level = need
        k = max(int(np.searchsorted(t, ev.day, side="right")) - 1, 0)
        value = float(ds[var].values[k])
        if not value >= level:
            raise InputError(f"event[{i}].kind: {ev.kind!r} on day {ev.day:g} is an acute insult that precipitates "
                             f"ACLF, which falls on cirrhosis; this patient's {var} on day {t[k]:g} is {value:g} "
                             f"(expected >= {level:g}); drop the event or give the patient cirrhosis")


def _solve_numba(spec, model, scenarios, plans):
    first = plans[0]
    for s, plan in zip(scenarios, plans, strict=True):
        if not np.array_equal(plan.t_out, first.t_out):
            raise ValueError("the numba engine batches scenarios with identical output times only")
        if (s.simulation.rtol, s.simulation.atol) != (scenarios[0].simulation.rtol, scenarios[0].simulation.atol):
            raise ValueError("the numba engine batches scenarios with identical tolerances only")
    sol = solve_patients(spec, np.array([model.state_vector(p.initial) for p in plans]),
                         np.array([model.param_vector(p.params) for p in plans]),
                         np.array([p.t_start for p in plans]), first.t_out, [p.events for p in plans],
                         engine="numba", rtol=scenarios[0].simulation.rtol, atol=scenarios[0].simulation.atol)
    return [(sol.y[k], from_code(sol.status[k]), sol.messages[k], sol.n_rhs[k], "BDF (numba)")
            for k in range(len(plans))]


def _params_over_time(model, plan: RunPlan) -> np.ndarray:
    """Parameter values in force at each output time (n_params x n_times).

    `set` events change parameters; an output at an event time sees the value before it.
    """
    base = model.param_vector(plan.params)
    p = np.repeat(base[:, None], plan.t_out.size, axis=1)
    for ev in plan.events:
        for name, value in ev.set.items():
            p[model.param_index(name), plan.t_out > ev.time] = value
    return p
