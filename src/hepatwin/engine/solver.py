"""One solver interface: a batch of patients through either engine, with one status vocabulary.

* "numba": the compiled batched BDF engine (`engine.batched`), all patients in parallel; the default of
  population, trial, power, validation and calibration runs.
* "scipy": the reference, SciPy's stiff integrators one patient at a time (`engine.reference`); slower by
  about two orders of magnitude, for checking the compiled engine on any run.

Both take the same inputs (initial states and parameters per patient, start days, events, output days) and
return a `BatchSolution` whose status codes mean the same (engine/status.py). Nothing here knows biology.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from ..spec.model import ModelSpec
from .batched import BatchSolution, compile_batched, solve_batch
from .codegen import CompiledModel, compile_model
from .events import Event
from .reference import SolverSettings, solve
from .status import CODES, Status, describe, from_code

#: the engines, by name
ENGINES = ("numba", "scipy")

#: integer code of each status (the compiled engine's codes)
STATUS_CODES: dict[Status, int] = {s: code for code, s in CODES.items()}

_COMPILED: dict[int, tuple[ModelSpec, CompiledModel]] = {}


class UnknownEngineError(InputError):
    """An engine name that is not one of ENGINES."""


def check_engine(engine: str) -> str:
    """`engine` if it names an engine; UnknownEngineError (an input error) naming the choices otherwise."""
    if engine not in ENGINES:
        raise UnknownEngineError(f"engine {engine!r} is not an engine; expected one of: {', '.join(ENGINES)}")
    return engine


def reference_model(spec: ModelSpec) -> CompiledModel:
    """The reference engine's compiled right-hand side of `spec` (built once per spec object)."""
    hit = _COMPILED.get(id(spec))
    if hit is None or hit[0] is not spec:
        hit = (spec, compile_model(spec))
        _COMPILED[id(spec)] = hit
    return hit[1]


def solve_patients(spec: ModelSpec, y0: np.ndarray, params: np.ndarray, t_start: np.ndarray | float,
                   t_out: np.ndarray, events: Sequence[Sequence[Event]], *, engine: str = "numba",
                   rtol: float = 1e-6, atol: float = 1e-9, method: str = "LSODA") -> BatchSolution:
    """Integrate every patient (rows of `y0` and `params`) from its start day to the output days.

    `atol` is scaled per state by the state's typical magnitude on both engines. `method` is the SciPy
    method of the reference engine (the compiled engine is always BDF). A patient that fails gets a non-zero
    status and NaN states; the others are unaffected. `messages` holds each patient's message (empty if ok).
    """
    check_engine(engine)
    y0 = np.asarray(y0, dtype=np.float64)
    params = np.asarray(params, dtype=np.float64)
    t_start = np.broadcast_to(np.asarray(t_start, dtype=np.float64), (y0.shape[0],))
    t_out = np.asarray(t_out, dtype=np.float64)
    if engine == "numba":
        sol = solve_batch(compile_batched(spec), y0, params, t_start, t_out, [list(e) for e in events],
                          rtol=rtol, atol=atol)
        sol.messages = [describe(from_code(s), "compiled BDF engine") for s in sol.status]
        return sol
    model = reference_model(spec)
    settings = SolverSettings(method=method, rtol=rtol, atol=atol)
    n = y0.shape[0]
    out = np.full((n, y0.shape[1], t_out.size), np.nan)
    status = np.zeros(n, dtype=np.int64)
    n_rhs = np.zeros(n, dtype=np.int64)
    messages = []
    for k in range(n):
        s = solve(model, y0[k], params[k], float(t_start[k]), t_out, events[k], settings)
        out[k] = s.y
        status[k] = STATUS_CODES[s.status]
        n_rhs[k] = s.n_rhs
        messages.append(s.message)
    zeros = np.zeros(n, dtype=np.int64)
    return BatchSolution(t_out, out, status, n_rhs, zeros, zeros.copy(), zeros.copy(), messages)


__all__ = ["ENGINES", "STATUS_CODES", "UnknownEngineError", "check_engine", "reference_model", "solve_patients"]
