"""One status per solved patient, the same for every engine, with what it means for the user.

A failed patient is data, not an exception: each engine returns one of these per patient (the compiled
engine as an integer code, see CODES) and the results carry it with its message.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """How the integration of one patient ended (compares equal to its string value)."""

    OK = "ok"
    MAX_STEPS = "max_steps"
    NON_FINITE = "non_finite"
    STEP_SIZE_UNDERFLOW = "step_size_underflow"
    FAILED = "failed"


#: integer codes of the compiled batched engine
CODES: dict[int, Status] = {0: Status.OK, 1: Status.MAX_STEPS, 2: Status.NON_FINITE, 3: Status.STEP_SIZE_UNDERFLOW,
                            4: Status.FAILED}

MESSAGES: dict[Status, str] = {
    Status.OK: "",
    Status.MAX_STEPS: "the solver used more steps (right-hand-side evaluations) than allowed for one patient",
    Status.NON_FINITE: "a state or derivative became NaN or infinite",
    Status.STEP_SIZE_UNDERFLOW: "the step size fell below what the solver can take (a stiff or discontinuous spot)",
    Status.FAILED: "the solver reported a failure",
}


def from_code(code: int) -> Status:
    """The status of a compiled-engine code."""
    return CODES[int(code)]


def describe(status: str, detail: str = "") -> str:
    """The user-facing message of a status, with the engine's detail (time, reason) when there is one."""
    s = Status(status)
    if s is Status.OK:
        return ""
    return f"{MESSAGES[s]} ({detail})" if detail else MESSAGES[s]


__all__ = ["CODES", "MESSAGES", "Status", "describe", "from_code"]
