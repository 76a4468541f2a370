"""Run one scenario for many parameter sets (rows) and return the chosen outputs: the engine under both the
sensitivity analysis and the mechanism attribution."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..engine.codegen import compile_model
from ..engine.solver import solve_patients
from ..plan import RunPlan, derived_in_force
from ..spec.model import ModelSpec
from .outputs import Output, evaluate, output_days

#: patients solved per batch (memory: states x days per patient is small; the batch bounds the Jacobians)
CHUNK = 2000


def control_of(scenario):
    """The same patient without its MSC regimens: the control of a common-random-numbers difference."""
    return scenario.model_copy(update={"regimen": []})


def run_rows(spec: ModelSpec, plan: RunPlan, outputs: list[Output], overrides: Mapping[str, np.ndarray], *,
             engine: str = "numba") -> np.ndarray:
    """Outputs (rows x outputs) of the run `plan` with parameter columns `overrides` (name -> one value per row)
    on top of the plan's own values; every row is the same patient, so rows differ only by the overrides."""
    model = compile_model(spec)
    n = len(next(iter(overrides.values()))) if overrides else 1
    P = np.repeat(model.param_vector(plan.params)[None], n, 0)
    for name, values in overrides.items():
        P[:, model.param_index(name)] = np.asarray(values, dtype=float)
    y0 = model.state_vector(plan.initial)
    days = output_days(outputs)
    names = {o.variable for o in outputs}
    out = np.empty((n, len(outputs)))
    for a in range(0, n, CHUNK):
        b = min(a + CHUNK, n)
        sol = solve_patients(spec, np.repeat(y0[None], b - a, 0), P[a:b], plan.t_start, days,
                             [plan.events] * (b - a), engine=engine)
        ys = np.transpose(sol.y, (1, 0, 2))        # states x patients x days
        values = {v: ys[model.state_names.index(v)] for v in names if v in model.state_names}
        if any(v not in values for v in names):
            der = dict(zip(model.derived_names, derived_in_force(model, np.nan_to_num(ys), P[a:b],
                                                                  [plan.events] * (b - a), days), strict=True))
            values |= {v: der[v] for v in names if v not in values}
        res = evaluate(outputs, values, days)
        res[sol.status != 0] = np.nan
        out[a:b] = res
    return out
