"""SBML Level 3 Version 2 export generated from the model spec (and optionally a scenario).

States become parameters with rate rules (sum of stoichiometry x process rate), derived
quantities assignment rules, processes' rates are inlined; infusions and therapy starts become
events. Every parameter carries an SBML unit definition built from its pint unit.
SBML time starts at 0 = the first simulated day (`t_start`); `study_day = time + t_offset`.
For a scenario with a disease history that is the start of the burn-in (`t_offset` = -years x
365.25), unless exported with `start="baseline"`: then the burn-in is simulated here with the
reference solver and its day-0 state becomes the initial values, so SBML time 0 = scenario day 0.
The model's notes say which.

Only plain SBML maths is written: no function definitions; `max`/`min` are the L3V2 MathML
elements, `hill` is inlined with them, `step` is a top-level `piecewise` whose condition
holds no further piecewise (AMICI refuses conditions with nested piecewise, as it refused the
former `hw_max`/`hw_min` function definitions nested inside each other).
"""

from __future__ import annotations

import ast
import html
import math
import re
from dataclasses import dataclass, field

import libsbml
import pint

from ..spec.expr import Expr
from ..spec.model import TIME_UNIT, ModelSpec
from ..spec.units import parse_unit, ureg

#: spec function -> SBML L3 infix (libsbml parses max/min to the L3V2 MathML <max/>/<min/> elements)
_CALL = {"max": "max", "min": "min", "exp": "exp", "log": "ln", "log10": "log10", "sqrt": "sqrt", "sin": "sin",
         "cos": "cos"}
START = ("burn-in", "baseline")
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
    """The SBML text and what libsbml said about it.

    `errors`/`warnings` hold one line per libsbml message: severity | category, id and line | message | short
    message. `t_offset` is the study day at SBML time 0.
    """

    sbml: str
    errors: list[str]
    warnings: list[str]
    t_offset: float = 0.0
    notes: str = field(default="", repr=False)


def issue_line(err: libsbml.SBMLError) -> str:
    """One line for a libsbml message: severity | category id line | message | short message."""
    message = " ".join(err.getMessage().split())
    return (f"{err.getSeverityAsString()} | {err.getCategoryAsString()} {err.getErrorId()} line {err.getLine()} | "
            f"{message} | {err.getShortMessage()}")


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
        args = [_infix(a) for a in node.args]
        if node.func.id == "hill":  # x^n / (K^n + x^n), 0 for x <= 0 (as the engines)
            x, k, n = args
            return f"(max({x}, 0)^{n} / ({k}^{n} + max({x}, 0)^{n}))"
        if node.func.id == "step":  # 1 if x >= t else 0
            if any(isinstance(a, ast.Call) and a.func.id == "step" for a in ast.walk(node)
                   if a is not node):
                raise ValueError("cannot export step() nested in step(): a piecewise condition holding a piecewise")
            return f"piecewise(1, geq({args[0]}, {args[1]}), 0)"
        return f"{_CALL[node.func.id]}({', '.join(args)})"
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


def _notes(text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(par)}</p>" for par in text.split("\n\n") if par.strip())
    return f'<body xmlns="http://www.w3.org/1999/xhtml">{paragraphs}</body>'


