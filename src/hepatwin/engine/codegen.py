"""Compile a ModelSpec into plain Python functions (generated source, no biology here).

Two variants are generated from the same expressions: a scalar right-hand side
using `math` (for the reference SciPy solver) and a vectorised evaluator of all
derived quantities using NumPy (for outputs over many time points at once).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import numpy as np

from ..spec.expr import SCALAR_NAMESPACE, to_python
from ..spec.model import ModelSpec


def _hill_v(x, K, n):
    xn = np.maximum(x, 0.0) ** n
    return xn / (K**n + xn)


def _step_v(x, t):
    return np.where(x >= t, 1.0, 0.0)


_SCALAR_NS = {**SCALAR_NAMESPACE, "np": np}
_VECTOR_NS = {"np": np, "_hill": _hill_v, "_step": _step_v, "_max": np.maximum, "_min": np.minimum}


@dataclass
class CompiledModel:
    """Index tables and generated functions for one spec."""

    spec: ModelSpec
    state_names: list[str]
    param_names: list[str]
    derived_names: list[str]
    rhs: object = field(repr=False)
    derived: object = field(repr=False)
    rhs_source: str = field(repr=False)
    derived_source: str = field(repr=False)

    def state_index(self, name: str) -> int:
        return self.state_names.index(name)

    def param_index(self, name: str) -> int:
        return self.param_names.index(name)

    def param_vector(self, values: dict[str, float]) -> np.ndarray:
        return np.array([float(values[n]) for n in self.param_names])

    def state_vector(self, values: dict[str, float]) -> np.ndarray:
        return np.array([float(values[n]) for n in self.state_names])


def _renames(spec: ModelSpec) -> dict[str, str]:
    rename = {n: f"s_{n}" for n in spec.state_names}
    rename |= {n: f"p_{n}" for n in spec.parameter_names}
    rename |= {n: f"d_{n}" for n in spec.derived_order}
    return rename


def _header(spec: ModelSpec) -> list[str]:
    lines = [f"    s_{n} = y[{i}]" for i, n in enumerate(spec.state_names)]
    return lines + [f"    p_{n} = p[{i}]" for i, n in enumerate(spec.parameter_names)]


def _gate(spec: ModelSpec, proc) -> str | None:
    """The parameter a rate is gated by: `gate*...` with `gate` a parameter (the rate is 0 while it is 0)."""
    tree = proc.parsed.tree
    while isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Mult):
        left = tree.left
        if isinstance(left, ast.Name) and left.id in spec.parameters:
            return left.id
        tree = left
    return None


def _closure(spec: ModelSpec, names) -> set[str]:
    """The derived quantities `names` need, themselves included."""
    needed: set[str] = set()
    stack = [n for n in names if n in spec.derived]
    while stack:
        n = stack.pop()
        if n not in needed:
            needed.add(n)
            stack.extend(m for m in spec.derived[n].parsed.names if m in spec.derived)
    return needed


def rhs_source(spec: ModelSpec, in_place: bool = False) -> str:
    """Source of ``rhs(t, y, p)`` returning dy, or ``rhs(t, y, p, dy)`` filling dy (scalar math).

    A rate gated by a parameter (``gate*...``, e.g. hazards counted only from baseline) is set to 0 without
    evaluating it while the gate is 0, and so are the derived quantities only such rates need: the same
    numbers, less work (a long burn-in with the gate closed costs what the ungated model costs)."""
    rename = _renames(spec)
    procs = list(spec.processes.values())
    gates = [_gate(spec, proc) for proc in procs]
    always = _closure(spec, [n for proc, g in zip(procs, gates, strict=True) if g is None for n in proc.parsed.names])
    gated: dict[str, set[str]] = {}
    for proc, g in zip(procs, gates, strict=True):
        if g is not None:
            gated.setdefault(g, set()).update(_closure(spec, proc.parsed.names) - always)
    body = [f"    d_{n} = {to_python(spec.derived[n].parsed, rename, 'math')}"
            for n in spec.derived_order if n in always]
    rates = [f"    r{j} = 0.0" for j, g in enumerate(gates) if g is not None]
    rates += [f"    r{j} = {to_python(proc.parsed, rename, 'math')}"
              for j, (proc, g) in enumerate(zip(procs, gates, strict=True)) if g is None]
    for g, extra in gated.items():
        rates.append(f"    if {rename[g]} != 0.0:")
        rates += [f"        d_{n} = {to_python(spec.derived[n].parsed, rename, 'math')}"
                  for n in spec.derived_order if n in extra]
        rates += [f"        r{j} = {to_python(proc.parsed, rename, 'math')}"
                  for j, (proc, pg) in enumerate(zip(procs, gates, strict=True)) if pg == g]
    terms: dict[str, list[str]] = {s: [] for s in spec.state_names}
    for j, proc in enumerate(procs):
        for s, coef in proc.stoich.items():
            c = float(coef)
            terms[s].append(f"r{j}" if c == 1.0 else (f"-r{j}" if c == -1.0 else f"{c!r}*r{j}"))
    out = []
    for i, s in enumerate(spec.state_names):
        expr = " + ".join(terms[s]).replace("+ -", "- ") if terms[s] else "0.0"
        out.append(f"    dy[{i}] = {expr}")
    if in_place:
        return "\n".join(["def rhs(t, y, p, dy):", *_header(spec), *body, *rates, *out])
    return "\n".join(["def rhs(t, y, p):", *_header(spec), *body, *rates,
                      f"    dy = np.empty({len(spec.state_names)})", *out, "    return dy"])


def derived_source(spec: ModelSpec) -> str:
    """Source of the vectorised ``derived(y, p)`` returning every derived quantity in topological order."""
    rename = _renames(spec)
    derived = list(spec.derived_order)
    vbody = [f"    d_{n} = {to_python(spec.derived[n].parsed, rename, 'np')}" for n in derived]
    # broadcasting: a derived quantity built from parameters only must still have the time shape
    ret = ", ".join(f"d_{n} + zero" for n in derived)
    return "\n".join(["def derived(y, p):", *_header(spec), "    zero = np.zeros_like(y[0])", *vbody,
                      f"    return ({ret},)" if derived else "    return ()"])


def compile_model(spec: ModelSpec) -> CompiledModel:
    """Generate and compile the right-hand side and the derived-quantity evaluator."""
    rhs_src = rhs_source(spec)
    der_src = derived_source(spec)
    ns_s = dict(_SCALAR_NS)
    exec(compile(rhs_src, f"<hepatwin rhs {spec.name}>", "exec"), ns_s)
    ns_v = dict(_VECTOR_NS)
    exec(compile(der_src, f"<hepatwin derived {spec.name}>", "exec"), ns_v)
    return CompiledModel(spec, spec.state_names, spec.parameter_names, list(spec.derived_order), ns_s["rhs"],
                         ns_v["derived"], rhs_src, der_src)


