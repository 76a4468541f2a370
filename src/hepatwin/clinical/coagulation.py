"""INR <-> prothrombin-time activity (Quick %, PTA) conversion.

Many European labs report the prothrombin time as an activity (Quick value, PTA,
in % of normal) rather than as an INR. The two are linked through the reagent's
calibration curve, usually modelled as a hyperbola

    PT(PTA) = a + 100 * b / PTA            (seconds; PTA in %)

so that the normal PT (PTA = 100 %) is ``a + b``, and the INR is

    INR = (PT / PT_normal) ** ISI = ((a + 100 * b / PTA) / (a + b)) ** ISI

with ISI the reagent's international sensitivity index. The inverse is

    PTA = 100 * b / ((a + b) * INR ** (1 / ISI) - a).

The default constants (a = b = 6 s, ISI = 1.0, i.e. PT 12 s at 100 % activity) are
**assumptions** describing a generic thromboplastin; they are not a published
calibration. Replace them with the calibration of the reagent that produced the data.
With the defaults, PTA 50 % gives PT 18 s and INR 1.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._checks import positive

__all__ = ["DEFAULT_REAGENT", "ReagentConstants", "inr_from_pta", "pta_from_inr"]

_ASSUMED = (
    "assumed: generic thromboplastin, PT 12 s at 100% activity; "
    "replace with the reagent's calibration"
)


@dataclass(frozen=True)
class ReagentConstants:
    """Calibration constants of the hyperbolic Quick-time relation PT = a + 100 b / PTA.

    ``a_s`` and ``b_s`` are in seconds, ``isi`` is dimensionless. The ``*_source``
    fields record where each number comes from.
    """

    a_s: float = 6.0
    b_s: float = 6.0
    isi: float = 1.0
    a_s_source: str = _ASSUMED
    b_s_source: str = _ASSUMED
    isi_source: str = _ASSUMED


#: The default (assumed, generic) reagent.
DEFAULT_REAGENT = ReagentConstants()


def _check_constants(a: float, b: float, isi: float) -> None:
    for name, val, ok, expected in (
        ("a", a, lambda v: v >= 0, "a finite number >= 0 (seconds)"),
        ("b", b, lambda v: v > 0, "a finite number > 0 (seconds)"),
        ("isi", isi, lambda v: v > 0, "a finite number > 0"),
    ):
        try:
            fval = float(val)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be {expected}; got {val!r}") from None
        if not np.isfinite(fval) or not ok(fval):
            raise ValueError(f"{name} must be {expected}; got {val!r}")


def _out(arr: np.ndarray) -> float | np.ndarray:
    return float(arr) if arr.ndim == 0 else arr


def inr_from_pta(
    pta_percent: ArrayLike,
    a: float = DEFAULT_REAGENT.a_s,
    b: float = DEFAULT_REAGENT.b_s,
    isi: float = DEFAULT_REAGENT.isi,
) -> float | np.ndarray:
    """INR from prothrombin-time activity (%): ``((a + 100 b / PTA) / (a + b)) ** isi``.

    Raises ValueError if any PTA is not a finite number > 0.
    """
    _check_constants(a, b, isi)
    pta = positive("pta_percent", pta_percent, "a finite prothrombin activity > 0 %")
    pt = a + 100.0 * b / pta
    return _out((pt / (a + b)) ** isi)


def pta_from_inr(
    inr: ArrayLike,
    a: float = DEFAULT_REAGENT.a_s,
    b: float = DEFAULT_REAGENT.b_s,
    isi: float = DEFAULT_REAGENT.isi,
) -> float | np.ndarray:
    """Prothrombin-time activity (%) from INR: ``100 b / ((a + b) INR ** (1/isi) - a)``.

    Raises ValueError if any INR is not a finite number > 0, or is so low that the
    reagent's curve has no finite activity for it (``(a + b) INR ** (1/isi) <= a``).
    """
    _check_constants(a, b, isi)
    arr = positive("inr", inr, "a finite INR > 0")
    ratio = arr ** (1.0 / isi)
    denom = (a + b) * ratio - a
    if np.any(denom <= 0):
        first = arr[denom <= 0].ravel()[:1].tolist()[0] if arr.ndim else arr.item()
        lowest = (a / (a + b)) ** isi
        raise ValueError(
            f"inr must be above {lowest:.4g} for these reagent constants "
            f"(a={a}, b={b}, isi={isi}): PT would be at or below the asymptote a; got {first!r}"
        )
    return _out(100.0 * b / denom)
