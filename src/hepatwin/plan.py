"""Inputs -> what the engine needs: the one place that turns a scenario, a sampled cohort or a trial arm into
parameter values, initial states, start times and events.

Only this module knows the model's special parameters: the etiology and cell-source flags, `age`,
`inj_scale`, `ctl` (cause control on) and `hz_on` (hazards counted, from day 0). Everything downstream (the
solvers, executors, trials) gets numbers and events with no biology left in them.

Two ways to start a patient:
* from a healthy liver at the start of the disease history (burn-in; `plan_run` with a history,
  `plan_history`), hazards switched on by an event at day 0;
* from a patient's own day-0 state (a screened cohort: `plan_restart`), hazards counted from the start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .engine import Event
from .engine.draws import exp_draw
from .model import CELL_SOURCES, ETIOLOGIES, build_model
from .spec.expr import evaluate
from .spec.model import ModelSpec
from .streams import trigger_seed

YEAR = 365.25


@dataclass
class RunPlan:
    """One patient's run: everything the engine needs, with no biology left in it."""

    params: dict[str, float]
    initial: dict[str, float]
    t_start: float
    t_out: np.ndarray
    events: list[Event] = field(default_factory=list)


@dataclass
class BatchPlan:
    """A batch of patients: initial states and parameters (patients x ...), start days and events."""

    y0: np.ndarray
    params: np.ndarray
    t_start: np.ndarray
    events: list[list[Event]]


def params_in_force(model, params: np.ndarray, events: Sequence[Sequence[Event]], t: float) -> np.ndarray:
    """Each patient's parameters (patients x parameters) as its `set` events (a cause control that starts)
    leave them for an output at time `t`; an output at an event's time sees the value before it."""
    out = np.array(params, dtype=float, copy=True)
    for j, evs in enumerate(events):
        for ev in sorted((e for e in evs if e.set and e.time < t), key=lambda e: e.time):
            for name, value in ev.set.items():
                out[j, model.param_index(name)] = value
    return out


def derived_in_force(model, y: np.ndarray, params: np.ndarray, events: Sequence[Sequence[Event]],
                     t_out: np.ndarray) -> list[np.ndarray]:
    """`model.derived` of states `y` (states x patients x times) at output times `t_out`, each output with the
    parameters in force at its time (`params_in_force`): a cause control that starts during the run changes
    ALT, bilirubin and every hazard from that day on, as it changes the rates."""
    t_out = np.asarray(t_out, dtype=float)
    cuts = sorted({e.time for evs in events for e in evs if e.set and t_out[0] <= e.time < t_out[-1]})
    starts = [t_out[0], *cuts]
    out: list[np.ndarray] | None = None
    for k, start in enumerate(starts):
        end = cuts[k] if k < len(cuts) else np.inf
        # the first segment holds the first output; each later one the outputs after its event, up to the next
        cols = (t_out >= start) & (t_out <= end) if k == 0 else (t_out > start) & (t_out <= end)
        if not cols.any():
            continue
        when = start if k == 0 else np.nextafter(start, np.inf)
        p = params_in_force(model, params, events, when)
        part = model.derived(y[:, :, cols], p.T[:, :, None])
        if out is None:
            out = [np.empty(y.shape[1:], dtype=float) for _ in part]
        for dst, src in zip(out, part, strict=True):
            dst[:, cols] = src
    return out if out is not None else [np.empty(y.shape[1:]) for _ in model.derived_names]


def trigger_parameters(spec: ModelSpec, seed: int, keys: Sequence[tuple[int, ...]],
                       random_events: bool = True) -> dict[str, np.ndarray]:
    """The seed and first threshold of every state event (spec trigger) for each of `keys` (one tuple of
    integer keys per patient), from the named stream "trigger: NAME" of the root `seed`. Without
    `random_events` the thresholds are infinite: the hazards still accumulate (the probability of each event
    is exp(-cumulative hazard) away) but no event happens unless the inputs name it."""
    out: dict[str, np.ndarray] = {}
    for trig in spec.triggers.values():
        seeds = np.array([float(trigger_seed(seed, *k, name=f"trigger: {trig.name}")) for k in keys])
        out[trig.seed] = seeds
        out[trig.threshold] = (np.array([exp_draw(x, 0) for x in seeds]) if random_events
                               else np.full(len(keys), np.inf))
    return out


