"""Global sensitivity analysis (SALib: Morris, Sobol, eFAST) of clinical outputs, and mechanism attribution
(exact Shapley values over the knock-outs of the MSC mechanisms), for one scenario's patient or the patients of
a trial protocol's arm."""

from .attribution import attribute, attribute_scenario, attribute_target, shapley
from .run import Success, run_sensitivity, scenario_sensitivity, target_sensitivity
from .target import Target, load_target

__all__ = ["Success", "Target", "attribute", "attribute_scenario", "attribute_target", "load_target",
           "run_sensitivity", "scenario_sensitivity", "shapley", "target_sensitivity"]