def export_sbml(spec: ModelSpec, params: dict[str, float] | None = None, initial: dict[str, float] | None = None,
                events=(), t_start: float = 0.0, model_id: str | None = None, notes: str | None = None) -> ExportReport:
    """Build an SBML L3V2 document; raises SBMLExportError if libsbml reports errors.

    `t_start` is the study day at SBML time 0 (parameter `t_offset`); `notes` (plain text, paragraphs
    separated by blank lines) go into the model's notes, after a paragraph on the time axis.
    """
    from .. import DISCLAIMER, __version__

    params = params or spec.default_values()
    initial = initial or spec.healthy_state()
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId(model_id or spec.name)
    model.setName(spec.description or spec.name)
    clock = (f"Time is in days. SBML time 0 is study day {t_start:g} (parameter t_offset = {t_start!r}); "
             "study_day = time + t_offset is the scenario's clock (day 0 = baseline, the day the scenario's "
             "days are counted from).")
    if t_start < 0:
        clock += (f" So SBML time 0 is the start of the {-t_start / 365.25:g}-year disease-history burn-in and "
                  f"scenario day 0 is SBML time {-t_start:g}.")
    once = ("State events (" + ", ".join(t.replace("_", " ") for t in spec.triggers) + ") fire when a cumulative "
            "hazard reaches the patient's threshold. hepatwin fires each again at the next threshold, an exponential "
            "draw of the patient's stream; SBML has no random draws, so this export fires each at most once, at its "
            "first threshold, and then sets that threshold to infinity (an infinite threshold: the event does not "
            "happen).") if spec.triggers else ""
    text = "\n\n".join([f"Generated by hepatwin {__version__} from the model spec '{spec.name}'.", clock,
                         *([notes] if notes else []), *([once] if once else []), DISCLAIMER])
    _check(model.setNotes(_notes(text)), "model notes")
    _add_unit_definition(model, "day", parse_unit(TIME_UNIT))
    model.setTimeUnits("day")

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

    for trig in spec.triggers.values():
        # hepatwin fires a state event again at the next threshold (an exponential draw of the patient's
        # stream); SBML has no random draws, so here it fires once, at the first threshold
        e = model.createEvent()
        e.setId(f"state_event_{trig.name}")
        e.setName(f"{trig.name.replace('_', ' ')}: fires when {trig.watch} reaches {trig.threshold} (first time only)")
        e.setUseValuesFromTriggerTime(True)
        tr = e.createTrigger()
        tr.setInitialValue(False)
        tr.setPersistent(True)
        tr.setMath(_math(f"{trig.watch} >= {trig.threshold}"))
        adds = dict(trig.add)
        adds[trig.counter] = adds.get(trig.counter, 0.0) + 1.0
        for name, amount in adds.items():
            ea = e.createEventAssignment()
            ea.setVariable(name)
            ea.setMath(_math(f"{name} + {amount!r}"))
        for name, value in {**trig.set, trig.threshold: math.inf}.items():
            ea = e.createEventAssignment()
            ea.setVariable(name)
            ea.setMath(_math("INF" if math.isinf(value) else repr(float(value))))

    sbml = libsbml.writeSBMLToString(doc)
    # check the document as read back from the text, so that messages carry the line numbers of the file
    doc = libsbml.readSBMLFromString(sbml)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    doc.checkConsistency()
    errors, warnings = [], []
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        (errors if err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR else warnings).append(issue_line(err))
    if errors:
        raise SBMLExportError("libsbml reported errors:\n" + "\n".join(errors[:20]))
    return ExportReport(sbml, errors, warnings, t_offset=t_start, notes=text)


def export_scenario(scenario, spec: ModelSpec | None = None, start: str = "burn-in") -> ExportReport:
    """SBML of the model with a scenario's parameters, initial state and events.

    start="burn-in": SBML time 0 is the scenario's first simulated day (the start of the disease-history
    burn-in if the patient has one, else day 0). start="baseline": SBML time 0 is scenario day 0; the burn-in is
    simulated with the reference solver (SciPy, the scenario's method and tolerances) and its state at day 0
    (before any day-0 event, as hepatwin reports it) and the parameters then in force are the initial values;
    events from day 0 on stay events.
    """
    from ..engine import SolverSettings, solve
    from ..engine.solver import reference_model
    from ..model import build_model
    from ..plan import plan_run

    if start not in START:
        raise ValueError(f"start={start!r}: expected one of {', '.join(START)}")
    spec = spec or build_model()
    plan = plan_run(scenario, spec)
    model_id = re.sub(r"[^A-Za-z0-9_]", "_", f"hepatwin_{scenario.name}")[:60]
    notes = f"Scenario: {scenario.name}." + (f" {scenario.description}" if scenario.description else "")
    if start == "burn-in" or plan.t_start >= 0:
        if plan.t_start < 0:
            notes += (" Exported from the start of the burn-in (hepatwin export sbml --start burn-in); "
                      "--start baseline exports the state at scenario day 0 instead.")
        return export_sbml(spec, plan.params, plan.initial, plan.events, plan.t_start, model_id=model_id, notes=notes)
    sim = scenario.simulation
    settings = SolverSettings(method=sim.method, rtol=sim.rtol, atol=sim.atol)
    compiled = reference_model(spec)
    sol = solve(compiled, compiled.state_vector(plan.initial), compiled.param_vector(plan.params), plan.t_start,
                [0.0], plan.events, settings)
    if sol.status != "ok":
        raise SBMLExportError(f"the burn-in of scenario {scenario.name!r} failed: {sol.status} {sol.message}")
    initial = dict(zip(compiled.state_names, (float(v) for v in sol.y[:, 0]), strict=True))
    params = dict(plan.params)
    for ev in plan.events:  # sorted by time; the burn-in's parameter settings stay in force at day 0
        if ev.time < 0:
            params.update(ev.set)
    notes += (f" Initial values: the state at scenario day 0 after the {-plan.t_start / 365.25:g}-year burn-in, "
              f"simulated by hepatwin's reference solver (SciPy {sim.method}, rtol {sim.rtol:g}, atol {sim.atol:g} "
              "x each state's typical size) and taken before any day-0 event (hepatwin export sbml --start "
              "baseline).")
    later = [ev for ev in plan.events if ev.time >= 0]
    return export_sbml(spec, params, initial, later, 0.0, model_id=model_id, notes=notes)