def plan_run(scenario, spec: ModelSpec | None = None) -> RunPlan:
    """Translate a validated scenario into parameter values, initial state and events."""
    spec = spec or build_model()
    params = spec.default_values()
    patient = scenario.patient
    params[ETIOLOGIES[patient.etiology][0]] = 1.0
    params["age"] = patient.age_years
    initial = spec.healthy_state()
    events: list[Event] = []
    if patient.history is not None:
        t_start = -patient.history.years * YEAR
        params["inj_scale"] = patient.history.injury_scale
        if t_start < 0:
            params["hz_on"] = 0.0
            events += therapy_events([], t_start)
    else:
        t_start = 0.0
        initial.update(patient.baseline or {})
    for name in scenario.simulation.knockouts:
        params[spec.switches[name]] = 0.0
    sim = scenario.simulation
    params.update({k: float(v[0]) for k, v in
                   trigger_parameters(spec, sim.seed, [()], random_events=sim.random_events).items()})
    if scenario.regimen:
        params[CELL_SOURCES[scenario.regimen[0].cell_source]] = 1.0
    params.update(scenario.parameters)

    events += therapy_events(scenario.therapy, t_start, hazard_switch=False)
    for r in scenario.regimen:
        events += regimen_events(spec, r, patient.weight_kg, params)
    events += [forced_event(spec, e.kind, e.day) for e in scenario.event]
    t_out = np.asarray(scenario.simulation.output_times(), dtype=float)
    return RunPlan(params, initial, t_start, t_out, sorted(events))


def forced_event(spec: ModelSpec, kind: str, day: float) -> Event:
    """The state changes of the state event `kind` (a spec trigger) at `day`, as an input names it: its
    additions and settings and one more occurrence (the patient's random thresholds are unchanged)."""
    trig = spec.triggers[kind]
    add = dict(trig.add)
    add[trig.counter] = add.get(trig.counter, 0.0) + 1.0
    return Event(float(day), add=add, set=dict(trig.set), label=f"{kind.replace('_', ' ')} (given)")


def therapy_events(therapies, t_start: float, hazard_switch: bool = True) -> list[Event]:
    """Cause-control starts (not before the history starts) and, after a burn-in (t_start < 0),
    the day-0 event that starts counting hazards (`hz_on`, which the caller sets to 0 initially)."""
    events = [Event(max(t.start_day, t_start), set={"ctl": 1.0}, label=f"start {t.kind}") for t in therapies]
    if hazard_switch and t_start < 0:
        events.append(Event(0.0, set={"hz_on": 1.0}, label="baseline: hazards counted from day 0"))
    return events


def regimen_events(spec: ModelSpec, regimen, weight_kg: float, params: dict[str, float]) -> list[Event]:
    """One bolus event per infusion day, split between compartments by the route's dose fractions."""
    cells = regimen.dose * (weight_kg if regimen.dose_unit == "cells/kg" else 1.0)
    fractions = {s: evaluate(e, params) for s, e in spec.doses["msc"].parsed[regimen.route].items()}
    return [Event(float(day), add={s: cells * f for s, f in fractions.items()},
                  label=f"{regimen.cell_source} {cells:.3g} cells {regimen.route}",
                  dose=("msc", regimen.route, cells)) for day in regimen.days]


def dose_parameters(spec: ModelSpec) -> set[str]:
    """Parameters the split of a dose between compartments depends on (e.g. the lung-trapped fraction)."""
    return {n for d in spec.doses.values() for route in d.parsed.values() for e in route.values() for n in e.names}


def redose(spec: ModelSpec, events: Sequence[Event], params: dict[str, float]) -> list[Event]:
    """`events` with every dose split again between compartments with `params` (a run whose parameters of
    the split differ from those the events were planned with)."""
    out = []
    for ev in events:
        if ev.dose is not None:
            name, route, amount = ev.dose
            split = {s: amount * evaluate(e, params) for s, e in spec.doses[name].parsed[route].items()}
            ev = Event(ev.time, add=split, set=ev.set, label=ev.label, dose=ev.dose)
        out.append(ev)
    return out


