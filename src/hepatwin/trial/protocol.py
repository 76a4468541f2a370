"""Trial protocol files (TOML): arms, screening, visits, endpoints, follow-up, dropout, assay noise, AEs.

Validated with pydantic; an error names the field, the value and what was expected.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import InputFileError
from ..model.catalog import EVENTS, LAB_VARIABLES, SCORE_VARIABLES, THERAPY_OF, EventName
from ..population.config import Criterion, PopulationConfig
from ..scenario import Regimen, Therapy, format_validation_error, read_toml
from ..spec.model import Source
from .defaults import ADVERSE_EVENTS, ASSAY_CV, DROPOUT_PER_YEAR, TRANSPLANT

Finite = Annotated[float, Field(allow_inf_nan=False)]
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]

#: events a time-to-event endpoint can count; variables observed at visits with assay noise (LB domain) and
#: the scores computed from them: all from the model's catalog
TTE_EVENTS = tuple(EVENTS)
#: fewest subjects per arm: means, intervals and tests need two
MIN_PER_ARM = 2


class ProtocolError(InputFileError):
    """A trial protocol that cannot be used; the message is meant for the user."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True)


class Sourced(_Strict):
    """A number with a unit, a plausible range and a source (citation, `calibrated:` or `assumed:`)."""

    value: NonNeg
    unit: str = "1"
    low: NonNeg
    high: NonNeg
    source: str

    @model_validator(mode="after")
    def _check(self) -> Sourced:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"value {self.value} is outside its range [{self.low}, {self.high}]")
        if Source.parse(self.source).kind in ("missing", "invalid"):
            raise ValueError(f"source {self.source!r} is neither a DOI/PMID/URL nor 'calibrated: <target>' nor "
                             "'assumed: <why>'")
        return self


def _cells(x: float) -> str:
    """A cell count for people: 25000000.0 -> '2.5e7', 1e8 -> '1e8'."""
    text = f"{x:.3g}"
    if "e" not in text:
        return text
    mant, exp = text.split("e")
    return f"{mant}e{int(exp)}"


class Arm(_Strict):
    """One arm: `n` subjects; either a control arm (background therapy only) or MSC regimens.

    `label` names the arm for people in reports and the command line (default: the name and the dose
    per infusion, e.g. "low (2.5e7 cells)"); `name` stays the code used in tables and file columns.
    """

    name: str = Field(min_length=1)
    label: str = ""
    n: Annotated[int, Field(le=1_000_000)]
    control: bool = False
    regimen: list[Regimen] = Field(default_factory=list)

    @field_validator("n")
    @classmethod
    def _at_least_two(cls, v: int) -> int:
        if v < MIN_PER_ARM:
            # with one subject an arm has no spread: every interval, test and p-value would be nan
            raise ValueError(f"an arm needs at least {MIN_PER_ARM} subjects for its statistics; got {v}")
        return v

    @model_validator(mode="after")
    def _regimen(self) -> Arm:
        if self.control and self.regimen:
            raise ValueError("a control arm (control = true) takes no [[arm.regimen]]")
        if not self.control and not self.regimen:
            raise ValueError("a treated arm needs at least one [[arm.regimen]] (or control = true)")
        if len({r.cell_source for r in self.regimen}) > 1:
            raise ValueError("one cell source per arm")
        return self

    @property
    def display(self) -> str:
        """The arm for people: its `label`, else its name with the dose per infusion (or "standard therapy")."""
        if self.label:
            return self.label
        if self.control:
            return f"{self.name} (standard medical therapy)"
        return f"{self.name} ({'; '.join(f'{_cells(r.dose)} {r.dose_unit}' for r in self.regimen)})"

    @property
    def first_dose_day(self) -> float | None:
        return min(r.days[0] for r in self.regimen) if self.regimen else None


class Visits(_Strict):
    """Scheduled visit days (day 0 = baseline) and the +/- window around each later visit."""

    days: list[NonNeg] = Field(min_length=2)
    window_days: Annotated[int, Field(ge=0, le=60)] = 0

    @field_validator("days")
    @classmethod
    def _order(cls, v: list[float]) -> list[float]:
        if v[0] != 0:
            raise ValueError(f"the first visit must be the baseline, day 0; got day {v[0]}")
        if any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError(f"visit days {v} must be strictly increasing")
        return v


class Endpoint(_Strict):
    """`value` or `change` (from baseline) of a lab or score at visits, or `time_to_event`."""

    name: str = Field(min_length=1)
    kind: Literal["value", "change", "time_to_event"]
    variable: str | None = None
    event: EventName | None = None
    visit_day: NonNeg | None = Field(default=None, description="visit of the primary comparison (default: last)")
    alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05

    @model_validator(mode="after")
    def _fields(self) -> Endpoint:
        if self.kind == "time_to_event":
            if self.event is None:
                raise ValueError(f"a time_to_event endpoint needs event = one of {', '.join(TTE_EVENTS)}")
            if self.variable is not None:
                raise ValueError("a time_to_event endpoint takes event, not variable")
        else:
            if self.variable is None:
                raise ValueError("a value/change endpoint needs variable (a lab or score)")
            known = (*LAB_VARIABLES, *SCORE_VARIABLES)
            if self.variable not in known:
                raise ValueError(f"unknown endpoint variable {self.variable!r}; expected one of {', '.join(known)}")
        return self


