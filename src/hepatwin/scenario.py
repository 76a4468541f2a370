"""Scenario files (TOML): one patient, background therapy, MSC regimens, run settings.

Validated with pydantic; every error names the field, the value and what was expected.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputFileError
from .model import CELL_SOURCES, ROUTES, build_model
from .model.catalog import (
    THERAPIES,
    THERAPY_OF,
    CellSourceName,
    EtiologyName,
    RouteName,
    SexName,
    StateEventName,
    TherapyName,
)

DOSE_UNITS = ("cells", "cells/kg")
# assumed: about ten times the largest per-infusion MSC doses of clinical trials (~1e9 cells, ~1e7 cells/kg);
# a larger dose is taken as a typing error in the exponent
MAX_DOSE = {"cells": 1e10, "cells/kg": 1.5e8}
# assumed: about a hundredth of the smallest per-infusion MSC doses of clinical trials (~1e7 cells, ~1e5
# cells/kg); a smaller dose is taken as a typing error (a missing exponent)
MIN_DOSE = {"cells": 1e5, "cells/kg": 1e3}
# assumed: infusion volumes of MSC trials are tens to a few hundred mL; a litre is far beyond any of them
VOLUME_ML = (1.0, 1000.0)
SOLVER_METHODS = ("LSODA", "BDF", "Radau")
#: plausible ranges of a patient's characteristics and history, for scenarios and population files alike
#: (assumed: adults; weights of living adults; a disease history no longer than a lifetime; injury_scale as
#: documented for the injury module)
PATIENT_RANGES: dict[str, tuple[float, float, str]] = {
    "age_years": (18.0, 100.0, "years"), "weight_kg": (20.0, 300.0, "kg"),
    "years": (0.0, 80.0, "years"), "injury_scale": (0.0, 5.0, ""),
}


def _ranged(name: str):
    lo, hi, _ = PATIENT_RANGES[name]
    return Annotated[float, Field(ge=lo, le=hi, allow_inf_nan=False)]

Finite = Annotated[float, Field(allow_inf_nan=False)]
PosFinite = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class ScenarioError(InputFileError):
    """A scenario file (or object) that cannot be used; the message is meant for the user."""


class _Strict(BaseModel):
    # validate_assignment: a scenario edited in Python (`regimen[0].dose = -5`) is checked as a file would be
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True, validate_assignment=True)


class History(_Strict):
    """Disease history to burn in before baseline (day 0), starting from a healthy liver."""

    years: _ranged("years")
    injury_scale: _ranged("injury_scale") = 1.0


class Patient(_Strict):
    etiology: EtiologyName
    sex: SexName = "male"
    age_years: _ranged("age_years") = 50.0
    weight_kg: _ranged("weight_kg") = 70.0
    history: History | None = None
    baseline: dict[str, Finite] | None = Field(
        default=None, description="state values at day 0 (others from the healthy state)")

    @model_validator(mode="after")
    def _one_start(self) -> Patient:
        if self.history is None and self.baseline is None:
            raise ValueError("give either [patient.history] (disease to burn in) or [patient.baseline] (state values)")
        if self.history is not None and self.baseline is not None:
            raise ValueError("give [patient.history] or [patient.baseline], not both")
        return self

    @field_validator("baseline")
    @classmethod
    def _known_states(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        states = build_model().states
        for name, value in v.items():
            if name not in states:
                raise ValueError(f"unknown state {name!r}; expected one of {', '.join(states)}")
            problem = states[name].check(value)
            if problem:
                raise ValueError(f"state {name} = {value:g} is {problem}")
        return v


class Therapy(_Strict):
    """Cause control (antivirals, abstinence, lifestyle, immunosuppression, UDCA) starting on `start_day`
    (negative: started during the disease history, before baseline)."""

    kind: TherapyName
    start_day: Finite = 0.0


class Regimen(_Strict):
    """An MSC course: one cell source, dose per infusion, route, infusion days."""

    cell_source: CellSourceName = "umbilical_cord"
    dose: PosFinite
    dose_unit: str = "cells"
    route: RouteName = "peripheral_iv"
    days: list[Finite] = Field(min_length=1)
    volume_ml: Annotated[float, Field(ge=VOLUME_ML[0], le=VOLUME_ML[1], allow_inf_nan=False)] | None = None

    @field_validator("dose_unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        if v not in DOSE_UNITS:
            raise ValueError(f"dose unit {v!r} is not supported; expected one of {', '.join(DOSE_UNITS)}")
        return v

    @model_validator(mode="after")
    def _plausible_dose(self) -> Regimen:
        top, low = MAX_DOSE[self.dose_unit], MIN_DOSE[self.dose_unit]
        if self.dose > top:
            raise ValueError(f"dose {self.dose:g} {self.dose_unit} per infusion is above the plausible {top:g} "
                             f"{self.dose_unit}; check the exponent")
        if self.dose < low:
            raise ValueError(f"dose {self.dose:g} {self.dose_unit} per infusion is below the plausible {low:g} "
                             f"{self.dose_unit}; check the exponent")
        return self

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[float]) -> list[float]:
        if any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError(f"infusion days {v} must be strictly increasing")
        if v[0] < 0:
            raise ValueError(f"infusion day {v[0]} is before baseline (day 0)")
        return v


class ClinicalEvent(_Strict):
    """An event the scenario says happens (a variceal bleed on day 30): the same state changes as when the
    model's hazard makes it happen."""

    kind: StateEventName
    day: Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Simulation(_Strict):
    end_day: PosFinite = 169.0
    output_step_days: PosFinite | None = 1.0
    output_days: list[Finite] | None = None
    knockouts: list[str] = Field(default_factory=list)
    method: Literal["LSODA", "BDF", "Radau"] = "LSODA"
    rtol: Annotated[float, Field(gt=0, lt=1e-2, allow_inf_nan=False)] = 1e-6
    atol: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = 1e-9
    #: random clinical events (bleeding, HCC) from the patient's own stream; off, the report shows each event's
    #: probability (from its cumulative hazard) and only the events the scenario names happen
    random_events: bool = False
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0

    @field_validator("output_days")
    @classmethod
    def _increasing(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("output_days is empty")
        for a, b in itertools.pairwise(v):
            if b <= a:
                raise ValueError(f"output days must be strictly increasing; {b} follows {a}")
        return v

    @field_validator("knockouts")
    @classmethod
    def _knockouts(cls, v: list[str]) -> list[str]:
        valid = build_model().switches
        out = []
        for name in v:
            full = name if name in valid else f"msc_{name}"
            if full not in valid:
                short = ", ".join(k.removeprefix("msc_") for k in valid)
                raise ValueError(f"unknown knock-out {name!r}; expected one of {short} (with or without 'msc_')")
            out.append(full)
        return out

    @model_validator(mode="before")
    @classmethod
    def _no_default_step_with_days(cls, data):
        # output_days replace the default step (so that a dumped scenario validates again as it is)
        if isinstance(data, dict) and data.get("output_days") is not None and "output_step_days" not in data:
            data = {**data, "output_step_days": None}
        return data

    @model_validator(mode="after")
    def _fits(self) -> Simulation:
        if self.output_days is not None and self.output_step_days is not None:
            raise ValueError("give output_days or output_step_days, not both")
        if self.output_days is not None and self.output_days[-1] > self.end_day:
            raise ValueError(f"output day {self.output_days[-1]} is after end_day {self.end_day}")
        return self

    def output_times(self) -> list[float]:
        if self.output_days is not None:
            return list(self.output_days)
        n = math.floor(self.end_day / self.output_step_days + 1e-9)
        times = [i * self.output_step_days for i in range(n + 1)]
        if times[-1] < self.end_day:
            times.append(self.end_day)
        return times


class Scenario(_Strict):
    """A complete single-patient scenario."""

    name: str = "scenario"
    description: str = ""
    patient: Patient
    therapy: list[Therapy] = Field(default_factory=list)
    regimen: list[Regimen] = Field(default_factory=list)
    simulation: Simulation = Field(default_factory=Simulation)
    parameters: dict[str, Finite] = Field(default_factory=dict)
    event: list[ClinicalEvent] = Field(default_factory=list)

    @field_validator("parameters")
    @classmethod
    def _known_params(cls, v: dict[str, float]) -> dict[str, float]:
        params = build_model().parameters
        for name, value in v.items():
            if name not in params:
                raise ValueError(f"unknown parameter {name!r} (see `hepatwin model docs` for the list)")
            p = params[name]
            if not p.lower <= value <= p.upper:
                raise ValueError(
                    f"parameter {name} = {value} {p.unit} is outside its plausible range [{p.lower}, {p.upper}]")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        etio_therapy = THERAPY_OF[self.patient.etiology]
        for i, t in enumerate(self.therapy):
            if t.kind != etio_therapy:
                raise ValueError(
                    f"therapy[{i}].kind {t.kind!r} does not treat etiology {self.patient.etiology!r}; "
                    f"expected {etio_therapy!r}")
            if self.patient.history is None and t.start_day < 0:
                raise ValueError(f"therapy[{i}].start_day {t.start_day} is before baseline but no history is given")
            if self.patient.history is not None and t.start_day < -self.patient.history.years * 365.25:
                raise ValueError(f"therapy[{i}].start_day {t.start_day} is before the disease history starts")
            if t.start_day > self.simulation.end_day:
                raise ValueError(f"therapy[{i}].start_day {t.start_day} is after end_day {self.simulation.end_day}")
        days = self.simulation.output_days
        if days is not None and days[0] < 0:
            # output during the burn-in of a disease history (the tissue model follows it), never before it
            start = -self.patient.history.years * 365.25 if self.patient.history is not None else 0.0
            if days[0] < start - 1e-9:
                raise ValueError(f"output day {days[0]} is before the run starts (day {start:g}: "
                                 f"{'the start of the disease history' if start < 0 else 'baseline'})")
        sources = {r.cell_source for r in self.regimen}
        if len(sources) > 1:
            raise ValueError(f"regimens mix cell sources {sorted(sources)}; one source per scenario is supported")
        for i, e in enumerate(self.event):
            if e.day > self.simulation.end_day:
                raise ValueError(f"event[{i}] ({e.kind}) day {e.day:g} is after end_day {self.simulation.end_day:g}")
        for i, r in enumerate(self.regimen):
            if r.days[-1] > self.simulation.end_day:
                raise ValueError(f"regimen[{i}] infusion day {r.days[-1]} is after end_day {self.simulation.end_day}")
        return self

    def digest(self) -> str:
        """SHA-256 of the canonical JSON form (used in manifests)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


def format_validation_error(err: ValidationError, source: str) -> str:
    """One line per problem: field path, offending value, what was expected."""
    lines = [f"{source}: {err.error_count()} problem(s)"]
    for e in err.errors():
        loc = _loc(e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
        value = e.get("input")
        shown = "" if isinstance(value, dict) else f" = {value!r}"
        lines.append(f"  {loc}{shown}: {msg}")
    return "\n".join(lines)


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after",) or str(part).startswith(("function-", "literal[", "constrained-")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def revalidate(scenario: Scenario, source: str | None = None) -> Scenario:
    """The scenario checked again as a file would be: catches edits made in Python after it was built
    (`scenario.parameters["kS"] = 1e6`, `model_copy(update=...)`), which no assignment check sees."""
    return parse_scenario(scenario.model_dump(), source or f"scenario {scenario.name!r} (as given in Python)")


#: top-level tables that mark another kind of input file -> (what it is, the command that reads it)
OTHER_FILE_KINDS = {
    "tissue": ("a tissue-run file (it has a [tissue] table)", "hepatwin tissue run FILE --out DIR"),
    "arm": ("a trial protocol (it has [[arm]] tables)", "hepatwin trial run FILE --out DIR"),
    "criteria": ("a population file (it has [[criteria]])", "hepatwin population generate FILE --n N --out DIR"),
    "covariates": ("a population file (it has [covariates])", "hepatwin population generate FILE --n N --out DIR"),
}


def other_file_kind(data: dict, expected: str) -> str:
    """'this is <kind>, not <expected>: use `<command>`' when `data` has the tables of another kind of input
    file (its field-by-field problems would only hide that), else ''."""
    for key, (what, command) in OTHER_FILE_KINDS.items():
        if key in data:
            return f"this is {what}, not {expected}: use `{command}`"
    return ""


def parse_scenario(data: dict, source: str = "<scenario>") -> Scenario:
    """Validate a scenario dictionary; raise ScenarioError with a readable message."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        other = other_file_kind(data, "a scenario")
        raise ScenarioError(f"{source}: {other}" if other else format_validation_error(err, source)) from None


def read_toml(path: str | Path, what: str) -> dict:
    """The tables of a TOML input file; InputFileError naming `what` and the path if it cannot be read."""
    path = Path(path)
    try:
        # utf-8-sig: a byte-order mark (as some Windows editors write) is not part of the TOML
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputFileError(f"cannot read {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(f"cannot read {what} {path}: byte {exc.start} is not UTF-8 ({exc.reason}); TOML files "
                            "must be saved as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"{path}: not valid TOML: {exc}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file."""
    return parse_scenario(read_toml(path, "scenario"), str(path))


__all__ = ["CELL_SOURCES", "ROUTES", "THERAPIES", "Scenario", "ScenarioError", "load_scenario", "parse_scenario",
           "read_toml"]
