"""Global sensitivity of clinical outputs to the model's parameters: the problem from the spec, samples and
indices from SALib, the simulations on the batched engine, tidy tables, convergence and warnings.

The outputs are those of one patient (a scenario) or the mean over the patients of a trial arm (a protocol);
with `msc_effect`, of the MSC effect: the run minus the same patients without MSCs, on common random numbers.
A protocol also has `success`: the probability that its first value/change endpoint differs significantly
between the arm and the control arm at the protocol's size (a normal approximation from the patients'
spread and the assay noise)."""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine.solver import check_engine
from ..errors import InputError
from ..plan import BatchPlan, RunPlan
from ..progress import ProgressCallback
from ..run import SerialExecutor
from ..spec.model import ModelSpec
from .evaluate import CHUNK, Patients, patients_of, run_rows
from .methods import analyze, check_n, sample, sobol_convergence, warnings_of
from .outputs import SUCCESS, Output, expand_outputs, parse_output
from .problem import make_problem
from .target import Target


@dataclass(frozen=True)
class Success:
    """The primary comparison of a protocol: an endpoint (`value` or `change` of a model variable at a day),
    its two-sided level, the subjects per arm, and the assay's coefficient of variation."""

    variable: str
    kind: str
    day: float
    alpha: float
    n_treated: int
    n_control: int
    assay_cv: float

    def power(self, treated: np.ndarray, control: np.ndarray, base_t: np.ndarray, base_c: np.ndarray) -> np.ndarray:
        """Probability of a significant difference (sets), from patients' values at the day (sets x patients)
        and at baseline: Welch's z with the between-patient variances and the assay noise of each measurement."""
        from scipy.stats import norm

        def arm(v, b):
            y = v - b if self.kind == "change" else v
            noise = self.assay_cv ** 2 * (v ** 2 + (b ** 2 if self.kind == "change" else 0.0))
            return y.mean(axis=1), y.var(axis=1, ddof=1) + noise.mean(axis=1)

        mt, vt = arm(treated, base_t)
        mc, vc = arm(control, base_c)
        z = np.abs(mt - mc) / np.sqrt(vt / self.n_treated + vc / self.n_control)
        crit = norm.ppf(1 - self.alpha / 2)
        return norm.cdf(z - crit) + norm.cdf(-z - crit)


def success_of(target: Target, known: set[str]) -> Success:
    """The `success` output of a protocol target; an InputError when it has none."""
    if target.kind != "protocol" or target.protocol is None:
        raise InputError("--outputs 'success': only a trial protocol has a probability of success; give a protocol")
    protocol = target.protocol
    control = protocol.control_arm
    if control is None:
        raise InputError(f"--outputs 'success': protocol {protocol.name!r} has no control arm to compare with")
    ends = [e for e in protocol.endpoint if e.kind in ("value", "change")]
    if not ends:
        raise InputError(f"--outputs 'success': protocol {protocol.name!r} has no value or change endpoint")
    e = ends[0]
    if e.variable not in known:
        raise InputError(f"--outputs 'success': the first value/change endpoint {e.name!r} is of {e.variable!r}, a "
                         f"score computed from the labs; the model variables are states and derived quantities "
                         f"(use `hepatwin trial power` for a score)")
    cv = protocol.assay_cv.get(e.variable)
    return Success(e.variable, e.kind, float(e.visit_day if e.visit_day is not None else protocol.visits.days[-1]),
                   float(e.alpha), int(target.arm.n), int(control.n), float(cv.value) if cv is not None else 0.0)


