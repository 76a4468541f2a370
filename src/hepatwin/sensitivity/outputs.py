"""Outputs of a sensitivity or attribution run: a model variable at a day, its change from baseline, or an
event's probability by a day; written `VAR@DAY`, `change:VAR@DAY`, `prob:EVENT@DAY`. A trajectory is a series of
days, `VAR@FIRST:LAST:STEP` (time-resolved indices); a trial protocol adds `success`, the probability that its
primary comparison is significant."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..model.catalog import EVENTS

KINDS = ("value", "change", "prob")
#: the output of a trial protocol: the probability that its first value/change endpoint is significant
SUCCESS = "success"
#: days of one time-resolved output at most (each is a full set of indices)
MAX_SERIES_DAYS = 100


@dataclass(frozen=True)
class Output:
    """One scalar output per simulated patient."""

    kind: str          # value | change | prob
    variable: str      # a state or derived quantity (for prob: the event's cumulative hazard state)
    day: float
    text: str

    @property
    def name(self) -> str:
        return self.text

    @property
    def series(self) -> str:
        """The output without its day (`change:Alb`): the days of a time-resolved output share it."""
        return self.text.rpartition("@")[0] or self.text


def expand_outputs(texts: list[str]) -> list[str]:
    """Output texts with every series `VAR@FIRST:LAST:STEP` written out day by day (`VAR@0`, `VAR@28`, ...);
    a malformed series is an InputError naming it."""
    out = []
    for text in texts:
        head, at, days = text.rpartition("@")
        if not at or days.count(":") != 2:
            out.append(text)
            continue
        try:
            first, last, step = (float(x) for x in days.split(":"))
        except ValueError:
            raise InputError(f"--outputs {text!r}: expected VAR@FIRST:LAST:STEP with numbers (e.g. Alb@0:168:28)"
                             ) from None
        if not (math.isfinite(first) and math.isfinite(last) and first >= 0 and last > first and step > 0):
            raise InputError(f"--outputs {text!r}: expected 0 <= FIRST < LAST and STEP > 0")
        grid = np.arange(first, last + step / 2, step)
        if len(grid) > MAX_SERIES_DAYS:
            raise InputError(f"--outputs {text!r}: {len(grid)} days; expected at most {MAX_SERIES_DAYS} (a larger "
                             "STEP)")
        out += [f"{head}@{d:g}" for d in grid]
    return list(dict.fromkeys(out))


def parse_output(text: str, known: set[str]) -> Output:
    """`Alb@85`, `change:Alb@85`, `prob:death@730` -> an Output; an unknown variable or event, a malformed
    text or a negative day is an InputError naming it."""
    kind, _, rest = text.partition(":") if ":" in text else ("value", "", text)
    var, at, day_s = rest.partition("@")
    if kind not in KINDS or not at or not var:
        raise InputError(f"--outputs {text!r}: expected VAR@DAY, change:VAR@DAY or prob:EVENT@DAY")
    try:
        day = float(day_s)
    except ValueError:
        raise InputError(f"--outputs {text!r}: day {day_s!r} is not a number") from None
    if not (math.isfinite(day) and day >= 0):
        raise InputError(f"--outputs {text!r}: day {day_s!r}; expected a day >= 0")
    if kind == "prob":
        if var == "death":
            state = "CH_death"
        elif var in EVENTS and EVENTS[var].counter:
            state = EVENTS[var].counter
        else:
            options = ", ".join(["death", *(n for n, e in EVENTS.items() if e.counter)])
            raise InputError(f"--outputs {text!r}: unknown event {var!r}; expected one of {options}")
        return Output(kind, state, day, text)
    if var not in known:
        raise InputError(f"--outputs {text!r}: unknown variable {var!r}; expected a state or derived quantity "
                         f"of the model (e.g. Alb, PTA, IL8, meld_cont, CPA, H)")
    return Output(kind, var, day, text)


def output_days(outputs: list[Output]) -> np.ndarray:
    """The output days a run needs: day 0 (the baseline of changes) and every output's day."""
    return np.unique(np.array([0.0, *(o.day for o in outputs)]))


def evaluate(outputs: list[Output], values: dict[str, np.ndarray], days: np.ndarray) -> np.ndarray:
    """Outputs (patients x outputs) from `values` (name -> patients x days on `days`). A probability of a
    counted event is 1 if its counter rose by the day (the run draws it); of death, 1 - exp(-cumulative hazard)."""
    out = np.empty((next(iter(values.values())).shape[0], len(outputs)))
    for k, o in enumerate(outputs):
        j = int(np.searchsorted(days, o.day))
        v = values[o.variable]
        if o.kind == "value":
            out[:, k] = v[:, j]
        elif o.kind == "change":
            out[:, k] = v[:, j] - v[:, 0]
        elif o.variable == "CH_death":
            out[:, k] = 1.0 - np.exp(-(v[:, j] - v[:, 0]))
        else:
            out[:, k] = (v[:, j] > v[:, 0]).astype(float)
    return out
