"""Virtual populations: sampling, burn-in to baseline, acceptance criteria, selection to targets."""

from .config import PopulationConfig, load_population
from .generate import PopulationResult, ScreeningError, generate, sample

__all__ = ["PopulationConfig", "PopulationResult", "ScreeningError", "generate", "load_population", "sample"]