def run_sensitivity(spec: ModelSpec, plan: RunPlan | BatchPlan | Patients, outputs: list[str], *,
                    method: str = "sobol", params: list[str] | None = None, n: int = 256, seed: int = 0,
                    engine: str = "numba", control: RunPlan | BatchPlan | Patients | None = None,
                    progress: ProgressCallback | None = None, ranges: dict[str, tuple[float, float]] | None = None,
                    executor=None, success: Success | None = None, difference: bool | None = None) -> dict:
    """Sensitivity indices of `outputs` (texts: `Alb@85`, `change:Alb@85`, `prob:death@730`, a series
    `Alb@0:168:28`, and `success` given `success`) of the run `plan` of `spec` (one patient, or a batch whose
    mean is the output) to `params` (names, `module:NAME`; default every uncertain parameter; `ranges` replaces
    declared ranges) by `method`. With `control`, each output is the difference plan - control on common
    parameters (the MSC effect), unless `difference` is False (the control is then only the comparator of
    `success`). The chunks of parameter sets are tasks of `executor` (`hepatwin.run`; serial by
    default); every executor gives the same indices.

    Returns {"method", "n", "simulations", "seconds", "indices": DataFrame(output, series, day, parameter,
    index, value, conf), "convergence": DataFrame (Sobol: ST at N/4, N/2, N) or None, "warnings": [...],
    "problem": Problem, "outputs": [texts]}."""
    check_engine(engine)
    t0 = time.perf_counter()
    known = set(spec.state_names) | set(spec.derived)
    texts = expand_outputs(list(outputs))
    if not texts:
        raise InputError("--outputs: empty; expected at least one output such as Alb@85")
    wants_success = SUCCESS in texts
    if wants_success and (success is None or control is None):
        raise InputError("--outputs 'success': only a trial protocol has a probability of success; give a protocol")
    outs = [parse_output(o, known) for o in texts if o != SUCCESS]
    sim_outs = list(outs)
    if wants_success:   # the endpoint at its day and at baseline, in both arms
        sim_outs += [Output("value", success.variable, success.day, f"{success.variable}@{success.day:g}"),
                     Output("value", success.variable, 0.0, f"{success.variable}@0")]
    problem = make_problem(spec, params, ranges)
    check_n(method, n, len(problem.names))
    x = sample(method, problem, n, seed)
    values = problem.to_values(x)
    runs = [_patients(spec, plan)] + ([] if control is None else [_patients(spec, control)])
    n_pat = len(runs[0])
    step = max(1, CHUNK // n_pat)
    total = len(x) * n_pat * len(runs)
    jobs = [(spec, p, sim_outs, {name: col[a:a + step] for name, col in values.items()}, engine)
            for p in runs for a in range(0, len(x), step)]
    parts: list = [None] * len(jobs)
    with nullcontext(executor) if executor is not None else SerialExecutor() as pool:
        for i, res in pool.map_chunks(_rows_task, jobs, progress=progress, stage="simulating chunks"):
            parts[i] = res
    per_run = len(jobs) // len(runs)
    blocks = [np.concatenate(parts[k * per_run:(k + 1) * per_run]) for k in range(len(runs))]  # sets x pts x outs
    k_out = len(outs)
    if difference is None:
        difference = control is not None
    diff = blocks[0][:, :, :k_out] - blocks[1][:, :, :k_out] if difference else blocks[0][:, :, :k_out]
    _refuse_failures(problem, x, np.isnan(np.concatenate(blocks, axis=1)).any(axis=(1, 2)), len(x))
    columns = [diff.mean(axis=1)]
    names = [o.name for o in outs]
    if wants_success:
        t, c = blocks[0], blocks[1]
        columns.append(success.power(t[:, :, k_out], c[:, :, k_out], t[:, :, k_out + 1], c[:, :, k_out + 1])[:, None])
        names.append(SUCCESS)
    y = np.concatenate(columns, axis=1)
    tables, conv = [], []
    for k, name in enumerate(names):
        tables.append(analyze(method, problem, x, y[:, k], seed).assign(output=name))
        if method == "sobol":
            conv.append(sobol_convergence(problem, y[:, k], n, seed).assign(output=name))
    indices = pd.concat(tables, ignore_index=True)
    series_day = {o.name: (o.series, o.day) for o in outs} | {SUCCESS: (SUCCESS, success.day if success else math.nan)}
    indices["series"] = indices["output"].map(lambda o: series_day[o][0])
    indices["day"] = indices["output"].map(lambda o: float(series_day[o][1]))
    indices = indices[["output", "series", "day", "parameter", "index", "value", "conf"]]
    convergence = pd.concat(conv, ignore_index=True)[["output", "parameter", "n", "value", "conf"]] if conv else None
    return {"method": method, "n": n, "simulations": int(total), "seconds": time.perf_counter() - t0,
            "indices": indices, "convergence": convergence, "warnings": warnings_of(method, indices, convergence),
            "problem": problem, "outputs": names, "patients": n_pat}


def _patients(spec: ModelSpec, plan) -> Patients:
    return plan if isinstance(plan, Patients) else patients_of(spec, plan)


def _refuse_failures(problem, x: np.ndarray, bad: np.ndarray, n_sets: int) -> None:
    """An InputError when parameter sets failed to simulate, naming the parameters whose values set them apart
    (mean position in their range, 0.5 = typical)."""
    if not bad.any():
        return
    b = problem.salib["bounds"]
    pos = [(float(np.mean((x[bad, j] - b[j][0]) / (b[j][1] - b[j][0]))), name) for j, name in enumerate(problem.names)]
    pos.sort(key=lambda t: -abs(t[0] - 0.5))
    where = ", ".join(f"{name} ({'high' if m > 0.5 else 'low'}: mean position {m:.2f} of its range)"
                      for m, name in pos[:3])
    raise InputError(f"{int(bad.sum())} of {n_sets} parameter sets failed to simulate; the failing sets lie "
                     f"towards {where}; narrow those ranges (--range NAME=LOW:HIGH) or leave the parameters out "
                     f"(Sobol and eFAST need every set)")


def _rows_task(job: tuple) -> np.ndarray:
    """One chunk of parameter sets: an executor task (a pure function of `job`)."""
    spec, patients, outs, overrides, engine = job
    return run_rows(spec, patients, outs, overrides, engine=engine)


def target_sensitivity(target: Target, outputs: list[str], *, msc_effect: bool = False, **kwargs) -> dict:
    """`run_sensitivity` of a target (a scenario's patient or a protocol arm's patients); with `msc_effect`, of
    the difference between the target and the same patients without MSCs. `success` is a protocol's output."""
    from ..model import build_model

    spec = build_model()
    if msc_effect and not target.given_msc:
        raise InputError("--msc-effect: the scenario gives no MSCs; add a [[regimen]]")
    success = success_of(target, set(spec.state_names) | set(spec.derived)) if SUCCESS in outputs else None
    return run_sensitivity(spec, target.treated, outputs, success=success, difference=msc_effect,
                           control=target.control if (msc_effect or success is not None) else None, **kwargs)


def scenario_sensitivity(scenario, outputs: list[str], *, msc_effect: bool = False, **kwargs) -> dict:
    """`run_sensitivity` of a scenario (its patient and regimens); with `msc_effect`, of the difference between
    the scenario and the same patient without MSCs."""
    from ..model import build_model
    from .target import scenario_target

    return target_sensitivity(scenario_target(build_model(), scenario), outputs, msc_effect=msc_effect, **kwargs)
