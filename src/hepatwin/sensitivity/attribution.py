"""Mechanism attribution: the share of an MSC effect owed to each mechanism, by exact Shapley values over the
2^m knock-out combinations of the m mechanisms.

The value of a coalition S of mechanisms is the endpoint with only the mechanisms of S switched on minus the
endpoint with none of them (the cells given but without effect, which for every endpoint of the model equals
the patient without MSCs). Shapley's share of mechanism i is the average, over the orders in which mechanisms can
be switched on, of what switching i on adds: phi_i = sum over S not holding i of |S|! (m - |S| - 1)! / m!
(v(S + i) - v(S)). The shares add up to v(all) - v(none), the total MSC effect, exactly (efficiency), and two
mechanisms that add the same to every coalition get the same share (symmetry).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np


def coalitions(m: int) -> list[tuple[int, ...]]:
    """Every subset of range(m) as a tuple of 0/1 switches, in a fixed order (2^m of them)."""
    return list(itertools.product((0, 1), repeat=m))


def shapley(values: dict[tuple[int, ...], np.ndarray], m: int) -> np.ndarray:
    """Exact Shapley values (m x ...) from `values`: coalition switches -> array (any shape, the same for all)."""
    w = [math.factorial(k) * math.factorial(m - k - 1) / math.factorial(m) for k in range(m)]
    first = np.asarray(next(iter(values.values())), dtype=float)
    phi = np.zeros((m, *first.shape))
    for i in range(m):
        for s in coalitions(m):
            if s[i]:
                continue
            with_i = (*s[:i], 1, *s[i + 1:])
            phi[i] += w[sum(s)] * (np.asarray(values[with_i], float) - np.asarray(values[s], float))
    return phi


def attribute(evaluate: Callable[[dict[str, float]], np.ndarray], switches: Sequence[str]) -> tuple[np.ndarray,
                                                                                                   np.ndarray]:
    """Shapley shares of `switches` (mechanism switch parameters, 1 on, 0 off) in the outputs of `evaluate`
    (switch values -> outputs, any array shape). Returns (shares: mechanisms x output shape, total: output shape),
    total = v(all on) - v(all off) = shares.sum(axis=0)."""
    m = len(switches)
    v = {s: np.asarray(evaluate(dict(zip(switches, map(float, s), strict=True))), dtype=float)
         for s in coalitions(m)}
    none = v[(0,) * m]
    gains = {s: x - none for s, x in v.items()}
    return shapley(gains, m), gains[(1,) * m]


def attribute_target(target, outputs: Sequence[str], *, engine: str = "numba") -> dict:
    """The MSC effect on each output of `target` (a scenario's patient or a protocol arm's patients, given MSCs)
    split between the model's mechanisms, patient by patient, the 2^m knock-out combinations of every patient
    solved as one batch (the same patients, so no sampling noise):
    {"endpoints": {OUTPUT: {"total": x, "shares": {MECHANISM: y}}}, "mechanisms": [...], "runs": 2^m x patients,
    "patients": k, "per_patient": DataFrame(patient, output, mechanism, share, total)}. A protocol's total and
    shares are means over its patients (Shapley values are linear, so the mean shares add up to the mean total)."""
    import pandas as pd

    from ..errors import InputError
    from ..model import build_model
    from ..model.catalog import mechanisms
    from .evaluate import run_rows
    from .outputs import expand_outputs, parse_output

    if not target.given_msc:
        raise InputError(f"{target.kind}: no MSC regimen: there is no MSC effect to attribute; give the MSC course")
    spec = build_model()
    known = set(spec.state_names) | set(spec.derived)
    outs = [parse_output(o, known) for o in expand_outputs(list(outputs))]
    if not outs:
        raise InputError("--outputs: empty; expected at least one output such as Alb@85")
    mech = mechanisms()
    names, switches = list(mech), [mech[k] for k in mech]
    combos = coalitions(len(switches))
    table = run_rows(spec, target.treated, outs, {sw: np.array([c[i] for c in combos], float)
                                                  for i, sw in enumerate(switches)}, engine=engine)
    if np.isnan(table).any():
        bad = np.flatnonzero(np.isnan(table).any(axis=(0, 2)))
        raise InputError(f"{len(bad)} patient(s) failed to simulate under some knock-out combination "
                         f"(patient ids {', '.join(str(int(target.patient_ids[j])) for j in bad[:5])})")
    by = {c: table[r] for r, c in enumerate(combos)}                       # patients x outputs
    shares, total = attribute(lambda sw: by[tuple(int(sw[s]) for s in switches)], switches)
    rows = [{"patient": int(pid), "output": o.name, "mechanism": names[i], "share": float(shares[i, j, k]),
             "total": float(total[j, k])}
            for j, pid in enumerate(target.patient_ids) for k, o in enumerate(outs) for i in range(len(names))]
    return {"endpoints": {o.name: {"total": float(total[:, k].mean()),
                                   "shares": {names[i]: float(shares[i, :, k].mean()) for i in range(len(names))}}
                          for k, o in enumerate(outs)},
            "mechanisms": names, "runs": len(combos) * len(target.patient_ids), "patients": len(target.patient_ids),
            "per_patient": pd.DataFrame(rows, columns=["patient", "output", "mechanism", "share", "total"])}


def attribute_scenario(scenario, outputs: Sequence[str], *, engine: str = "numba") -> dict:
    """`attribute_target` of one scenario's patient."""
    from ..model import build_model
    from .target import scenario_target

    return attribute_target(scenario_target(build_model(), scenario), outputs, engine=engine)
