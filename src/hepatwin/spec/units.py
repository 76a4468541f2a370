"""One pint registry for the whole package, with a `cell` count dimension.

Units are parsed once at the boundary (spec declarations, scenario files) and
compared by dimension *and* scale, so `percent` and `1` are not silently mixed.
"""

from __future__ import annotations

from functools import lru_cache

import pint

ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
ureg.define("cell = [cell_count] = cells")

Q_ = ureg.Quantity


class UnitError(ValueError):
    """A unit string that cannot be parsed or does not fit where it is used."""


@lru_cache(maxsize=512)
def parse_unit(text: str) -> pint.Unit:
    """Parse a unit string ('1/day', 'g/L', 'umol/L', 'cell', '1') into a pint Unit."""
    cleaned = text.strip().replace("µ", "u").replace("μ", "u")
    if cleaned in ("", "1", "dimensionless"):
        return ureg.dimensionless
    try:
        unit = ureg.parse_units(cleaned)
    except Exception as exc:  # pint raises several error types for bad strings
        raise UnitError(f"cannot parse unit {text!r}: {exc}") from None
    return unit


def scale_factor(src: pint.Unit, dst: pint.Unit) -> float:
    """Multiplier converting a value in `src` to `dst`; raises UnitError if incompatible."""
    try:
        return float(Q_(1.0, src).to(dst).magnitude)
    except pint.DimensionalityError:
        raise UnitError(f"unit {format_unit(src)!r} is not compatible with {format_unit(dst)!r}") from None


def same_unit(a: pint.Unit, b: pint.Unit, rtol: float = 1e-12) -> bool:
    """True when a and b have the same dimension and the same scale."""
    try:
        return abs(scale_factor(a, b) - 1.0) <= rtol
    except UnitError:
        return False


def format_unit(unit: pint.Unit) -> str:
    """Compact human-readable unit ('1' for dimensionless)."""
    if unit == ureg.dimensionless:
        return "1"
    return f"{unit:~C}"
