"""Tissue-scale lobule model: hexagonal lobules, cells and signals on a lattice, driven by the patient model.

Research software, not clinical advice. Start with `hepatwin tissue run SCENARIO.toml --out DIR` or
:func:`hepatwin.tissue.run.run_tissue`; see docs/tissue.md.
"""

from .coupling import Drivers, drivers_from_scenario
from .diffusion import StabilityWarning, diffuse, stable_dt
from .engine import Tissue, TissueResult, new_tissue
from .geometry import Geometry, build_geometry, injury_weight
from .measures import measure_all
from .rules import RuleError, load_rules, parse_rules

__all__ = ["Drivers", "Geometry", "RuleError", "StabilityWarning", "Tissue", "TissueResult", "build_geometry",
           "diffuse", "drivers_from_scenario", "injury_weight", "load_rules", "measure_all", "new_tissue",
           "parse_rules", "stable_dt"]
