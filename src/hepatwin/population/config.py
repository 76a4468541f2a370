"""Population files (TOML): distributions of parameters and covariates, disease history,
acceptance criteria and optional target baseline distributions."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from scipy import stats

from ..errors import InputFileError
from ..model import build_model
from ..model.catalog import EVENTS, THERAPY_OF, EtiologyName, StateEventName
from ..results import SCORES
from ..scenario import PATIENT_RANGES, Therapy, format_validation_error, read_toml

Finite = Annotated[float, Field(allow_inf_nan=False)]
#: sampled per candidate whatever the file says (covariates default to fixed values)
SAMPLED = ("years", "injury_scale", "age_years", "weight_kg")


class PopulationFileError(InputFileError):
    """A population file that cannot be used; the message is meant for the user."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Dist(_Strict):
    """A univariate distribution, optionally truncated to [low, high].

    normal(mean, sd) | lognormal(median, sigma) | uniform(low, high) | fixed(value).
    For parameters, `median`/`mean` may be omitted to use the model's default value.
    """

    dist: Literal["normal", "lognormal", "uniform", "fixed"]
    mean: Finite | None = None
    sd: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    median: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    sigma: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    low: Finite | None = None
    high: Finite | None = None
    value: Finite | None = None

    @model_validator(mode="after")
    def _complete(self) -> Dist:
        need = {"normal": ("sd",), "lognormal": ("sigma",), "uniform": ("low", "high"), "fixed": ("value",)}
        missing = [k for k in need[self.dist] if getattr(self, k) is None]
        if missing:
            raise ValueError(f"{self.dist} distribution needs {', '.join(missing)}")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"low {self.low} must be below high {self.high}")
        return self

    def frozen(self, default: float | None = None):
        """A scipy distribution (truncated when low/high given); `default` fills a missing centre."""
        if self.dist == "fixed":
            return None
        if self.dist == "uniform":
            return stats.uniform(self.low, self.high - self.low)
        if self.dist == "normal":
            mean = self.mean if self.mean is not None else default
            if mean is None:
                raise ValueError("normal distribution needs mean")
            base = stats.norm(mean, self.sd)
        else:
            median = self.median if self.median is not None else default
            if median is None:
                raise ValueError("lognormal distribution needs median")
            base = stats.lognorm(self.sigma, scale=median)
        if self.low is None and self.high is None:
            return base
        return _Truncated(base, self.low, self.high)

    def reach(self, default: float | None = None) -> tuple[float, float]:
        """The values this distribution gives: its bounds, or its 0.1% and 99.9% quantiles where unbounded."""
        if self.dist == "fixed":
            return float(self.value), float(self.value)
        lo, hi = (float(q) for q in self.ppf(np.array([0.001, 0.999]), default))
        return (self.low if self.low is not None else lo), (self.high if self.high is not None else hi)

    def check_within(self, low: float, high: float, unit: str = "", default: float | None = None) -> None:
        """ValueError unless every value this distribution gives lies in the plausible range [low, high]."""
        a, b = self.reach(default)
        if a < low or b > high:
            shown = " ".join(f"{k} = {v:g}" for k, v in self.model_dump(exclude_none=True).items() if k != "dist")
            raise ValueError(f"{self.dist} distribution ({shown}) gives values from {a:.4g} to {b:.4g}, outside the "
                             f"plausible range [{low:g}, {high:g}] {unit}".rstrip()
                             + "; check the numbers and their unit (add low/high to truncate)")

    def ppf(self, u: np.ndarray, default: float | None = None) -> np.ndarray:
        """Inverse CDF applied to uniforms u."""
        if self.dist == "fixed":
            return np.full_like(u, float(self.value))
        return self.frozen(default).ppf(u)


class _Truncated:
    """A continuous scipy distribution truncated to [low, high] by inverse-CDF rescaling."""

    def __init__(self, base, low, high):
        self.base = base
        self.lo = base.cdf(low) if low is not None else 0.0
        self.hi = base.cdf(high) if high is not None else 1.0

    def ppf(self, u):
        return self.base.ppf(self.lo + np.asarray(u) * (self.hi - self.lo))

    def cdf(self, x):
        return np.clip((self.base.cdf(x) - self.lo) / (self.hi - self.lo), 0.0, 1.0)

    def pdf(self, x):
        return self.base.pdf(x) / (self.hi - self.lo)