class AdverseEventModel(_Strict):
    """Infusion-related grade 1-2 events and serious events per infusion; disease-related SAEs come from
    the model's decompensation and death events."""

    grade12_per_infusion: Sourced = Field(default_factory=lambda: Sourced(**ADVERSE_EVENTS["grade12_per_infusion"]))
    serious_per_infusion: Sourced = Field(default_factory=lambda: Sourced(**ADVERSE_EVENTS["serious_per_infusion"]))


class Transplant(_Strict):
    """Liver transplantation while listed (MELD at or above a threshold, or HCC), at a constant rate."""

    #: listing at or above this MELD (the MELD scale runs from 6 to 40)
    meld_threshold: Annotated[float, Field(ge=6, le=40, allow_inf_nan=False)] = TRANSPLANT["meld_threshold"]
    #: a patient with HCC is listed whatever the MELD (HCC within transplant criteria is an indication)
    list_hcc: bool = True
    rate_per_year: Sourced = Field(default_factory=lambda: Sourced(**TRANSPLANT["rate_per_year"]))


class Protocol(_Strict):
    """A virtual trial."""

    name: str = "trial"
    description: str = ""
    reference: str = ""
    seed: Annotated[int, Field(ge=0)] = 0
    population: str | PopulationConfig = Field(description="population file (relative to the protocol) or inline")
    background: list[Therapy] = Field(default_factory=list)
    inclusion: list[Criterion] = Field(default_factory=list)
    randomisation: Literal["block", "simple"] = "block"
    arm: list[Arm] = Field(min_length=1)
    visits: Visits
    endpoint: list[Endpoint] = Field(default_factory=list)
    follow_up_days: Annotated[float, Field(gt=0, le=3660, allow_inf_nan=False)] = 365.0
    dropout_per_year: Sourced = Field(default_factory=lambda: Sourced(**DROPOUT_PER_YEAR))
    assay_cv: dict[str, Sourced] = Field(default_factory=dict)
    adverse_events: AdverseEventModel = Field(default_factory=AdverseEventModel)
    transplant: Transplant = Field(default_factory=Transplant)

    @field_validator("assay_cv")
    @classmethod
    def _cv(cls, v: dict[str, Sourced]) -> dict[str, Sourced]:
        for name in v:
            if name not in LAB_VARIABLES:
                raise ValueError(f"unknown lab {name!r}; expected one of {', '.join(LAB_VARIABLES)}")
        return {**{k: Sourced(**d) for k, d in ASSAY_CV.items()}, **v}

    @field_validator("inclusion")
    @classmethod
    def _criteria(cls, v: list[Criterion]) -> list[Criterion]:
        from ..model import build_model
        from ..results import SCORES

        spec = build_model()
        known = set(spec.states) | set(spec.derived) | set(SCORES)
        for c in v:
            if c.variable not in known:
                raise ValueError(f"criterion {c.name!r}: unknown baseline variable {c.variable!r}; expected a state, "
                                 f"observable or score such as Alb, PTA, meld, child_pugh_points")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        names = [a.name for a in self.arm]
        if len(set(names)) != len(names):
            raise ValueError(f"arm names must be unique; got {names}")
        last = self.visits.days[-1]
        if last > self.follow_up_days:
            raise ValueError(f"last visit day {last} is after follow_up_days {self.follow_up_days}")
        for i, arm in enumerate(self.arm):
            first = arm.first_dose_day
            if first is None:
                continue
            early = [d for d in self.visits.days[1:] if d <= first]
            if early:
                raise ValueError(f"visit day {early[0]:g} is not after the first infusion (day {first:g}) of "
                                 f"arm[{i}] {arm.name!r}; post-baseline visits must follow the first dose")
            late = max(r.days[-1] for r in arm.regimen)
            if late > self.follow_up_days:
                raise ValueError(f"arm[{i}] {arm.name!r} infuses on day {late:g}, after follow_up_days")
        for e in self.endpoint:
            if e.visit_day is not None and e.visit_day not in self.visits.days:
                raise ValueError(f"endpoint {e.name!r}: visit_day {e.visit_day:g} is not a scheduled visit "
                                 f"({self.visits.days})")
        return self

    @property
    def n_total(self) -> int:
        return sum(a.n for a in self.arm)

    @property
    def control_arm(self) -> Arm | None:
        return next((a for a in self.arm if a.control), None)

    def digest(self) -> str:
        """SHA-256 of the canonical JSON form (used in manifests)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


def parse_protocol(data: dict, source: str = "<protocol>", base_dir: Path | None = None) -> tuple[Protocol,
                                                                                                  PopulationConfig]:
    """Validate a protocol dictionary and resolve its population; ProtocolError on any problem."""
    from ..population.config import load_population

    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as err:
        raise ProtocolError(format_validation_error(err, source)) from None
    if isinstance(protocol.population, PopulationConfig):
        pop = protocol.population
    else:
        path = Path(protocol.population)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        pop = load_population(path)
    if protocol.background:
        pop = pop.model_copy(update={"therapy": protocol.background})
        for i, t in enumerate(protocol.background):

            kind = THERAPY_OF[pop.etiology]
            if t.kind != kind:
                raise ProtocolError(f"{source}: background[{i}].kind = {t.kind!r}: does not treat {pop.etiology}; "
                                    f"expected {kind!r}")
    return protocol, pop


def load_protocol(path: str | Path) -> tuple[Protocol, PopulationConfig]:
    """Read and validate a protocol TOML file and the population it names."""
    path = Path(path)
    return parse_protocol(read_toml(path, "protocol"), str(path), path.parent)
