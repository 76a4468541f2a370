"""Input validation shared by the clinical functions."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def first_bad(arr: np.ndarray, bad: np.ndarray) -> Any:
    """The first offending element, for error messages."""
    return arr[bad].ravel()[:1].tolist()[0] if arr.ndim else arr.item()


def positive(name: str, value: ArrayLike, expected: str) -> np.ndarray:
    """A finite, strictly positive value or array; ValueError naming `name` otherwise."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {expected}; got {value!r}") from None
    bad = ~np.isfinite(arr) | (arr <= 0)
    if np.any(bad):
        raise ValueError(f"{name} must be {expected}; got {first_bad(arr, bad)!r}")
    return arr


def flag(name: str, value: Any) -> np.ndarray:
    """A yes/no flag: bool, 0/1, or an array of them."""
    arr = np.asarray(value)
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype.kind in "iuf":
        bad = ~np.isin(arr, (0, 1))
        if not np.any(bad):
            return arr.astype(bool)
        raise ValueError(f"{name} must be True/False (or 1/0); got {first_bad(arr, bad)!r}")
    raise ValueError(f"{name} must be True/False (or 1/0); got {value!r}")


def int_out(arr: np.ndarray) -> int | np.ndarray:
    """A whole-number result: a Python int for a scalar input, an int64 array otherwise."""
    arr = np.asarray(arr).astype(np.int64)
    return int(arr) if arr.ndim == 0 else arr


def float_out(arr: np.ndarray) -> float | np.ndarray:
    """A real result: a Python float for a scalar input, a float array otherwise."""
    arr = np.asarray(arr, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def bool_out(arr: np.ndarray) -> bool | np.ndarray:
    """A yes/no result: a Python bool for a scalar input, a bool array otherwise."""
    arr = np.asarray(arr, dtype=bool)
    return bool(arr) if arr.ndim == 0 else arr


#: assumed: a plausibility bound on ages that catches ages given in days or months
AGE_MAX_YEARS = 120.0


def check_age(value: ArrayLike) -> np.ndarray:
    """Ages in years, each > 0 and <= AGE_MAX_YEARS; a ValueError naming the first one that is not."""
    expected = f"an age in years, > 0 and <= {AGE_MAX_YEARS:g}"
    arr = positive("age_years", value, expected)
    bad = arr > AGE_MAX_YEARS
    if np.any(bad):
        raise ValueError(f"age_years must be {expected}; got {first_bad(arr, bad)!r}")
    return arr
