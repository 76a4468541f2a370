"""Engines that integrate a compiled model; the SciPy path is the reference."""

from .codegen import CompiledModel, compile_model
from .events import Event
from .reference import METHODS, Solution, SolverSettings, solve
from .status import Status

__all__ = ["METHODS", "CompiledModel", "Event", "Solution", "SolverSettings", "Status", "compile_model", "solve"]
