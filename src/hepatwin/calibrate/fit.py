"""Calibrate the MSC effect parameters to the reference trial's reported findings.

The reference trial (Qin et al. 2025) reports directions and significance, not group means, so the
targets are the findings themselves: albumin above baseline at days 29/57 (low, high dose) and 85
(all), back near baseline by day 169, PTA above baseline from day 29 to 169, IL-8 below baseline.
For each finding the objective measures, over K replicate virtual trials with common random numbers,
the standardised margin m = median / spread of the per-trial mean change (spread = IQR / 1.349),
and asks for m >= z (z = 0.84 puts the reported direction in ~80% of trials). The loss is the sum
of squared shortfalls plus a weak pull of log-parameters towards their starting values, so among the
parameter sets that reproduce the findings the one closest to the prior is chosen. Optimised in
log-space within the table's bounds with scipy's Nelder-Mead (derivative-free: the objective is
piecewise smooth because visit attendance and deaths are discrete).
"""

from __future__ import annotations

import math
import re
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize

from ..errors import InputError
from ..io.atomic import write_text
from ..model import build_model
from ..progress import ProgressCallback, notify, prefixed
from ..trial import load_protocol, run_trial
from ..trial.runner import replicate_pool, screen_pool, trial_sizes
from ..trial.tables import adam_adlb

#: the parameters without a mechanistic source that this procedure fits
FIT_PARAMETERS = ("ksec", "kS", "EC50_S", "Emax_im", "Emax_rg")
Z_TARGET = 0.84
PRIOR_WEIGHT = 0.02

#: (finding id, parameter, visit day, arm or None for all, direction)
FINDINGS = (
    *((f"alb_d{d}_{a}", "Alb", d, a, +1) for d in (29, 57) for a in ("low", "high")),
    *((f"alb_d85_{a}", "Alb", 85, a, +1) for a in ("low", "medium", "high")),
    *((f"pta_d{d}", "PTA", d, None, +1) for d in (29, 57, 85, 113, 141, 169)),
    *((f"il8_d{d}", "IL8", d, None, -1) for d in (29, 85, 169)),
)


@dataclass
class CalibrationResult:
    start: dict[str, float]
    fitted: dict[str, float]
    loss_start: float
    loss_fitted: float
    margins_start: dict[str, float]
    margins_fitted: dict[str, float]
    evaluations: int
    seconds: float
    settings: dict = field(default_factory=dict)


