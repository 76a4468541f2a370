"""Simulation results as labelled arrays (xarray), with clinical scores computed from the labs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from . import DISCLAIMER
from .clinical.panel import lab_scores
from .model.catalog import SCORES as CATALOG_SCORES
from .model.catalog import VITALS

#: score variable -> (unit, description), from the model's catalog
SCORES = {name: (s.unit, s.description) for name, s in CATALOG_SCORES.items()}


def build_dataset(model, t: np.ndarray, y: np.ndarray, params: np.ndarray, scenario) -> xr.Dataset:
    """States, derived quantities and scores on a `time` axis (days), units in attrs."""
    spec = model.spec
    coords = {"time": ("time", t, {"units": "day", "long_name": "study day (0 = baseline)"})}
    data = {}
    for i, name in enumerate(model.state_names):
        st = spec.states[name]
        data[name] = ("time", y[i], {"units": st.unit, "long_name": st.description, "kind": "state",
                                     "module": spec.module_of[name]})
    ok = np.all(np.isfinite(y), axis=0)
    derived = model.derived(np.where(ok, y, 0.0), params)
    for name, values in zip(model.derived_names, derived, strict=True):
        d = spec.derived[name]
        values = np.where(ok, values, np.nan)
        data[name] = ("time", values, {"units": d.unit, "long_name": d.description,
                                       "kind": "observable" if d.observable else "derived",
                                       "module": spec.module_of[name]})
    ds = xr.Dataset(data, coords=coords)
    if ok.any():
        add_scores(ds, female=scenario.patient.sex == "female", valid=ok, age_years=scenario.patient.age_years)
    ds.attrs.update({"title": scenario.name, "model": spec.name, "disclaimer": DISCLAIMER,
                     "etiology": scenario.patient.etiology, "sex": scenario.patient.sex})
    return ds


def add_scores(ds: xr.Dataset, female: bool, valid: np.ndarray | None = None,
               age_years: float | np.ndarray | None = None) -> None:
    """Add every clinical score (`clinical.panel.lab_scores`: Child-Pugh, MELD, MELD-Na, MELD 3.0, ALBI, FIB-4,
    APRI, CLIF-C AD, CLIF-C ACLF) computed from the lab variables and vital signs; `age_years` defaults
    to the dataset's `age_years` attribute."""
    n = ds.sizes["time"]
    valid = np.ones(n, dtype=bool) if valid is None else valid
    age = ds.attrs.get("age_years", np.nan) if age_years is None else age_years
    labs = {k: ds[k].values[valid] for k in ("Bil", "Alb", "INR", "Cr", "Na", "AST", "ALT", "PLT", "WBC", *VITALS)}
    values = lab_scores(labs, female=female, age_years=age, ascites_grade=ds["ascites_grade"].values[valid],
                        he_grade=ds["he_grade"].values[valid])
    for name, (unit, desc) in SCORES.items():
        v = values[name]
        full = np.full(n, "", dtype=object) if v.dtype.kind in "US" else np.full(n, np.nan)
        full[valid] = v
        if v.dtype.kind in "US":
            full = full.astype(str)
        ds[name] = ("time", full, {"units": unit, "long_name": desc, "kind": "score", "module": "clinical"})


@dataclass
class SimulationResult:
    """One simulated patient: data, status and provenance."""

    dataset: xr.Dataset
    scenario: object
    status: str
    message: str
    timings: dict[str, float]
    solver: dict
    events: list[dict] = field(default_factory=list)
    version: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def at(self, day: float) -> dict[str, float]:
        """Values of every numeric variable at an output day."""
        row = self.dataset.sel(time=day)
        return {k: (row[k].item()) for k in row.data_vars}

    def timeline(self) -> list[dict]:
        """The patient's course as dated entries, in day order: what the scenario planned (therapy, infusions,
        events it names) and the clinical events the model made happen (from the states counting them, dated
        by the first output day that shows them). Each entry: day, what, kind ("planned" or "model")."""
        from .model.catalog import EVENTS

        out = [{"day": e["day"], "what": e["label"], "kind": "planned"} for e in self.events
               if not e["label"].startswith("baseline")]
        given = {(e["day"], e["what"].removesuffix(" (given)")) for e in out}
        t = self.dataset["time"].values
        for name, ev in EVENTS.items():
            if not ev.counter or ev.counter not in self.dataset:
                continue
            count = self.dataset[ev.counter].values
            label = name.replace("_", " ")
            for k in np.flatnonzero(np.diff(count) > 0.5) + 1:
                # an event the scenario names shows at the output day after it: not the model's own
                if any(label == what and t[k - 1] <= day <= t[k] for day, what in given):
                    continue
                out.append({"day": float(t[k]), "what": label, "kind": "model"})
        return sorted(out, key=lambda e: e["day"])

    def to_frame(self) -> pd.DataFrame:
        """Tidy long table: time, variable, value, unit, kind, module."""
        frames = []
        for name, da in self.dataset.data_vars.items():
            if da.dtype.kind in "USO":
                continue
            frames.append(pd.DataFrame({
                "time_day": self.dataset["time"].values, "variable": name, "value": da.values.astype(float),
                "unit": da.attrs.get("units", ""), "kind": da.attrs.get("kind", ""),
                "module": da.attrs.get("module", ""),
            }))
        return pd.concat(frames, ignore_index=True)