class Criterion(_Strict):
    """One row of the acceptance table: `variable op value` on the baseline (day 0)."""

    name: str
    variable: str
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    value: Finite
    kind: Literal["plausibility", "inclusion", "exclusion"] = "inclusion"

    def holds(self, x: np.ndarray) -> np.ndarray:
        ops = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal,
               "!=": np.not_equal}
        res = ops[self.op](x, self.value)
        return ~res if self.kind == "exclusion" else res

    def describe(self) -> str:
        """What a patient failing this criterion failed, in words: the rule and whether it admits or excludes."""
        rule = f"{self.variable} {self.op} {self.value:g}"
        return f"excluded because {rule}" if self.kind == "exclusion" else f"{self.kind} not met: {rule}"


class Correlation(_Strict):
    """Gaussian-copula correlation among named parameters/covariates."""

    names: list[str] = Field(min_length=2)
    matrix: list[list[Finite]]

    @model_validator(mode="after")
    def _pd(self) -> Correlation:
        m = np.asarray(self.matrix, dtype=float)
        k = len(self.names)
        if m.shape != (k, k) or not np.allclose(m, m.T) or not np.allclose(np.diag(m), 1.0):
            raise ValueError(f"matrix must be a symmetric {k}x{k} correlation matrix with unit diagonal")
        if np.min(np.linalg.eigvalsh(m)) <= 0:
            raise ValueError("matrix is not positive definite")
        return self


class History(_Strict):
    """Disease duration (years) and injury intensity before baseline; neither can be negative."""

    years: Dist
    injury_scale: Dist

    @field_validator("years", "injury_scale")
    @classmethod
    def _non_negative(cls, v: Dist, info) -> Dist:
        # a negative duration would start the history after baseline (engine error much later)
        if v.dist == "fixed":
            if v.value < 0:
                raise ValueError(f"value = {v.value} is negative; expected a value >= 0")
        elif v.dist == "uniform" or v.low is not None:
            if v.low < 0:
                raise ValueError(f"low = {v.low} is negative; expected low >= 0")
        elif v.dist == "normal":
            # an untruncated normal reaches below zero for some patients however large its mean
            raise ValueError("a normal distribution here needs low >= 0 (values cannot be negative); "
                             "add e.g. low = 0")
        lo, hi, unit = PATIENT_RANGES[info.field_name]
        v.check_within(lo, hi, unit)
        return v


class HistoryEvent(_Strict):
    """An event every candidate has before baseline (an HBV flare 7 days before enrolment): the same state
    changes as when the model's hazard makes it happen."""

    kind: StateEventName
    day: Annotated[float, Field(le=0, ge=-3650, allow_inf_nan=False)]


