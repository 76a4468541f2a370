"""The sensitivity problem generated from the model spec: parameters with their declared ranges (log-uniform
where the range spans more than a factor of 10), chosen by name, by module (`module:fibrosis`) or all."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..spec.model import ModelSpec

#: parameters that are not uncertain quantities: set by the scenario or the plan (indicators, switches,
#: covariates, the engine's event thresholds), or fixed conventions
_NOT_UNCERTAIN_PREFIXES = ("etio_", "cs_", "thr_", "seed_", "on_")
_NOT_UNCERTAIN = {"ctl", "hz_on", "age", "inj_scale"}


@dataclass(frozen=True)
class Problem:
    """Parameters and bounds in the sampling space (log10 for log-uniform ones)."""

    names: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    log: tuple[bool, ...]

    @property
    def salib(self) -> dict:
        """The SALib problem dictionary (bounds in the sampling space)."""
        bounds = [[np.log10(lo), np.log10(hi)] if lg else [lo, hi]
                  for lo, hi, lg in zip(self.lower, self.upper, self.log, strict=True)]
        return {"num_vars": len(self.names), "names": list(self.names), "bounds": bounds}

    def to_values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Parameter values (name -> column) of samples `x` (rows x parameters) in the sampling space."""
        return {n: (10.0 ** x[:, j] if lg else x[:, j]) for j, (n, lg) in enumerate(zip(self.names, self.log,
                                                                                          strict=True))}


def uncertain(spec: ModelSpec, name: str) -> bool:
    """A parameter with a range to explore: declared lower < upper, a constant, not set by the scenario."""
    p = spec.parameters[name]
    return (p.constant and p.lower < p.upper and name not in _NOT_UNCERTAIN
            and not name.startswith(_NOT_UNCERTAIN_PREFIXES))


def make_problem(spec: ModelSpec, selection: list[str] | None = None,
                 ranges: dict[str, tuple[float, float]] | None = None) -> Problem:
    """The problem over `selection` (parameter names and `module:NAME` entries; None: every uncertain
    parameter), with declared ranges unless `ranges` overrides some. Unknown names, empty sets and a range with
    low >= high are InputErrors naming them."""
    modules = {m.name: m for m in spec.modules}
    names: list[str] = []
    for item in selection if selection is not None else ["*"]:
        if item == "*":
            names += [n for n in spec.parameter_names if uncertain(spec, n)]
        elif item.startswith("module:"):
            mod = item.removeprefix("module:")
            if mod not in modules:
                raise InputError(f"--params {item!r}: unknown module {mod!r}; expected one of {', '.join(modules)}")
            names += [p.name for p in modules[mod].parameters if uncertain(spec, p.name)]
        elif item in spec.parameters:
            if not uncertain(spec, item):
                raise InputError(f"--params {item!r}: not an uncertain parameter (set by the scenario, a switch, or "
                                 f"with no range: {spec.parameters[item].lower:g} to {spec.parameters[item].upper:g})")
            names.append(item)
        else:
            import difflib

            close = difflib.get_close_matches(item, spec.parameter_names, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise InputError(f"--params {item!r}: unknown parameter{hint}")
    names = list(dict.fromkeys(names))
    if not names:
        raise InputError("--params: the parameter set is empty; expected parameter names or module:NAME")
    lower, upper, log = [], [], []
    for n in names:
        p = spec.parameters[n]
        lo, hi = (ranges or {}).get(n, (p.lower, p.upper))
        if not lo < hi:
            raise InputError(f"range of {n}: low {lo:g} >= high {hi:g}; expected low < high")
        lower.append(float(lo))
        upper.append(float(hi))
        log.append(bool(lo > 0 and hi / lo > 10.0))
    return Problem(tuple(names), tuple(lower), tuple(upper), tuple(log))
