"""Dosing and therapy changes as data: discontinuities the solver stops and restarts at."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Event:
    """At `time` add `add[state]` to states and set `set[param]` parameters.

    Several events at one time are applied together; an output requested at an
    event time reports the value just *before* the event (a pre-dose sample).
    """

    time: float
    add: dict[str, float] = field(default_factory=dict, compare=False)
    set: dict[str, float] = field(default_factory=dict, compare=False)
    label: str = field(default="", compare=False)
    #: where `add` came from when it is a dose: (dose input, route, amount); lets a planner recompute the split
    #: between compartments when the parameters of the split change (the solver ignores it)
    dose: tuple[str, str, float] | None = field(default=None, compare=False)
