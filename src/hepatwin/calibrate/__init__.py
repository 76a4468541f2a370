"""Calibration and validation against published findings."""

from .validation import FITTED, Row, validate

__all__ = ["FITTED", "Row", "validate"]
