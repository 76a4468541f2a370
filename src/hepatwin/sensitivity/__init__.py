"""Global sensitivity analysis (SALib: Morris, Sobol, eFAST) of clinical outputs, and mechanism attribution
(exact Shapley values over the knock-outs of the MSC mechanisms)."""

from .attribution import attribute, attribute_scenario, shapley
from .run import run_sensitivity, scenario_sensitivity

__all__ = ["attribute", "attribute_scenario", "run_sensitivity", "scenario_sensitivity", "shapley"]
