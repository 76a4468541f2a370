"""Tissue-model parameters (`params.toml`): value, unit, plausible range and source for each.

Rates of collagen synthesis and turnover are not repeated here: the tissue takes them from the
patient model (`sC`, `c_basal`, `kdeg`, `kx`, `kdx`, `A_ref`, `kc_liver`) so both scales share one budget.
"""

from __future__ import annotations

import difflib
import tomllib
from importlib import resources

from ..spec.model import Parameter


def _load() -> dict[str, Parameter]:
    data = tomllib.loads(resources.files("hepatwin.tissue").joinpath("params.toml").read_text(encoding="utf-8"))
    out = {}
    for name, row in data.items():
        lo, hi = row["range"]
        p = Parameter(name, float(row["value"]), row["unit"], float(lo), float(hi), row["source"],
                      row.get("description", ""))
        kind = p.source_info.kind
        if kind in ("missing", "invalid"):
            raise ValueError(f"params.toml [{name}]: source {p.source!r} is not a citation, calibrated: or assumed:")
        if not lo <= p.value <= hi:
            raise ValueError(f"params.toml [{name}]: value {p.value} outside its range [{lo}, {hi}]")
        out[name] = p
    return out


PARAMS: dict[str, Parameter] = _load()
PARAMETERS: tuple[Parameter, ...] = tuple(PARAMS.values())


def param_values(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Default values with `overrides` applied; unknown names and values outside the range are refused."""
    vals = {k: p.value for k, p in PARAMS.items()}
    for k, v in (overrides or {}).items():
        if k not in PARAMS:
            near = difflib.get_close_matches(k, list(PARAMS), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ValueError(f"unknown tissue parameter {k!r}{hint}")
        p = PARAMS[k]
        if not p.lower <= float(v) <= p.upper:
            raise ValueError(f"tissue parameter {k} = {v} {p.unit} is outside its plausible range "
                             f"[{p.lower}, {p.upper}]")
        vals[k] = float(v)
    return vals