def _margin(x: pd.Series) -> float:
    x = x.to_numpy(float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return math.nan
    q1, q3 = np.quantile(x, [0.25, 0.75])
    spread = max((q3 - q1) / 1.349, 1e-9)
    return float(np.median(x) / spread)


def margins(adlb: pd.DataFrame) -> dict[str, float]:
    """Standardised margin of every finding (positive: in the reported direction), plus `alb_d169`:
    how far the day-169 albumin change is below half the day-85 change."""
    out = {}
    for fid, param, day, arm, sign in FINDINGS:
        d = adlb[(adlb["PARAM"] == param) & (adlb["AVISIT"] == day)]
        if arm is not None:
            d = d[d["TRTP"] == arm]
        out[fid] = sign * _margin(d.groupby("REPLICATE")["CHG"].mean())
    alb = adlb[adlb["PARAM"] == "Alb"]
    c85 = alb[alb["AVISIT"] == 85].groupby("REPLICATE")["CHG"].mean()
    c169 = alb[alb["AVISIT"] == 169].groupby("REPLICATE")["CHG"].mean()
    out["alb_d169"] = _margin((0.5 * c85 - c169).dropna())
    return out


def calibrate(protocol_path: str | Path, replicates: int = 40, maxiter: int = 60, seed: int | None = None,
              parameters: tuple[str, ...] = FIT_PARAMETERS, progress: ProgressCallback | None = None, *,
              engine: str = "numba", executor=None) -> CalibrationResult:
    """Fit `parameters` to the reference trial's findings (see the module docstring).

    The screening pool is screened once (screening uses the model's own values, so it is the same for every
    evaluation); each evaluation's subjects go through `executor` (`hepatwin.run`; serial by default) on
    `engine`. `progress("calibrating (loss L)", evaluations, maxiter)` after each evaluation."""
    proto, pop = load_protocol(protocol_path)
    seed = proto.seed if seed is None else seed
    spec = build_model()
    for name in parameters:
        if name not in spec.parameters:
            raise ValueError(f"unknown parameter {name!r}")
    start = {n: spec.parameters[n].value for n in parameters}
    lo = np.log([max(spec.parameters[n].lower, 1e-12) for n in parameters])
    hi = np.log([spec.parameters[n].upper for n in parameters])
    x0 = np.log(list(start.values()))
    evals = 0
    t0 = time.perf_counter()
    n_total = sum(trial_sizes(proto))
    pool = replicate_pool(screen_pool(proto, pop, seed=seed, replicates=replicates, engine=engine, executor=executor,
                                      progress=prefixed(progress, "calibration pool: ")), n_total, 0, replicates)

    def evaluate(x):
        values = dict(zip(parameters, np.exp(np.clip(x, lo, hi)), strict=True))
        res = run_trial(proto, pop, seed=seed, replicates=replicates, parameters=values, pool=pool, engine=engine,
                        executor=executor)
        m = margins(adam_adlb(res))
        shortfall = np.array([max(0.0, Z_TARGET - (v if np.isfinite(v) else -10.0)) for v in m.values()])
        outside = np.sum(np.maximum(lo - x, 0) ** 2 + np.maximum(x - hi, 0) ** 2)
        loss = float(np.sum(shortfall ** 2) + PRIOR_WEIGHT * np.sum((x - x0) ** 2) + 100 * outside)
        return loss, m, values

    def objective(x):
        nonlocal evals
        evals += 1
        loss = evaluate(x)[0]
        notify(progress, f"calibrating (loss {loss:.4g})", min(evals, maxiter), maxiter)
        return loss

    loss0, m0, _ = evaluate(x0)
    simplex = np.vstack([x0, *(x0 + 0.3 * np.eye(len(x0))[i] for i in range(len(x0)))])
    opt = optimize.minimize(objective, x0, method="Nelder-Mead",
                            options={"maxfev": maxiter, "initial_simplex": simplex, "xatol": 1e-3, "fatol": 1e-4})
    x_best = opt.x if opt.fun < loss0 else x0
    loss1, m1, fitted = evaluate(x_best)
    return CalibrationResult(start, fitted, loss0, loss1, m0, m1, evals + 2, time.perf_counter() - t0,
                             {"protocol": str(protocol_path), "replicates": replicates, "maxiter": maxiter,
                              "seed": seed, "method": "Nelder-Mead (log space)",
                              "z_target": Z_TARGET, "prior_weight": PRIOR_WEIGHT})


class CalibrationWriteError(InputError):
    """A fit that would replace a better or more thorough stored one; the message is meant for the user."""


_EFFORT = re.compile(r"--(replicates|maxiter|cohort-n) (\d+)")


def _effort(entry: dict) -> dict[str, int]:
    """How thorough a stored fit was: its own fields, or read from the command of an older entry."""
    found = {k.replace("-", "_"): int(v) for k, v in _EFFORT.findall(entry.get("command", ""))}
    return found | {k: int(entry[k]) for k in ("replicates", "maxiter", "cohort_n") if k in entry}


def write_calibration(result: CalibrationResult, path: Path, *, force: bool = False) -> Path:
    """Store fitted MSC effect values (atomically) in the calibration file `path`, keeping other entries;
    CalibrationWriteError if the stored fit there is better or more thorough, unless `force`."""
    target = ("findings of the reference trial (doi:10.4240/wjgs.v17.i9.109980): albumin, PTA and IL-8 changes "
              "from baseline")
    effort = {"replicates": int(result.settings["replicates"]), "maxiter": int(result.settings["maxiter"])}
    return store_fitted(result.fitted, result.start, target, float(result.loss_fitted),
                        f"hepatwin calibrate --replicates {effort['replicates']} --maxiter {effort['maxiter']} "
                        f"--write {path}", path, effort=effort, force=force)


def store_fitted(fitted: dict[str, float], start: dict[str, float], target: str, loss: float, command: str,
                 path: Path, *, effort: dict[str, int] | None = None, force: bool = False) -> Path:
    """Write `fitted` values with their target, loss, effort (replicates, evaluations, cohort size) and command
    into the calibration file `path` (atomically, the previous file kept as PATH.bak), keeping the entries of
    other parameters.

    A stored fit of the same parameters to the same target with a lower loss, or made with more effort (a
    loss on fewer replicates is noise, not a better fit), is kept: CalibrationWriteError unless `force`."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    existing = tomllib.loads(text).get("parameters", {})
    effort = effort or {}
    if not force:
        problems = []
        for name in fitted:
            old = existing.get(name)
            if not old or old.get("target") != target:
                continue
            if loss > float(old["loss"]) + 1e-12:
                problems.append(f"{name}: loss {loss:.4g} is worse than the stored {float(old['loss']):.4g}")
            for k, v in _effort(old).items():
                if k in effort and effort[k] < v:
                    problems.append(f"{name}: {k.replace('_', '-')} {effort[k]} is less than the stored fit's {v}")
        if problems:
            raise CalibrationWriteError(
                f"{path} keeps its stored fit, which is better or more thorough: {'; '.join(sorted(set(problems)))}"
                "; write to another file (--write OTHER.toml) or pass --force to replace it; nothing was written")
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for name, value in fitted.items():
        existing[name] = {"value": float(value), "start": float(start[name]), "target": target,
                          "loss": float(loss), **{k: int(v) for k, v in effort.items()}, "fitted_utc": stamp,
                          "command": command}
    lines = ["# Fitted values of `calibrated:` parameters, written by `hepatwin calibrate --write FILE`.",
             "# Procedure: src/hepatwin/calibrate/fit.py (MSC effects) and hazard.py (death hazard); targets and "
             "what was not fitted: docs/validation.md.", ""]
    for name in sorted(existing):
        lines.append(f"[parameters.{name}]")
        for k, v in existing[name].items():
            lines.append(f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"')
        lines.append("")
    if text:
        write_text(path.with_name(path.name + ".bak"), text)
    return write_text(path, "\n".join(lines))
