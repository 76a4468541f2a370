"""Unit conversions for the lab values used by the clinical scores.

Mass-concentration units (mg/dL, g/L, ...) and amount-concentration units
(umol/L, mmol/L, ...) are parsed with the package's single pint registry
(:data:`hepatwin.spec.units.ureg`). Crossing from mass to amount of substance uses
the clinical convention factors, not a molar mass from a chemistry table:

* bilirubin: 1 mg/dL = 17.1 umol/L (:data:`BILIRUBIN_UMOL_L_PER_MG_DL`)
* creatinine: 1 mg/dL = 88.4 umol/L (:data:`CREATININE_UMOL_L_PER_MG_DL`)

(These correspond to molar masses of 584.8 and 113.1 g/mol; the textbook values are
584.66 and 113.12 g/mol, so the convention differs from them by less than 0.03 %.)

Accepted unit strings: ``"mg/dL"``, ``"umol/L"``, ``"µmol/L"`` (micro sign) and
``"μmol/L"`` (Greek mu) for bilirubin and creatinine; ``"g/L"`` and ``"g/dL"`` for
albumin. Any other mass-concentration unit pint understands (``"mg/L"``, ``"g/dL"``),
and for bilirubin and creatinine any amount-concentration unit (``"mmol/L"``), is
accepted as well. Everything else raises :class:`ValueError`.

Results are rounded to 10 decimal places to remove binary floating-point noise
(for example 51.3 umol/L gives exactly 3.0 mg/dL, not 2.9999999999999996), so that
values converted onto a score band edge land on it. That is far below any lab's
precision.

All functions accept floats or numpy arrays and return a float for scalar input.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from ..spec.units import ureg

__all__ = [
    "ALBUMIN_G_L_PER_G_DL",
    "BILIRUBIN_UMOL_L_PER_MG_DL",
    "CREATININE_UMOL_L_PER_MG_DL",
    "to_g_dl_albumin",
    "to_g_l_albumin",
    "to_mg_dl_bilirubin",
    "to_mg_dl_creatinine",
    "to_umol_l_bilirubin",
    "to_umol_l_creatinine",
    "ureg",
]

#: Clinical convention: 1 mg/dL total bilirubin = 17.1 umol/L.
BILIRUBIN_UMOL_L_PER_MG_DL = 17.1
#: Clinical convention: 1 mg/dL creatinine = 88.4 umol/L.
CREATININE_UMOL_L_PER_MG_DL = 88.4
#: 1 g/dL = 10 g/L (exact, no convention involved).
ALBUMIN_G_L_PER_G_DL = 10.0

_DECIMALS = 10

_MASS_CANONICAL = ureg.parse_units("mg/dL")
_AMOUNT_CANONICAL = ureg.parse_units("umol/L")
_MASS_DIM = _MASS_CANONICAL.dimensionality
_AMOUNT_DIM = _AMOUNT_CANONICAL.dimensionality

_ACCEPTED_MOLAR = (
    "'mg/dL', 'umol/L', 'µmol/L', 'μmol/L' "
    "(or another mass- or amount-concentration unit such as 'mg/L', 'mmol/L')"
)
_ACCEPTED_ALBUMIN = "'g/L', 'g/dL' (or another mass-concentration unit such as 'mg/dL')"

_Kind = Literal["mass", "amount"]


def _classify(unit: str, analyte: str, allow_amount: bool) -> tuple[_Kind, float]:
    """Return the kind of unit and the factor to its canonical unit (mg/dL or umol/L)."""
    accepted = _ACCEPTED_MOLAR if allow_amount else _ACCEPTED_ALBUMIN
    if not isinstance(unit, str):
        raise ValueError(f"{analyte} unit must be a string; got {unit!r}. Accepted: {accepted}")
    cleaned = unit.strip().replace("µ", "u").replace("μ", "u")
    try:
        parsed = ureg.parse_units(cleaned)
    except Exception:  # pint/tokenize raise many error types for malformed strings
        parsed = None
    if parsed is not None and parsed.dimensionality == _MASS_DIM:
        factor = float(ureg.Quantity(1.0, parsed).to(_MASS_CANONICAL).magnitude)
        return "mass", factor
    if allow_amount and parsed is not None and parsed.dimensionality == _AMOUNT_DIM:
        factor = float(ureg.Quantity(1.0, parsed).to(_AMOUNT_CANONICAL).magnitude)
        return "amount", factor
    raise ValueError(f"unknown {analyte} unit {unit!r}; accepted: {accepted}")


def _values(value: ArrayLike, analyte: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{analyte} must be a number or an array of numbers; got {value!r}"
        ) from None
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        first = arr[bad].ravel()[:1].tolist()[0] if arr.ndim else arr.item()
        raise ValueError(f"{analyte} must be a finite, non-negative concentration; got {first!r}")
    return arr


def _out(arr: np.ndarray) -> float | np.ndarray:
    arr = np.round(arr, _DECIMALS) + 0.0  # "+ 0.0" turns -0.0 into 0.0
    if arr.ndim == 0:
        return float(arr)
    return arr


def _to_mg_dl(value: ArrayLike, unit: str, analyte: str, umol_per_mg_dl: float):
    arr = _values(value, analyte)
    kind, factor = _classify(unit, analyte, allow_amount=True)
    if kind == "mass":
        return _out(arr * factor)
    return _out(arr * factor / umol_per_mg_dl)


def _to_umol_l(value: ArrayLike, unit: str, analyte: str, umol_per_mg_dl: float):
    arr = _values(value, analyte)
    kind, factor = _classify(unit, analyte, allow_amount=True)
    if kind == "amount":
        return _out(arr * factor)
    return _out(arr * factor * umol_per_mg_dl)


def to_mg_dl_bilirubin(value: ArrayLike, unit: str) -> float | np.ndarray:
    """Total bilirubin in mg/dL (1 mg/dL = 17.1 umol/L, clinical convention)."""
    return _to_mg_dl(value, unit, "bilirubin", BILIRUBIN_UMOL_L_PER_MG_DL)


def to_umol_l_bilirubin(value: ArrayLike, unit: str) -> float | np.ndarray:
    """Total bilirubin in umol/L (1 mg/dL = 17.1 umol/L, clinical convention)."""
    return _to_umol_l(value, unit, "bilirubin", BILIRUBIN_UMOL_L_PER_MG_DL)


def to_mg_dl_creatinine(value: ArrayLike, unit: str) -> float | np.ndarray:
    """Serum creatinine in mg/dL (1 mg/dL = 88.4 umol/L, clinical convention)."""
    return _to_mg_dl(value, unit, "creatinine", CREATININE_UMOL_L_PER_MG_DL)


def to_umol_l_creatinine(value: ArrayLike, unit: str) -> float | np.ndarray:
    """Serum creatinine in umol/L (1 mg/dL = 88.4 umol/L, clinical convention)."""
    return _to_umol_l(value, unit, "creatinine", CREATININE_UMOL_L_PER_MG_DL)


def to_g_l_albumin(value: ArrayLike, unit: str) -> float | np.ndarray:
    """Serum albumin in g/L (1 g/dL = 10 g/L)."""
    arr = _values(value, "albumin")
    _, factor = _classify(unit, "albumin", allow_amount=False)  # factor to mg/dL
    return _out(arr * factor / 100.0)  # 1 mg/dL = 0.01 g/L


def to_g_dl_albumin(value: ArrayLike, unit: str) -> float | np.ndarray:
    """Serum albumin in g/dL (1 g/dL = 10 g/L)."""
    arr = _values(value, "albumin")
    _, factor = _classify(unit, "albumin", allow_amount=False)  # factor to mg/dL
    return _out(arr * factor / 1000.0)  # 1 mg/dL = 0.001 g/dL
