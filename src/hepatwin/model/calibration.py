"""Fitted values of `calibrated:` parameters, stored as data (calibration.toml) by `hepatwin calibrate --write`."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

CALIBRATION_FILE = Path(__file__).with_name("calibration.toml")


@cache
def calibrated_values() -> dict[str, dict]:
    """name -> {value, target, objective, ...} from calibration.toml (empty when there is none)."""
    if not CALIBRATION_FILE.exists():
        return {}
    return tomllib.loads(CALIBRATION_FILE.read_text(encoding="utf-8")).get("parameters", {})


def calibrated_value(name: str, default: float) -> float:
    """The fitted value of `name`, or `default` (the table's starting value) if it was not fitted."""
    entry = calibrated_values().get(name)
    return float(entry["value"]) if entry else float(default)
