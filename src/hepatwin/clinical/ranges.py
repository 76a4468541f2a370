"""Plausible ranges of the lab values a user types in: a value outside is taken as a unit or typing error.

The bounds are wide on purpose (assumed: beyond values reported in living patients, so that no real result
is refused); they catch a g/dL albumin entered as g/L, a sodium with an extra digit, a swapped argument.
"""

from __future__ import annotations

import numpy as np

# analyte: (low, high, unit, low inclusive); canonical units of the score functions
LAB_RANGES: dict[str, tuple[float, float, str, bool]] = {
    "bilirubin": (0.0, 100.0, "mg/dL", False),      # > 0: MELD takes its logarithm
    "albumin": (5.0, 80.0, "g/L", True),
    "creatinine": (0.0, 30.0, "mg/dL", False),
    "inr": (0.5, 20.0, "", True),
    "sodium": (100.0, 200.0, "mmol/L", True),
}


def check_lab_ranges(values: dict[str, float], shown: dict[str, str] | None = None) -> None:
    """Raise ValueError for the first value outside LAB_RANGES. `values` are in the canonical units above;
    `shown` maps an analyte to how the user gave it (for example "--albumin 2.8 g/L") for the message."""
    shown = shown or {}
    for name, value in values.items():
        lo, hi, unit, lo_in = LAB_RANGES[name]
        v = float(value)
        ok = np.isfinite(v) and (v >= lo if lo_in else v > lo) and v <= hi
        if not ok:
            given = shown.get(name, f"{name} {v:g} {unit}".rstrip())
            bound = f"{'from' if lo_in else 'above'} {lo:g} to {hi:g} {unit}".rstrip()
            raise ValueError(f"{given}: outside the plausible range ({bound}); check the value and its unit")
