"""Global sensitivity of clinical outputs to the model's parameters: the problem from the spec, samples and
indices from SALib, the simulations on the batched engine, tidy tables, convergence and warnings."""

from __future__ import annotations

import time
from contextlib import nullcontext

import numpy as np
import pandas as pd

from ..engine.solver import check_engine
from ..errors import InputError
from ..plan import RunPlan, plan_run
from ..progress import ProgressCallback
from ..run import SerialExecutor
from ..spec.model import ModelSpec
from .evaluate import CHUNK, control_of, run_rows
from .methods import analyze, check_n, sample, sobol_convergence, warnings_of
from .outputs import parse_output
from .problem import make_problem


def run_sensitivity(spec: ModelSpec, plan: RunPlan, outputs: list[str], *, method: str = "sobol",
                    params: list[str] | None = None, n: int = 256, seed: int = 0, engine: str = "numba",
                    control: RunPlan | None = None, progress: ProgressCallback | None = None,
                    ranges: dict[str, tuple[float, float]] | None = None, executor=None) -> dict:
    """Sensitivity indices of `outputs` (texts: `Alb@85`, `change:Alb@85`, `prob:death@730`) of the run `plan`
    of `spec` to `params` (names, `module:NAME`; default every uncertain parameter; `ranges` replaces declared
    ranges) by `method`. With
    `control`, each output is the difference plan - control on common parameters (the MSC effect). The chunks
    of parameter sets are tasks of `executor` (`hepatwin.run`; serial by default); every executor gives the
    same indices.

    Returns {"method", "n", "simulations", "seconds", "indices": DataFrame(output, parameter, index, value, conf),
    "convergence": DataFrame (Sobol: ST at N/4, N/2, N) or None, "warnings": [...], "problem": Problem}."""
    check_engine(engine)
    t0 = time.perf_counter()
    known = set(spec.state_names) | set(spec.derived)
    outs = [parse_output(o, known) for o in outputs]
    if not outs:
        raise InputError("--outputs: empty; expected at least one output such as Alb@85")
    problem = make_problem(spec, params, ranges)
    check_n(method, n, len(problem.names))
    x = sample(method, problem, n, seed)
    values = problem.to_values(x)
    runs = [plan] if control is None else [plan, control]
    total = len(x) * len(runs)
    jobs = [(spec, p, outs, {name: col[a:a + CHUNK] for name, col in values.items()}, engine)
            for p in runs for a in range(0, len(x), CHUNK)]
    parts: list = [None] * len(jobs)
    with nullcontext(executor) if executor is not None else SerialExecutor() as pool:
        for i, res in pool.map_chunks(_rows_task, jobs, progress=progress, stage="simulating chunks"):
            parts[i] = res
    per_run = len(jobs) // len(runs)
    blocks = [np.concatenate(parts[k * per_run:(k + 1) * per_run]) for k in range(len(runs))]
    y = blocks[0] if len(blocks) == 1 else blocks[0] - blocks[1]
    bad = np.isnan(y).any(axis=1)
    if bad.any():
        # the parameters whose values set the failing sets apart (mean position in their range, 0.5 = typical)
        b = problem.salib["bounds"]
        pos = [(float(np.mean((x[bad, j] - b[j][0]) / (b[j][1] - b[j][0]))), name)
               for j, name in enumerate(problem.names)]
        pos.sort(key=lambda t: -abs(t[0] - 0.5))
        where = ", ".join(f"{name} ({'high' if m > 0.5 else 'low'}: mean position {m:.2f} of its range)"
                          for m, name in pos[:3])
        raise InputError(f"{int(bad.sum())} of {len(y)} parameter sets failed to simulate; the failing sets lie "
                         f"towards {where}; narrow those ranges (--range NAME=LOW:HIGH) or leave the parameters out "
                         f"(Sobol and eFAST need every set)")
    tables, conv = [], []
    for k, o in enumerate(outs):
        tables.append(analyze(method, problem, x, y[:, k], seed).assign(output=o.name))
        if method == "sobol":
            conv.append(sobol_convergence(problem, y[:, k], n, seed).assign(output=o.name))
    indices = pd.concat(tables, ignore_index=True)[["output", "parameter", "index", "value", "conf"]]
    convergence = pd.concat(conv, ignore_index=True)[["output", "parameter", "n", "value", "conf"]] if conv else None
    return {"method": method, "n": n, "simulations": int(total), "seconds": time.perf_counter() - t0,
            "indices": indices, "convergence": convergence, "warnings": warnings_of(method, indices, convergence),
            "problem": problem}


def _rows_task(job: tuple) -> np.ndarray:
    """One chunk of parameter sets: an executor task (a pure function of `job`)."""
    spec, plan, outs, overrides, engine = job
    return run_rows(spec, plan, outs, overrides, engine=engine)


def scenario_sensitivity(scenario, outputs: list[str], *, msc_effect: bool = False, **kwargs) -> dict:
    """`run_sensitivity` of a scenario (its patient and regimens); with `msc_effect`, of the difference between
    the scenario and the same patient without MSCs."""
    from ..model import build_model

    spec = build_model()
    if msc_effect and not scenario.regimen:
        raise InputError("--msc-effect: the scenario gives no MSCs; add a [[regimen]]")
    control = plan_run(control_of(scenario), spec) if msc_effect else None
    return run_sensitivity(spec, plan_run(scenario, spec), outputs, control=control, **kwargs)
