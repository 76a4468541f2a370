"""The expression language of the model spec.

Rates and derived quantities are written as Python-syntax expressions over state,
parameter and derived-variable names, e.g. ``k_prol * H * hill(HGF, K_hgf, 2)``.
One parsed expression feeds the unit checker, the code generators and the docs.

Allowed: numbers, names, ``+ - * / **``, unary minus and the functions in
:data:`FUNCTIONS`. Nothing else (no attribute access, no comparisons, no calls to
arbitrary Python), so every expression can also be written as SBML math.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

import pint

from .units import UnitError, format_unit, same_unit, ureg

#: function name -> (number of arguments, one-line meaning used in docs)
FUNCTIONS: dict[str, tuple[int, str]] = {
    "exp": (1, "exponential"),
    "log": (1, "natural logarithm"),
    "log10": (1, "base-10 logarithm"),
    "sqrt": (1, "square root"),
    "sin": (1, "sine (of a dimensionless argument, radians)"),
    "cos": (1, "cosine (of a dimensionless argument, radians)"),
    "max": (2, "larger of two values"),
    "min": (2, "smaller of two values"),
    "hill": (3, "hill(x, K, n) = x^n / (K^n + x^n)"),
    "step": (2, "step(x, t) = 1 if x >= t else 0"),
}


class ExpressionError(ValueError):
    """An expression that is not valid in the spec language."""


@dataclass(frozen=True)
class Expr:
    """A parsed, validated spec expression."""

    text: str
    tree: ast.expr = field(repr=False, compare=False)
    names: frozenset[str] = field(compare=False)

    @classmethod
    def parse(cls, text: str) -> Expr:
        """Parse and check the syntax of one expression."""
        try:
            tree = ast.parse(text.strip(), mode="eval").body
        except SyntaxError as exc:
            raise ExpressionError(f"cannot parse expression {text!r}: {exc.msg}") from None
        names: set[str] = set()
        _check(tree, text, names)
        return cls(text=text.strip(), tree=tree, names=frozenset(names))


def _check(node: ast.AST, text: str, names: set[str]) -> None:
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, int | float) or isinstance(node.value, bool):
            raise ExpressionError(f"only numbers are allowed as constants in {text!r}")
        return
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"function {node.id!r} used without call in {text!r}")
        names.add(node.id)
        return
    if isinstance(node, ast.BinOp):
        if not isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div | ast.Pow):
            raise ExpressionError(f"operator {type(node.op).__name__} not allowed in {text!r}")
        _check(node.left, text, names)
        _check(node.right, text, names)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise ExpressionError(f"operator {type(node.op).__name__} not allowed in {text!r}")
        _check(node.operand, text, names)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ExpressionError(
                f"unknown function in {text!r}; allowed: {', '.join(sorted(FUNCTIONS))}"
            )
        arity = FUNCTIONS[node.func.id][0]
        if len(node.args) != arity or node.keywords:
            raise ExpressionError(f"{node.func.id}() takes {arity} arguments in {text!r}")
        for arg in node.args:
            _check(arg, text, names)
        return
    raise ExpressionError(f"construct {type(node).__name__} not allowed in {text!r}")


# ---------------------------------------------------------------- unit inference

_NUMBER = None  # a bare numeric literal: dimensionless, but 0 is compatible with anything


def infer_unit(expr: Expr, units: dict[str, pint.Unit]) -> pint.Unit:
    """Infer the unit of an expression from the units of its names.

    Addition, max/min and hill require operands of the same dimension *and* scale;
    exp/log need dimensionless arguments; a dimensional base needs a numeric exponent.
    Raises UnitError describing the first inconsistency.
    """
    result = _unit(expr.tree, units, expr.text)
    return ureg.dimensionless if result is _NUMBER else result


def _literal(node: ast.AST) -> float | None:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return -float(node.operand.value) if isinstance(node.op, ast.USub) else float(node.operand.value)
    return None


def _require_same(a, b, node_a, node_b, text: str, what: str):
    if a is _NUMBER and b is _NUMBER:
        return _NUMBER
    if a is _NUMBER or b is _NUMBER:
        unit, lit_node = (b, node_a) if a is _NUMBER else (a, node_b)
        if _literal(lit_node) == 0.0 or same_unit(unit, ureg.dimensionless):
            return unit
        raise UnitError(f"{what} mixes a plain number with {format_unit(unit)!r} in {text!r}")
    if not same_unit(a, b):
        raise UnitError(f"{what} mixes {format_unit(a)!r} and {format_unit(b)!r} in {text!r}")
    return a


def _require_dimensionless(u, text: str, what: str) -> None:
    if u is not _NUMBER and not same_unit(u, ureg.dimensionless):
        raise UnitError(f"{what} needs a dimensionless argument, got {format_unit(u)!r} in {text!r}")


def _unit(node: ast.AST, units: dict[str, pint.Unit], text: str):
    if isinstance(node, ast.Constant):
        return _NUMBER
    if isinstance(node, ast.Name):
        if node.id not in units:
            raise UnitError(f"unknown name {node.id!r} in {text!r}")
        return units[node.id]
    if isinstance(node, ast.UnaryOp):
        return _unit(node.operand, units, text)
    if isinstance(node, ast.BinOp):
        left = _unit(node.left, units, text)
        right = _unit(node.right, units, text)
        if isinstance(node.op, ast.Add | ast.Sub):
            return _require_same(left, right, node.left, node.right, text, "addition")
        if isinstance(node.op, ast.Mult | ast.Div):
            if left is _NUMBER and right is _NUMBER:
                return _NUMBER
            lu = ureg.dimensionless if left is _NUMBER else left
            ru = ureg.dimensionless if right is _NUMBER else right
            return (lu * ru) if isinstance(node.op, ast.Mult) else (lu / ru)
        # power
        _require_dimensionless(right, text, "an exponent")
        if left is _NUMBER:
            return _NUMBER
        if same_unit(left, ureg.dimensionless):
            return ureg.dimensionless
        exponent = _literal(node.right)
        if exponent is None:
            raise UnitError(
                f"{format_unit(left)!r} raised to a non-literal power in {text!r}; "
                "divide by a reference value first"
            )
        return left**exponent
    if isinstance(node, ast.Call):
        name = node.func.id
        args = [_unit(a, units, text) for a in node.args]
        if name in ("exp", "log", "log10", "sin", "cos"):
            _require_dimensionless(args[0], text, f"{name}()")
            return ureg.dimensionless
        if name == "sqrt":
            return _NUMBER if args[0] is _NUMBER else args[0] ** 0.5
        if name in ("max", "min"):
            return _require_same(args[0], args[1], node.args[0], node.args[1], text, f"{name}()")
        if name == "hill":
            _require_same(args[0], args[1], node.args[0], node.args[1], text, "hill()")
            _require_dimensionless(args[2], text, "hill() exponent")
            return ureg.dimensionless
        if name == "step":
            _require_same(args[0], args[1], node.args[0], node.args[1], text, "step()")
            return ureg.dimensionless
    raise UnitError(f"cannot infer unit of {text!r}")  # pragma: no cover - _check prevents


# ---------------------------------------------------------------- code generation


def to_python(expr: Expr, rename: dict[str, str], math: str = "np") -> str:
    """Python source for an expression, with names replaced via `rename`.

    Generated code uses ``{math}.exp`` etc., and helpers ``_hill``/``_step``/
    ``_max``/``_min`` that the caller provides (vectorised or scalar).
    """
    return _py(expr.tree, rename, math)


_PY_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


def _py(node: ast.AST, rename: dict[str, str], math: str) -> str:
    if isinstance(node, ast.Constant):
        return repr(float(node.value))
    if isinstance(node, ast.Name):
        return rename[node.id]
    if isinstance(node, ast.UnaryOp):
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        return f"({sign}{_py(node.operand, rename, math)})"
    if isinstance(node, ast.BinOp):
        op = _PY_OPS[type(node.op)]
        return f"({_py(node.left, rename, math)} {op} {_py(node.right, rename, math)})"
    if isinstance(node, ast.Call):
        args = ", ".join(_py(a, rename, math) for a in node.args)
        name = node.func.id
        if name in ("hill", "step", "max", "min"):
            return f"_{name}({args})"
        return f"{math}.{name}({args})"
    raise ExpressionError(f"cannot generate code for {ast.dump(node)}")  # pragma: no cover


# ---------------------------------------------------------------- rendering for docs

_PREC = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Pow: 3}


def to_text(expr: Expr) -> str:
    """Readable infix form (``^`` for powers, ``·`` for products) for documentation."""
    return _txt(expr.tree, 0)


def _txt(node: ast.AST, parent: int) -> str:
    if isinstance(node, ast.Constant):
        v = node.value
        return f"{v:g}" if isinstance(v, float) else str(v)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.UnaryOp):
        return f"-{_txt(node.operand, 4)}" if isinstance(node.op, ast.USub) else _txt(node.operand, 4)
    if isinstance(node, ast.BinOp):
        prec = _PREC[type(node.op)]
        sym = {ast.Add: " + ", ast.Sub: " - ", ast.Mult: "·", ast.Div: "/", ast.Pow: "^"}[type(node.op)]
        right_prec = prec + 1 if isinstance(node.op, ast.Sub | ast.Div) else prec
        s = f"{_txt(node.left, prec)}{sym}{_txt(node.right, right_prec)}"
        return f"({s})" if prec < parent else s
    if isinstance(node, ast.Call):
        return f"{node.func.id}({', '.join(_txt(a, 0) for a in node.args)})"
    return "?"  # pragma: no cover



def _hill_scalar(x: float, K: float, n: float) -> float:
    x = x if x > 0.0 else 0.0
    xn = x**n
    return xn / (K**n + xn) if xn > 0.0 else 0.0


def _step_scalar(x: float, t: float) -> float:
    return 1.0 if x >= t else 0.0


#: Namespace giving the generated scalar code its meaning (see :data:`FUNCTIONS`).
SCALAR_NAMESPACE = {"math": math, "_hill": _hill_scalar, "_step": _step_scalar, "_max": max, "_min": min}


def evaluate(expr: Expr, values: dict[str, float]) -> float:
    """Numeric value of an expression for the given symbol values (scalar)."""
    rename = {n: f"v[{n!r}]" for n in expr.names}
    return float(eval(to_python(expr, rename, "math"), {**SCALAR_NAMESPACE, "v": values}))
