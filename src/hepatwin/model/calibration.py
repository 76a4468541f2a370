"""Fitted values of `calibrated:` parameters, stored as data (calibration.toml) by `hepatwin calibrate --write`."""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path

#: the shipped fit (package data); `hepatwin calibrate --write FILE` writes a file the user names instead
CALIBRATION_FILE = Path(__file__).with_name("calibration.toml")
#: environment variable naming a calibration file to use instead of the shipped one
CALIBRATION_ENV = "HEPATWIN_CALIBRATION"


def calibration_file() -> Path:
    """The calibration file in use: $HEPATWIN_CALIBRATION if set, else the shipped one."""
    return Path(os.environ[CALIBRATION_ENV]) if os.environ.get(CALIBRATION_ENV) else CALIBRATION_FILE


@cache
def calibrated_values() -> dict[str, dict]:
    """name -> {value, target, objective, ...} from the calibration file in use (empty when there is none)."""
    path = calibration_file()
    if not path.exists():
        if path != CALIBRATION_FILE:
            raise FileNotFoundError(f"{CALIBRATION_ENV}={path}: no such calibration file")
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8")).get("parameters", {})


def calibrated_value(name: str, default: float) -> float:
    """The fitted value of `name`, or `default` (the table's starting value) if it was not fitted."""
    entry = calibrated_values().get(name)
    return float(entry["value"]) if entry else float(default)
