"""The one entry point: scenario -> parameter set, initial state, events -> engine -> results."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .engine import Event, SolverSettings, compile_model, solve
from .model import CELL_SOURCES, ETIOLOGIES, build_model
from .results import SimulationResult, build_dataset
from .scenario import Scenario, load_scenario
from .spec.expr import evaluate
from .spec.model import ModelSpec

ENGINES = ("scipy",)


@dataclass
class RunPlan:
    """Everything the engine needs, with no biology left in it."""

    params: dict[str, float]
    initial: dict[str, float]
    t_start: float
    t_out: np.ndarray
    events: list[Event] = field(default_factory=list)


def plan_run(scenario: Scenario, spec: ModelSpec | None = None) -> RunPlan:
    """Translate a validated scenario into parameter values, initial state and events."""
    spec = spec or build_model()
    params = spec.default_values()
    patient = scenario.patient
    flag = ETIOLOGIES[patient.etiology][0]
    params[flag] = 1.0
    params["age"] = patient.age_years
    initial = spec.healthy_state()
    if patient.history is not None:
        t_start = -patient.history.years * 365.25
        params["inj_scale"] = patient.history.injury_scale
    else:
        t_start = 0.0
        initial.update(patient.baseline or {})
    for name in scenario.simulation.knockouts:
        params[spec.switches[name]] = 0.0
    if scenario.regimen:
        params[CELL_SOURCES[scenario.regimen[0].cell_source]] = 1.0
    params.update(scenario.parameters)

    events: list[Event] = []
    for t in scenario.therapy:
        events.append(Event(max(t.start_day, t_start), set={"ctl": 1.0}, label=f"start {t.kind}"))
    dose_input = spec.doses["msc"]
    for r in scenario.regimen:
        cells = r.dose * (patient.weight_kg if r.dose_unit == "cells/kg" else 1.0)
        fractions = {s: evaluate(e, params) for s, e in dose_input.parsed[r.route].items()}
        for day in r.days:
            events.append(Event(float(day), add={s: cells * f for s, f in fractions.items()},
                                label=f"{r.cell_source} {cells:.3g} cells {r.route}"))
    t_out = np.asarray(scenario.simulation.output_times(), dtype=float)
    return RunPlan(params, initial, t_start, t_out, sorted(events))


def simulate(scenario: Scenario | str | Path, *, engine: str = "scipy",
             spec: ModelSpec | None = None) -> SimulationResult:
    """Simulate one scenario (object or TOML path) and return labelled results.

    A solver failure does not raise: the result carries `status` and `message`.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    spec = spec or build_model()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    model = _compiled(spec)
    plan = plan_run(scenario, spec)
    timings["setup_s"] = time.perf_counter() - t0
    settings = SolverSettings(method=scenario.simulation.method, rtol=scenario.simulation.rtol,
                              atol=scenario.simulation.atol)
    t1 = time.perf_counter()
    sol = solve(model, model.state_vector(plan.initial), model.param_vector(plan.params), plan.t_start,
                plan.t_out, plan.events, settings)
    timings["solve_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    ds = build_dataset(model, sol.t, sol.y, _params_over_time(model, plan), scenario)
    timings["postprocess_s"] = time.perf_counter() - t2
    return SimulationResult(
        dataset=ds, scenario=scenario, status=sol.status, message=sol.message, timings=timings,
        solver={"engine": engine, "method": settings.method, "rtol": settings.rtol, "atol": settings.atol,
                "rhs_evaluations": sol.n_rhs, "t_start_day": plan.t_start},
        events=[{"day": e.time, "label": e.label} for e in plan.events],
        version=__version__,
    )


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


_CACHE: dict[int, object] = {}


def _compiled(spec: ModelSpec):
    key = id(spec)
    if key not in _CACHE:
        _CACHE[key] = compile_model(spec)
    return _CACHE[key]