def cohort_parameters(cfg, cand: pd.DataFrame, spec: ModelSpec, model, cell_source: str | None = None):
    """Parameter matrix (patients x parameters) and history start days of sampled candidates of the
    population `cfg`. Hazards are switched off (`hz_on` = 0): a burn-in switches them on at day 0, a restart
    from day 0 at once."""
    base = spec.default_values()
    base[ETIOLOGIES[cfg.etiology][0]] = 1.0
    if cell_source is not None:
        base[CELL_SOURCES[cell_source]] = 1.0
    P = np.repeat(model.param_vector(base)[None], len(cand), 0)
    P[:, model.param_index("inj_scale")] = cand["injury_scale"].to_numpy()
    P[:, model.param_index("hz_on")] = 0.0
    P[:, model.param_index("age")] = cand["age_years"].to_numpy()
    for name in cfg.parameters:
        P[:, model.param_index(name)] = cand[name].to_numpy()
    return P, -cand["years"].to_numpy() * YEAR


def plan_history(cfg, cand: pd.DataFrame, spec: ModelSpec, model, regimens: Sequence = ()) -> BatchPlan:
    """Candidates of `cfg` from a healthy liver at the start of each one's disease history: the population's
    cause control, hazards from day 0, and the MSC `regimens` given to everyone."""
    P, t_start = cohort_parameters(cfg, cand, spec, model, regimens[0].cell_source if regimens else None)
    ids = cand["patient_id"].to_numpy(dtype=np.int64)
    for name, values in trigger_parameters(spec, cfg.seed, [(int(i),) for i in ids]).items():
        P[:, model.param_index(name)] = values
    events = []
    for j in range(len(cand)):
        evs = therapy_events(cfg.therapy, t_start[j]) + [forced_event(spec, e.kind, e.day) for e in cfg.event]
        if regimens:
            values = dict(zip(model.param_names, P[j], strict=True))
            for r in regimens:
                evs += regimen_events(spec, r, float(cand["weight_kg"].iloc[j]), values)
        events.append(evs)
    y0 = np.repeat(model.state_vector(spec.healthy_state())[None], len(cand), 0)
    return BatchPlan(y0, P, t_start, events)


def plan_restart(cfg, base: pd.DataFrame, spec: ModelSpec, model, *, control_on: bool,
                 therapy_days: Sequence[float] = (), overrides: dict[str, float] | None = None,
                 regimens: Sequence[Sequence] | None = None, label: str | None = None,
                 event_keys: tuple[int, Sequence[tuple[int, ...]]] | None = None) -> BatchPlan:
    """Patients of `cfg` from their own day-0 states (the rows of `base`, a screened cohort), hazards counted
    from day 0: cause control on from the start (`control_on`) or from each of `therapy_days`, parameter
    `overrides` for everyone, and each patient's own MSC regimens (`regimens[j]`, one cell source each).
    The state events draw from the streams of `event_keys` = (root seed, keys per patient); by default the
    population's seed and each patient's id."""
    P, _ = cohort_parameters(cfg, base, spec, model)
    seed, keys = event_keys or (cfg.seed, [(int(i),) for i in base["patient_id"]])
    for name, values in trigger_parameters(spec, seed, keys).items():
        P[:, model.param_index(name)] = values
    P[:, model.param_index("hz_on")] = 1.0
    P[:, model.param_index("ctl")] = 1.0 if control_on else 0.0
    for name, value in (overrides or {}).items():
        P[:, model.param_index(name)] = value
    start = [Event(d, set={"ctl": 1.0}, label=label or "start cause control") for d in therapy_days]
    events = []
    for j in range(len(base)):
        own = regimens[j] if regimens is not None else ()
        if own:
            P[j, model.param_index(CELL_SOURCES[own[0].cell_source])] = 1.0
        evs = list(start)
        if own:
            values = dict(zip(model.param_names, P[j], strict=True))
            for reg in own:
                evs += regimen_events(spec, reg, float(base["weight_kg"].iloc[j]), values)
        events.append(evs)
    return BatchPlan(base[model.state_names].to_numpy(dtype=float), P, np.zeros(len(base)), events)


__all__ = ["BatchPlan", "RunPlan", "cohort_parameters", "derived_in_force", "dose_parameters", "forced_event",
           "params_in_force", "plan_history", "plan_restart", "plan_run", "redose", "regimen_events", "therapy_events",
           "trigger_parameters"]
