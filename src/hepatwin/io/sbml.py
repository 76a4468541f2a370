"""SBML Level 3 Version 2 export generated from the model spec (and optionally a scenario).

States become parameters with rate rules (sum of stoichiometry x process rate), derived
quantities assignment rules, processes' rates are inlined; infusions and therapy starts become
events. Every parameter carries an SBML unit definition built from its pint unit.
SBML time starts at 0 = the first simulated day (`t_start`); `study_day = time + t_offset`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import libsbml
import pint

from ..spec.expr import Expr
from ..spec.model import TIME_UNIT, ModelSpec
from ..spec.units import parse_unit, ureg

_FUNCTIONS = {
    "hill": "lambda(x, K, n, piecewise(0, leq(x, 0), x^n/(K^n + x^n)))",
    "hw_step": "lambda(x, t, piecewise(1, geq(x, t), 0))",
    "hw_max": "lambda(a, b, piecewise(a, geq(a, b), b))",
    "hw_min": "lambda(a, b, piecewise(a, leq(a, b), b))",
}
_CALL = {"hill": "hill", "step": "hw_step", "max": "hw_max", "min": "hw_min", "exp": "exp", "log": "ln",
         "log10": "log10", "sqrt": "sqrt"}
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "^"}

_SBML_KIND = {
    "meter": libsbml.UNIT_KIND_METRE, "kilogram": libsbml.UNIT_KIND_KILOGRAM, "second": libsbml.UNIT_KIND_SECOND,
    "mole": libsbml.UNIT_KIND_MOLE, "cell": libsbml.UNIT_KIND_ITEM, "ampere": libsbml.UNIT_KIND_AMPERE,
    "kelvin": libsbml.UNIT_KIND_KELVIN, "candela": libsbml.UNIT_KIND_CANDELA,
}


class SBMLExportError(RuntimeError):
    """The generated document failed libsbml's consistency check."""


@dataclass
class ExportReport:
    """The SBML text and what libsbml said about it."""

    sbml: str
    errors: list[str]
    warnings: list[str]


def infix(expr: Expr) -> str:
    """SBML L3 infix text of a spec expression."""
    return _infix(expr.tree)


def _infix(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        return repr(float(node.value))
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.UnaryOp):
        return f"(-{_infix(node.operand)})" if isinstance(node.op, ast.USub) else _infix(node.operand)
    if isinstance(node, ast.BinOp):
        return f"({_infix(node.left)} {_OPS[type(node.op)]} {_infix(node.right)})"
    if isinstance(node, ast.Call):
        return f"{_CALL[node.func.id]}({', '.join(_infix(a) for a in node.args)})"
    raise ValueError(f"cannot export {ast.dump(node)}")  # pragma: no cover


def _unit_id(text: str) -> str:
    if text.strip() in ("1", ""):
        return "dimensionless"
    return "u_" + re.sub(r"[^A-Za-z0-9]+", "_", text.strip()).strip("_")


def _add_unit_definition(model: libsbml.Model, uid: str, unit: pint.Unit) -> None:
    if uid == "dimensionless" or model.getUnitDefinition(uid) is not None:
        return
    q = ureg.Quantity(1.0, unit).to_base_units()
    ud = model.createUnitDefinition()
    ud.setId(uid)
    items = [(str(name), float(exp)) for name, exp in q.unit_items()]
    magnitude = float(q.magnitude)
    if not items:
        u = ud.createUnit()
        u.setKind(libsbml.UNIT_KIND_DIMENSIONLESS)
        u.setExponent(1.0)
        u.setScale(0)
        u.setMultiplier(magnitude)
        return
    for i, (name, exp) in enumerate(items):
        if name not in _SBML_KIND:
            raise ValueError(f"no SBML unit kind for base unit {name!r}")
        u = ud.createUnit()
        u.setKind(_SBML_KIND[name])
        u.setExponent(exp)
        u.setScale(0)
        # (multiplier * kind)^exponent: the whole magnitude goes on the first unit
        u.setMultiplier(magnitude ** (1.0 / exp) if i == 0 else 1.0)


def _check(obj_status: int, what: str) -> None:
    if obj_status != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise SBMLExportError(f"libsbml refused {what} (code {obj_status})")


def _math(text: str) -> libsbml.ASTNode:
    node = libsbml.parseL3Formula(text)
    if node is None:
        raise SBMLExportError(f"libsbml could not parse {text!r}: {libsbml.getLastParseL3Error()}")
    return node


