"""The one progress protocol of every long-running function: ``progress(stage, done, total)``.

`stage` says what is being done in words ("screening (4,000 candidates)", "simulating", "writing
results.csv"), `done` how much of it (a count, or a fraction of `total`), `total` how much there is (None
when unknown). The CLI shows it as a bar; the dashboard and any Python caller can pass their own callable.
"""

from __future__ import annotations

from typing import Protocol


class ProgressCallback(Protocol):
    """Called as work proceeds: the stage in words, the amount done, the total amount (None if unknown)."""

    def __call__(self, stage: str, done: float, total: float | None) -> None: ...


def notify(progress: ProgressCallback | None, stage: str, done: float, total: float | None) -> None:
    """Call `progress` if there is one."""
    if progress is not None:
        progress(stage, done, total)


def prefixed(progress: ProgressCallback | None, prefix: str) -> ProgressCallback | None:
    """`progress` with `prefix` put before every stage (None stays None)."""
    if progress is None:
        return None
    return lambda stage, done, total: progress(f"{prefix}{stage}", done, total)


__all__ = ["ProgressCallback", "notify", "prefixed"]
