"""How large a run may be before it is refused: its output estimated up front, not found out after an hour.

A run beyond a limit is refused with the estimate, the limit and the flag that allows it (`--allow-large`,
or `allow_large=True` from Python); the limits are what a laptop holds, not what the model can do.
"""

from __future__ import annotations

import math

from .errors import InputError

#: assumed: a century of follow-up after baseline is beyond any clinical question (burn-in is counted apart)
MAX_FOLLOW_UP_DAYS = 36_525.0
#: numbers held in memory for one scenario's results (float64: 400 MB; the CSV is about 3x that on disk)
MAX_SCENARIO_VALUES = 50_000_000
#: numbers held in memory for one chunk of a population run (states x output times x patients, float64)
MAX_CHUNK_VALUES = 250_000_000
#: bytes a population run may write to disk
MAX_DISK_BYTES = 50e9
#: bytes of tissue snapshots held in memory (collagen, cell states and signals: about 16 bytes per site each)
MAX_TISSUE_SNAPSHOT_BYTES = 8e9
TISSUE_SNAPSHOT_BYTES_PER_SITE = 16


class RunTooLargeError(InputError):
    """A run whose estimated output or length is beyond the stated limit; the message is meant for the user."""


def _size(nbytes: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes:.0f} bytes"


def n_output_times(end_day: float, step_days: float) -> int:
    """Number of output times 0, step, ..., end_day (plus end_day), computed without building the grid."""
    return math.floor(end_day / step_days + 1e-9) + 2


def check_follow_up(end_day: float, what: str, allow_large: bool = False) -> None:
    """Refuse a run that goes on for more than MAX_FOLLOW_UP_DAYS after baseline."""
    if end_day > MAX_FOLLOW_UP_DAYS and not allow_large:
        raise RunTooLargeError(
            f"{what} = {end_day:g} days is {end_day / 365.25:,.0f} years of follow-up, beyond the limit of "
            f"{MAX_FOLLOW_UP_DAYS:g} days (100 years); shorten it, or pass --allow-large (allow_large=True) if it "
            "is meant")


def check_values(n_values: float, limit: float, what: str, fix: str, allow_large: bool = False,
                 bytes_per_value: int = 8) -> None:
    """Refuse `n_values` numbers beyond `limit`, naming what produces them and how to make fewer."""
    if n_values > limit and not allow_large:
        raise RunTooLargeError(
            f"{what} gives {n_values:,.0f} numbers (about {_size(n_values * bytes_per_value)} in memory), beyond "
            f"the limit of {limit:,.0f} ({_size(limit * bytes_per_value)}); {fix}, or pass --allow-large "
            "(allow_large=True) if the machine has the memory")


def check_disk(nbytes: float, what: str, fix: str, allow_large: bool = False) -> None:
    """Refuse a run estimated to write more than MAX_DISK_BYTES."""
    if nbytes > MAX_DISK_BYTES and not allow_large:
        raise RunTooLargeError(f"{what} would write about {_size(nbytes)}, beyond the limit of "
                               f"{_size(MAX_DISK_BYTES)}; {fix}, or pass --allow-large (allow_large=True) if the "
                               "disk has room")


def scenario_size(simulation, n_variables: int) -> tuple[int, int]:
    """(output times, numbers) of one scenario's results, from its [simulation] table alone."""
    if simulation.output_days is not None:
        n_t = len(simulation.output_days)
    else:
        n_t = n_output_times(simulation.end_day, simulation.output_step_days)
    return n_t, n_t * n_variables


def check_scenario(scenario, n_variables: int, allow_large: bool = False) -> None:
    """Refuse a scenario whose follow-up or results are beyond the limits (before its grid is built)."""
    sim = scenario.simulation
    check_follow_up(sim.end_day, "simulation.end_day", allow_large)
    n_t, n_values = scenario_size(sim, n_variables)
    how = (f"simulation.output_step_days = {sim.output_step_days:g} over end_day = {sim.end_day:g}"
           if sim.output_days is None else f"{n_t:,} simulation.output_days")
    check_values(n_values, MAX_SCENARIO_VALUES, f"{scenario.name}: {how} ({n_t:,} output times x {n_variables} "
                 "variables)", "use a larger output_step_days or fewer output days", allow_large)


def check_tissue(sites: int, n_snapshots: int, allow_large: bool = False) -> None:
    """Refuse a tissue run whose snapshots (pictures, time-lapse frames) would not fit in memory."""
    nbytes = sites * n_snapshots * TISSUE_SNAPSHOT_BYTES_PER_SITE
    if nbytes > MAX_TISSUE_SNAPSHOT_BYTES and not allow_large:
        raise RunTooLargeError(
            f"{n_snapshots} snapshots and time-lapse frames of {sites:,} sites hold about {_size(nbytes)} in "
            f"memory, beyond the limit of {_size(MAX_TISSUE_SNAPSHOT_BYTES)}; use fewer snapshot_days or frames, "
            "a smaller size, or pass --allow-large (allow_large=True) if the machine has the memory")