class PopulationConfig(_Strict):
    """A virtual-population recipe."""

    name: str = "population"
    seed: Annotated[int, Field(ge=0)] = 0
    etiology: EtiologyName
    female_fraction: Annotated[float, Field(ge=0, le=1)] = 0.5
    history: History
    therapy: list[Therapy] = Field(default_factory=list)
    event: list[HistoryEvent] = Field(default_factory=list)
    covariates: dict[str, Dist] = Field(default_factory=dict)
    parameters: dict[str, Dist] = Field(default_factory=dict)
    correlation: Correlation | None = None
    criteria: list[Criterion] = Field(default_factory=list)
    targets: dict[str, Dist] = Field(default_factory=dict)
    max_candidates_per_patient: Annotated[int, Field(ge=1)] = 50

    @field_validator("covariates")
    @classmethod
    def _covariates(cls, v: dict[str, Dist]) -> dict[str, Dist]:
        for name, d in v.items():
            if name not in ("age_years", "weight_kg"):
                raise ValueError(f"unknown covariate {name!r}; expected age_years or weight_kg")
            lo, hi, unit = PATIENT_RANGES[name]
            try:
                d.check_within(lo, hi, unit)
            except ValueError as exc:
                raise ValueError(f"covariate {name}: {exc}") from None
        return v

    @field_validator("parameters")
    @classmethod
    def _params(cls, v: dict[str, Dist]) -> dict[str, Dist]:
        params = build_model().parameters
        for name, d in v.items():
            if name not in params:
                raise ValueError(f"unknown parameter {name!r}")
            p = params[name]
            try:
                d.check_within(p.lower, p.upper, p.unit, default=p.value)
            except ValueError as exc:
                raise ValueError(f"parameter {name}: {exc}") from None
        return v

    @model_validator(mode="after")
    def _names(self) -> PopulationConfig:
        if self.correlation is not None:
            known = set(self.parameters) | set(self.covariates) | {"years", "injury_scale"}
            for n in self.correlation.names:
                if n not in known:
                    raise ValueError(f"correlation name {n!r} is not a sampled parameter or covariate")
        therapy = THERAPY_OF[self.etiology]
        for i, t in enumerate(self.therapy):
            if t.kind != therapy:
                raise ValueError(f"therapy[{i}].kind {t.kind!r} does not treat {self.etiology}; expected {therapy!r}")
        for i, e in enumerate(self.event):
            need = EVENTS[e.kind].needs
            if need is None:
                continue
            var, level = need
            if not any(c.kind == "inclusion" and c.variable == var and c.op in (">=", ">", "==") and c.value >= level
                       for c in self.criteria):
                raise ValueError(f"event[{i}].kind {e.kind!r} is an acute insult that precipitates ACLF, which falls "
                                 f"on cirrhosis; expected an inclusion criterion {var} >= {level:g} so that only "
                                 f"patients with cirrhosis are accepted")
        if self.event:
            shortest = self.history.years.reach()[0] * 365.25
            for i, e in enumerate(self.event):
                if -e.day > shortest:
                    raise ValueError(f"event[{i}].day {e.day:g} is before the shortest disease history "
                                     f"({shortest:.0f} days); expected a day after the history starts")
        return self

    def variables(self) -> tuple[list[str], list[str]]:
        """Numeric variables of a candidate that criteria and targets can use: (baseline, sampled)."""
        spec = build_model()
        baseline = [*spec.states, *spec.derived, *(s for s in SCORES if s != "child_pugh_class")]
        return baseline, [*SAMPLED, *self.parameters]

    @model_validator(mode="after")
    def _known_variables(self) -> PopulationConfig:
        # checked here, not when screening starts: `population generate` used to end in a KeyError and
        # `trial run` ignored the targets, so a typo went unnoticed
        baseline, sampled = self.variables()
        known = set(baseline) | set(sampled)
        states = build_model().states
        expected = (f"expected a baseline state, observable or score ({', '.join(baseline)}) or a sampled "
                    f"variable ({', '.join(sampled)})")
        problems = []
        for i, c in enumerate(self.criteria):
            if c.variable not in known:
                problems.append((("criteria", i, "variable"), c.variable,
                                 f"unknown variable{_did_you_mean(c.variable, known)}; {expected}"))
        for name, d in self.targets.items():
            if name not in known:
                problems.append((("targets", name), name, f"unknown target variable{_did_you_mean(name, known)}; "
                                                          f"{expected}"))
            elif d.dist == "fixed" or (d.dist == "normal" and d.mean is None) or (
                    d.dist == "lognormal" and d.median is None):
                problems.append((("targets", name), d.model_dump(exclude_none=True),
                                 f"a target needs a normal (mean, sd), lognormal (median, sigma) or uniform "
                                 f"(low, high) distribution; got {d.dist} {d.model_dump(exclude_none=True)}"))
            elif name in states or name in PATIENT_RANGES:
                lo, hi, unit = ((states[name].lower, states[name].upper, states[name].unit) if name in states
                                else PATIENT_RANGES[name])
                try:
                    d.check_within(lo, hi, unit)
                except ValueError as exc:
                    problems.append((("targets", name), d.model_dump(exclude_none=True), str(exc)))
        if problems:
            # one error per offending entry, located at the entry (e.g. targets.Albx), not at the top level
            raise ValidationError.from_exception_data(type(self).__name__, [
                InitErrorDetails(type=PydanticCustomError("value_error", msg), loc=loc, input=value)
                for loc, value, msg in problems])
        return self


def _did_you_mean(name: str, options) -> str:
    near = difflib.get_close_matches(name, sorted(options), n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def load_population(path: str | Path) -> PopulationConfig:
    """Read and validate a population TOML file (PopulationFileError with field, value, expectation)."""
    path = Path(path)
    data = read_toml(path, "population file")
    try:
        return PopulationConfig.model_validate(data)
    except ValidationError as err:
        raise PopulationFileError(format_validation_error(err, str(path))) from None
