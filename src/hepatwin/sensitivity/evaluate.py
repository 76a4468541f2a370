"""Run one patient, or the patients of a trial arm, for many parameter sets (rows) and return the chosen
outputs: the engine under both the sensitivity analysis and the mechanism attribution."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..engine.codegen import compile_model
from ..engine.solver import solve_patients
from ..plan import BatchPlan, RunPlan, derived_in_force, dose_parameters, redose
from ..spec.model import ModelSpec
from .outputs import Output, evaluate, output_days

#: patient simulations per batch (memory: states x days per patient is small; the batch bounds the Jacobians)
CHUNK = 2000


def control_of(scenario):
    """The same patient without its MSC regimens: the control of a common-random-numbers difference."""
    return scenario.model_copy(update={"regimen": []})


@dataclass(frozen=True)
class Patients:
    """The patients every parameter set is run on: initial states, parameters (patients x ...), start days,
    events per patient."""

    y0: np.ndarray
    params: np.ndarray
    t_start: np.ndarray
    events: list[list]

    def __len__(self) -> int:
        return len(self.y0)


def patients_of(spec: ModelSpec, plan: RunPlan | BatchPlan) -> Patients:
    """One scenario's patient (a RunPlan) or a batch of patients (a BatchPlan) as `Patients`."""
    if isinstance(plan, BatchPlan):
        return Patients(np.asarray(plan.y0, float), np.asarray(plan.params, float),
                        np.broadcast_to(np.asarray(plan.t_start, float), (len(plan.y0),)).copy(),
                        [list(e) for e in plan.events])
    model = compile_model(spec)
    return Patients(model.state_vector(plan.initial)[None], model.param_vector(plan.params)[None],
                    np.array([float(plan.t_start)]), [list(plan.events)])


def parameter_rows(spec: ModelSpec, patients: Patients, overrides: Mapping[str, np.ndarray]) -> np.ndarray:
    """Parameters of every (set, patient) pair, sets x patients x parameters. A parameter the same for every
    patient takes the set's value; one that varies between patients (their own draws) is moved by the factor
    set value / declared value, so each patient keeps its deviation from the typical value."""
    model = compile_model(spec)
    n = len(next(iter(overrides.values()))) if overrides else 1
    P = np.repeat(patients.params[None], n, 0)
    for name, values in overrides.items():
        j = model.param_index(name)
        col = patients.params[:, j]
        v = np.asarray(values, dtype=float)[:, None]
        declared = spec.parameters[name].value
        if np.ptp(col) > 0 and declared != 0:
            P[:, :, j] = col[None] * (v / declared)
        else:
            P[:, :, j] = v
    return P


def run_rows(spec: ModelSpec, plan: RunPlan | BatchPlan | Patients, outputs: list[Output],
             overrides: Mapping[str, np.ndarray], *, engine: str = "numba") -> np.ndarray:
    """Outputs of the run `plan` (one patient or a batch) with parameter columns `overrides` (name -> one
    value per set) on top of each patient's own values: sets x outputs for one patient, sets x patients x
    outputs for a batch. Every set runs on the same patients (common random numbers), so sets differ only
    by the overrides. A set that changes how a dose is split between compartments gets its doses split again."""
    model = compile_model(spec)
    pts = plan if isinstance(plan, Patients) else patients_of(spec, plan)
    P = parameter_rows(spec, pts, overrides)                      # sets x patients x parameters
    n_sets, n_pat = P.shape[:2]
    P = P.reshape(n_sets * n_pat, -1)
    y0 = np.tile(pts.y0, (n_sets, 1))
    t0 = np.tile(pts.t_start, n_sets)
    redo = bool(dose_parameters(spec) & set(overrides))
    days = output_days(outputs)
    names = {o.variable for o in outputs}
    out = np.empty((n_sets * n_pat, len(outputs)))
    for a in range(0, n_sets * n_pat, CHUNK):
        b = min(a + CHUNK, n_sets * n_pat)
        events = [pts.events[r % n_pat] for r in range(a, b)]
        if redo:
            events = [redose(spec, ev, dict(zip(model.param_names, P[r], strict=True)))
                      for r, ev in zip(range(a, b), events, strict=True)]
        sol = solve_patients(spec, y0[a:b], P[a:b], t0[a:b], days, events, engine=engine)
        ys = np.transpose(sol.y, (1, 0, 2))        # states x patients x days
        values = {v: ys[model.state_names.index(v)] for v in names if v in model.state_names}
        if any(v not in values for v in names):
            der = dict(zip(model.derived_names, derived_in_force(model, np.nan_to_num(ys), P[a:b], events, days),
                           strict=True))
            values |= {v: der[v] for v in names if v not in values}
        res = evaluate(outputs, values, days)
        res[sol.status != 0] = np.nan
        out[a:b] = res
    out = out.reshape(n_sets, n_pat, len(outputs))
    return out[:, 0] if isinstance(plan, RunPlan) else out
