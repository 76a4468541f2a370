"""Short constructors used by the model modules to keep tables readable."""

from __future__ import annotations

from ..spec.model import Derived, Parameter, Process, State
from .calibration import calibrated_value


def P(name: str, value: float, unit: str, lower: float, upper: float, source: str,
      description: str = "", constant: bool = True) -> Parameter:
    """A parameter row: name, value, unit, plausible range, source, meaning.

    For a `calibrated:` parameter, `value` is the starting point and the fitted value stored by
    `hepatwin calibrate --write` (model/calibration.toml) is used when there is one.
    """
    if source.lower().startswith("calibrated:"):
        value = calibrated_value(name, value)
    return Parameter(name, float(value), unit, float(lower), float(upper), source, description, constant)


def S(name: str, unit: str, initial: float, description: str = "", scale: float | None = None, *,
      bounds: tuple[float, float]) -> State:
    """A state row with its healthy-adult value (and typical magnitude when that value is 0) and the range a
    value given for a patient must lie in (assumed, wide: beyond values seen in living patients, so that only
    unit and typing errors are refused)."""
    return State(name, unit, float(initial), description, scale, float(bounds[0]), float(bounds[1]))


def D(name: str, expr: str, unit: str, description: str = "", observable: bool = False) -> Derived:
    """A derived quantity (assignment rule)."""
    return Derived(name, expr, unit, description, observable)


def R(name: str, rate: str, stoich: dict[str, float], description: str = "") -> Process:
    """A process (flux) with its stoichiometry."""
    return Process(name, rate, stoich, description)


def switch(name: str, module: str) -> Parameter:
    """The on/off parameter through which a scenario knocks out `module`."""
    return P(name, 1.0, "1", 0.0, 1.0, f"assumed: structural switch, 0 knocks out {module}",
             f"1 = {module} active, 0 = knocked out")