def export_sbml(spec: ModelSpec, params: dict[str, float] | None = None, initial: dict[str, float] | None = None,
                events=(), t_start: float = 0.0, model_id: str | None = None) -> ExportReport:
    """Build an SBML L3V2 document; raises SBMLExportError if libsbml reports errors."""
    params = params or spec.default_values()
    initial = initial or spec.healthy_state()
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId(model_id or spec.name)
    model.setName(spec.description or spec.name)
    _add_unit_definition(model, "day", parse_unit(TIME_UNIT))
    model.setTimeUnits("day")

    for fid, body in _FUNCTIONS.items():
        fd = model.createFunctionDefinition()
        fd.setId(fid)
        _check(fd.setMath(_math(body)), f"function {fid}")

    def add_param(pid: str, value: float, unit_text: str, constant: bool, name: str = "") -> None:
        uid = _unit_id(unit_text)
        _add_unit_definition(model, uid, parse_unit(unit_text))
        p = model.createParameter()
        p.setId(pid)
        if name:
            p.setName(name)
        p.setValue(float(value))
        p.setUnits(uid)
        p.setConstant(constant)

    for p in spec.parameters.values():
        add_param(p.name, params[p.name], p.unit, p.constant, p.description)
    add_param("t_offset", t_start, TIME_UNIT, True, "study day at SBML time 0")
    for s in spec.states.values():
        add_param(s.name, initial[s.name], s.unit, False, s.description)
    for name in spec.derived_order:
        d = spec.derived[name]
        add_param(name, 0.0, d.unit, False, d.description)
        rule = model.createAssignmentRule()
        rule.setVariable(name)
        _check(rule.setMath(_math(infix(d.parsed))), f"assignment rule {name}")
    add_param("study_day", t_start, TIME_UNIT, False, "time on the study clock (day 0 = baseline)")
    rule = model.createAssignmentRule()
    rule.setVariable("study_day")
    rule.setMath(_math("time + t_offset"))

    terms: dict[str, list[str]] = {s: [] for s in spec.states}
    for proc in spec.processes.values():
        rate = infix(proc.parsed)
        for s, coef in proc.stoich.items():
            terms[s].append(f"{float(coef)!r} * {rate}")
    for s, parts in terms.items():
        rr = model.createRateRule()
        rr.setVariable(s)
        _check(rr.setMath(_math(" + ".join(parts) if parts else "0")), f"rate rule {s}")

    by_time: dict[float, list] = {}
    for ev in events:
        by_time.setdefault(float(ev.time), []).append(ev)
    for k, (time, evs) in enumerate(sorted(by_time.items())):
        e = model.createEvent()
        e.setId(f"event_{k}")
        e.setName("; ".join(ev.label for ev in evs if ev.label))
        e.setUseValuesFromTriggerTime(True)
        trig = e.createTrigger()
        trig.setInitialValue(False)
        trig.setPersistent(True)
        trig.setMath(_math(f"time >= {time - t_start!r}"))
        adds: dict[str, float] = {}
        sets: dict[str, float] = {}
        for ev in evs:
            for name, amount in ev.add.items():
                adds[name] = adds.get(name, 0.0) + amount
            sets.update(ev.set)
        for name, amount in adds.items():
            ea = e.createEventAssignment()
            ea.setVariable(name)
            ea.setMath(_math(f"{name} + {amount!r}"))
        for name, value in sets.items():
            ea = e.createEventAssignment()
            ea.setVariable(name)
            ea.setMath(_math(repr(float(value))))

    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    doc.checkConsistency()
    errors, warnings = [], []
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        text = f"{err.getCategoryAsString()} {err.getErrorId()} line {err.getLine()}: {err.getShortMessage()}"
        (errors if err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR else warnings).append(text)
    sbml = libsbml.writeSBMLToString(doc)
    if errors:
        raise SBMLExportError("libsbml reported errors:\n" + "\n".join(errors[:20]))
    return ExportReport(sbml, errors, warnings)


def export_scenario(scenario, spec: ModelSpec | None = None) -> ExportReport:
    """SBML of the model with a scenario's parameters, initial state and events."""
    from ..model import build_model
    from ..simulate import plan_run

    spec = spec or build_model()
    plan = plan_run(scenario, spec)
    return export_sbml(spec, plan.params, plan.initial, plan.events, plan.t_start,
                       model_id=re.sub(r"[^A-Za-z0-9_]", "_", f"hepatwin_{scenario.name}")[:60])
