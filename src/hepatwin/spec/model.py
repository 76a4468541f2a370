"""Model as data: states, parameters, derived quantities, processes and modules.

A :class:`ModelSpec` is the single declaration from which the engine right-hand
side, the documentation, the lint report (and later SBML and sensitivity problems)
are generated. It knows nothing about solvers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pint

from .expr import Expr
from .units import parse_unit

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_CITATION = re.compile(r"(doi:\s*10\.\d{4,9}/\S+|\b10\.\d{4,9}/\S+|PMID:?\s*\d+|https?://\S+)", re.I)


class SpecError(ValueError):
    """A structurally invalid model declaration (duplicate or unknown names...)."""


@dataclass(frozen=True)
class Source:
    """Where a parameter value comes from."""

    kind: str  # "citation" | "calibrated" | "assumed" | "missing" | "invalid"
    text: str

    @classmethod
    def parse(cls, text: str | None) -> Source:
        """Classify a source string: a DOI/PMID/URL, 'calibrated: <target>' or 'assumed: <why>'."""
        if text is None or not text.strip():
            return cls("missing", "")
        t = text.strip()
        low = t.lower()
        for kind in ("calibrated", "assumed"):
            if low.startswith(kind + ":"):
                reason = t[len(kind) + 1 :].strip()
                return cls(kind if reason else "invalid", t)
        if _CITATION.search(t):
            return cls("citation", t)
        return cls("invalid", t)


@dataclass(frozen=True)
class Parameter:
    """A named constant with value, unit, plausible bounds and a source.

    `constant=False` marks a parameter that scenario events may change during a run
    (therapy switches); the engine treats those changes as discontinuities.
    """

    name: str
    value: float
    unit: str
    lower: float
    upper: float
    source: str
    description: str = ""
    constant: bool = True

    @cached_property
    def parsed_unit(self) -> pint.Unit:
        return parse_unit(self.unit)

    @property
    def source_info(self) -> Source:
        return Source.parse(self.source)


@dataclass(frozen=True)
class State:
    """A dynamic variable; `initial` is its value in a healthy adult."""

    name: str
    unit: str
    initial: float
    description: str = ""
    scale: float | None = None  # typical magnitude; absolute tolerances are atol * scale
    lower: float = 0.0          # plausible range of a value given for a patient (baseline input)
    upper: float = float("inf")

    @cached_property
    def parsed_unit(self) -> pint.Unit:
        return parse_unit(self.unit)

    def check(self, value: float) -> str | None:
        """None if `value` is plausible for this state, else what is wrong (with a unit hint for g/L values
        that look like g/dL)."""
        if self.lower <= value <= self.upper:
            return None
        msg = f"outside its plausible range [{self.lower:g}, {self.upper:g}] {self.unit}".rstrip()
        if self.unit == "g/L" and self.lower <= value * 10 <= self.upper:
            msg += f"; {value:g} looks like a g/dL value ({value * 10:g} g/L)"
        return msg

    @property
    def typical(self) -> float:
        """Typical magnitude: `scale` if given, else max(|healthy value|, 1)."""
        return float(self.scale) if self.scale else max(abs(self.initial), 1.0)


@dataclass(frozen=True)
class Derived:
    """A quantity computed from states and parameters at each instant (SBML assignment rule).

    `observable=True` marks clinically or biologically reported outputs.
    """

    name: str
    expr: str
    unit: str
    description: str = ""
    observable: bool = False

    @cached_property
    def parsed(self) -> Expr:
        return Expr.parse(self.expr)

    @cached_property
    def parsed_unit(self) -> pint.Unit:
        return parse_unit(self.unit)


@dataclass(frozen=True)
class Process:
    """A flux `rate` (unit: state unit per day) changing states by `stoich` coefficients."""

    name: str
    rate: str
    stoich: Mapping[str, float]
    description: str = ""

    @cached_property
    def parsed(self) -> Expr:
        return Expr.parse(self.rate)


@dataclass(frozen=True)
class DoseInput:
    """How an administered amount enters the states, per route.

    `routes[route][state]` is an expression (over parameters) for the fraction of the
    dose placed in `state` at the moment of administration.
    """

    name: str
    unit: str
    routes: Mapping[str, Mapping[str, str]]
    description: str = ""

    @cached_property
    def parsed(self) -> dict[str, dict[str, Expr]]:
        return {r: {s: Expr.parse(e) for s, e in m.items()} for r, m in self.routes.items()}


@dataclass(frozen=True)
class Trigger:
    """A stochastic state event: it fires when the non-decreasing state `watch` (a cumulative hazard)
    reaches the parameter `threshold`. Then `add` is added to states, `set` parameters are set, the state
    `counter` goes up by one and `threshold` moves on by an exponential draw (mean 1) keyed by the parameter
    `seed` and the occurrence number (`engine.draws.exp_draw`). The times between firings are those of a
    point process with the hazard that `watch` accumulates (simulation by inverting the cumulative hazard),
    and a firing can change the state the later hazards depend on."""

    name: str
    watch: str
    threshold: str
    seed: str
    counter: str
    add: Mapping[str, float] = field(default_factory=dict)
    set: Mapping[str, float] = field(default_factory=dict)
    description: str = ""


@dataclass
class Module:
    """A named group of declarations. A module with a `switch` parameter can be
    knocked out by name: the scenario sets that parameter to 0."""

    name: str
    description: str
    states: list[State] = field(default_factory=list)
    parameters: list[Parameter] = field(default_factory=list)
    derived: list[Derived] = field(default_factory=list)
    processes: list[Process] = field(default_factory=list)
    doses: list[DoseInput] = field(default_factory=list)
    switch: str | None = None
    triggers: list[Trigger] = field(default_factory=list)


TIME_UNIT = "day"


class ModelSpec:
    """An assembled model: modules plus global name tables and checks of structure."""

    def __init__(self, name: str, modules: Iterable[Module], description: str = ""):
        self.name = name
        self.description = description
        self.modules = list(modules)
        self._index()

    # ------------------------------------------------------------------ tables
    def _index(self) -> None:
        self.states: dict[str, State] = {}
        self.parameters: dict[str, Parameter] = {}
        self.derived: dict[str, Derived] = {}
        self.processes: dict[str, Process] = {}
        self.doses: dict[str, DoseInput] = {}
        self.triggers: dict[str, Trigger] = {}
        self.module_of: dict[str, str] = {}
        for mod in self.modules:
            for kind, items in (
                ("states", mod.states),
                ("parameters", mod.parameters),
                ("derived", mod.derived),
                ("processes", mod.processes),
                ("doses", mod.doses),
                ("triggers", mod.triggers),
            ):
                table = getattr(self, kind)
                for item in items:
                    if not _NAME.match(item.name):
                        raise SpecError(f"invalid name {item.name!r} in module {mod.name!r}")
                    if item.name in self.module_of:
                        raise SpecError(
                            f"name {item.name!r} declared in module {mod.name!r} and "
                            f"{self.module_of[item.name]!r}"
                        )
                    table[item.name] = item
                    self.module_of[item.name] = mod.name
        symbols = set(self.states) | set(self.parameters) | set(self.derived)
        for d in self.derived.values():
            self._check_refs(d.name, d.parsed.names, symbols)
        for p in self.processes.values():
            self._check_refs(p.name, p.parsed.names, symbols)
            for s in p.stoich:
                if s not in self.states:
                    raise SpecError(f"process {p.name!r} changes unknown state {s!r}")
        for dose in self.doses.values():
            for route, targets in dose.parsed.items():
                for s, e in targets.items():
                    if s not in self.states:
                        raise SpecError(f"dose {dose.name!r} route {route!r} targets unknown state {s!r}")
                    self._check_refs(f"{dose.name}.{route}", e.names, set(self.parameters))
        for trig in self.triggers.values():
            self._check_trigger(trig)
        for mod in self.modules:
            if mod.switch is not None and mod.switch not in self.parameters:
                raise SpecError(f"module {mod.name!r} switch {mod.switch!r} is not a parameter")
        self.derived_order = self._topological_derived()

    def _check_trigger(self, trig: Trigger) -> None:
        for role, name, table in (("watch", trig.watch, self.states), ("counter", trig.counter, self.states),
                                  ("threshold", trig.threshold, self.parameters), ("seed", trig.seed, self.parameters)):
            if name not in table:
                kind = "state" if table is self.states else "parameter"
                raise SpecError(f"trigger {trig.name!r}: {role} {name!r} is not a {kind}")
        for role, name, table in (("threshold", trig.threshold, self.parameters), ("seed", trig.seed, self.parameters)):
            if table[name].constant:
                raise SpecError(f"trigger {trig.name!r}: {role} parameter {name!r} must be declared constant=False "
                                "(it is set per patient and changed by the trigger)")
        for s in trig.add:
            if s not in self.states:
                raise SpecError(f"trigger {trig.name!r} adds to unknown state {s!r}")
        for q in trig.set:
            if q not in self.parameters:
                raise SpecError(f"trigger {trig.name!r} sets unknown parameter {q!r}")

    @staticmethod
    def _check_refs(owner: str, names: Iterable[str], known: set[str]) -> None:
        unknown = sorted(set(names) - known)
        if unknown:
            raise SpecError(f"{owner!r} refers to unknown name(s): {', '.join(unknown)}")

    def _topological_derived(self) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise SpecError("cycle among derived quantities: " + " -> ".join([*trail, name]))
            state[name] = 1
            for dep in sorted(self.derived[name].parsed.names):
                if dep in self.derived:
                    visit(dep, [*trail, name])
            state[name] = 2
            order.append(name)

        for name in self.derived:
            visit(name, [])
        return order

    # ------------------------------------------------------------------ views
    @property
    def state_names(self) -> list[str]:
        return list(self.states)

    @property
    def parameter_names(self) -> list[str]:
        return list(self.parameters)

    @property
    def observables(self) -> list[str]:
        return [n for n, d in self.derived.items() if d.observable]

    @property
    def switches(self) -> dict[str, str]:
        """Knock-out name (module name) -> switch parameter."""
        return {m.name: m.switch for m in self.modules if m.switch}

    def module(self, name: str) -> Module:
        for m in self.modules:
            if m.name == name:
                return m
        raise KeyError(name)

    def unit_table(self) -> dict[str, pint.Unit]:
        """Unit of every symbol usable in an expression."""
        table: dict[str, pint.Unit] = {}
        for s in self.states.values():
            table[s.name] = s.parsed_unit
        for p in self.parameters.values():
            table[p.name] = p.parsed_unit
        for d in self.derived.values():
            table[d.name] = d.parsed_unit
        return table

    def unit_of(self, name: str) -> str:
        for table in (self.states, self.parameters, self.derived):
            if name in table:
                return table[name].unit
        raise KeyError(name)

    def default_values(self) -> dict[str, float]:
        return {n: p.value for n, p in self.parameters.items()}

    def state_scales(self) -> np.ndarray:
        """Typical magnitude of each state (for per-state absolute tolerances)."""
        return np.array([s.typical for s in self.states.values()])

    def healthy_state(self) -> dict[str, float]:
        return {n: s.initial for n, s in self.states.items()}
