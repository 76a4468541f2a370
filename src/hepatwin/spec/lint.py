"""Static checks of a model spec: sources, bounds, units, unused declarations."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .expr import infer_unit
from .model import TIME_UNIT, ModelSpec
from .units import UnitError, format_unit, parse_unit, same_unit, scale_factor, ureg


@dataclass(frozen=True)
class Finding:
    """One lint result."""

    severity: str  # "error" | "warning"
    code: str
    where: str
    message: str


def lint(spec: ModelSpec) -> list[Finding]:
    """Every problem found in `spec`, errors first."""
    out: list[Finding] = []
    units = spec.unit_table()
    day = parse_unit(TIME_UNIT)
    used: set[str] = set()

    for p in spec.parameters.values():
        where = f"parameter {p.name}"
        src = p.source_info
        if src.kind == "missing":
            out.append(Finding("error", "source-missing", where, "no source given"))
        elif src.kind == "invalid":
            out.append(Finding(
                "error", "source-invalid", where,
                f"source {p.source!r} is neither a DOI/PMID/URL nor 'calibrated: <target>' "
                "nor 'assumed: <why>'",
            ))
        if not p.lower <= p.upper:
            out.append(Finding("error", "bounds-order", where, f"lower {p.lower} > upper {p.upper}"))
        elif not p.lower <= p.value <= p.upper:
            out.append(Finding(
                "error", "value-out-of-bounds", where,
                f"value {p.value} outside its bounds [{p.lower}, {p.upper}] {p.unit}",
            ))
        try:
            parse_unit(p.unit)
        except UnitError as exc:
            out.append(Finding("error", "unit-parse", where, str(exc)))

    for d in spec.derived.values():
        used |= d.parsed.names
        try:
            got = infer_unit(d.parsed, units)
            if not same_unit(got, d.parsed_unit):
                out.append(Finding("error", "unit-mismatch", f"derived {d.name}", _mismatch(got, d.parsed_unit)))
        except UnitError as exc:
            out.append(Finding("error", "unit-inconsistent", f"derived {d.name}", str(exc)))

    changed: set[str] = set()
    for proc in spec.processes.values():
        used |= proc.parsed.names
        where = f"process {proc.name}"
        try:
            rate_unit = infer_unit(proc.parsed, units)
        except UnitError as exc:
            out.append(Finding("error", "unit-inconsistent", where, str(exc)))
            continue
        for state_name, coef in proc.stoich.items():
            changed.add(state_name)
            expected = spec.states[state_name].parsed_unit / day
            if not same_unit(rate_unit, expected):
                out.append(Finding(
                    "error", "rate-unit", where,
                    f"rate has unit {format_unit(rate_unit)!r} but changes state {state_name} "
                    f"({spec.states[state_name].unit}); expected {format_unit(expected)!r}",
                ))
            if coef == 0:
                out.append(Finding("warning", "zero-stoich", where, f"coefficient of {state_name} is 0"))

    for dose in spec.doses.values():
        dose_unit = parse_unit(dose.unit)
        for route, targets in dose.parsed.items():
            for state_name, frac in targets.items():
                used |= frac.names
                changed.add(state_name)
                where = f"dose {dose.name} route {route} -> {state_name}"
                try:
                    fu = infer_unit(frac, units)
                    if not same_unit(fu, ureg.dimensionless):
                        out.append(Finding("error", "unit-mismatch", where, "fraction must be dimensionless"))
                except UnitError as exc:
                    out.append(Finding("error", "unit-inconsistent", where, str(exc)))
                if not same_unit(dose_unit, spec.states[state_name].parsed_unit):
                    out.append(Finding(
                        "error", "unit-mismatch", where,
                        f"dose unit {dose.unit!r} differs from state unit {spec.states[state_name].unit!r}",
                    ))

    for mod in spec.modules:
        if mod.switch:
            used.add(mod.switch)
    for trig in spec.triggers.values():   # a trigger reads its threshold and seed, and changes its states
        used.update({trig.threshold, trig.seed, trig.watch, *trig.set})
        changed.update({trig.counter, *trig.add})
    for p in spec.parameters.values():
        if p.name not in used:
            out.append(Finding("warning", "unused-parameter", f"parameter {p.name}", "not used by any expression"))
    for d in spec.derived.values():
        if d.name not in used and not d.observable:
            out.append(Finding("warning", "unused-derived", f"derived {d.name}", "neither used nor observable"))
    for s in spec.states.values():
        if s.name not in changed:
            out.append(Finding("warning", "constant-state", f"state {s.name}", "no process changes it"))
        if s.initial < 0:
            out.append(Finding("error", "negative-initial", f"state {s.name}", f"initial value {s.initial} < 0"))
        if not (math.isfinite(s.lower) and math.isfinite(s.upper)):
            out.append(Finding("error", "state-range-missing", f"state {s.name}",
                               "no plausible range for values given as input"))
        elif s.check(s.initial) is not None:
            out.append(Finding("error", "state-range", f"state {s.name}",
                               f"healthy value {s.initial:g} is {s.check(s.initial)}"))

    return sorted(out, key=lambda f: (f.severity != "error", f.where))


def _mismatch(got, declared) -> str:
    try:
        factor = scale_factor(got, declared)
        return (
            f"expression gives {format_unit(got)!r}, declared {format_unit(declared)!r} "
            f"(off by a factor {factor:g})"
        )
    except UnitError:
        return f"expression gives {format_unit(got)!r}, declared {format_unit(declared)!r}"
