"""Random streams by name: every purpose that draws random numbers gets its own generator.

A stream is named by what it is for ("dropout", "assay noise: Alb", "event threshold: death", ...)
and by integer keys saying whose it is (for a trial: subjects in the trial, replicate, subject). It is
derived from the root seed alone::

    SeedSequence(seed, spawn_key=(*keys, h_hi, h_lo))

where ``h_hi, h_lo`` are the two 32-bit halves of :func:`stable_hash` of the name (the first 8 bytes of
SHA-256 of its UTF-8 text; not Python's ``hash()``, which is salted per process). So a stream's numbers
do not depend on which other streams exist or in which order they are drawn: adding a new event, a new
lab or a new draw of any kind leaves every existing draw unchanged, and the same seed, keys and name
give the same numbers on every run, machine and number of threads.

Within one stream, values come in order: the k-th value drawn is the same however many are drawn
after it (e.g. the uniform for the k-th infusion does not depend on how many infusions there are).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

__all__ = ["seed_sequence", "stable_hash", "stream", "trigger_seed"]

_U32 = 2**32


def stable_hash(name: str) -> int:
    """The first 8 bytes of SHA-256 of `name` (UTF-8) as an unsigned big-endian integer (< 2**64)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a random stream needs a non-empty name; got {name!r}")
    return _sha_words(name)[0]


@lru_cache(maxsize=4096)
def _sha_words(name: str) -> tuple[int, int, int]:
    """stable_hash(name) and its two 32-bit halves (high, low), computed once per name."""
    h = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    return h, h >> 32, h & (_U32 - 1)


def seed_sequence(seed: int, *keys: int, name: str) -> np.random.SeedSequence:
    """The SeedSequence of the stream `name` for `keys` under the root `seed` (see the module docstring).

    `seed` is a non-negative integer; each key an integer in [0, 2**32) (one 32-bit word each, so
    different key tuples can never produce the same spawn key).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"the root seed must be a non-negative integer; got {seed!r}")
    words = []
    for k in keys:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < _U32:
            raise ValueError(f"stream keys must be integers in [0, 2**32); got {k!r} for stream {name!r}")
        words.append(int(k))
    stable_hash(name)  # checks the name
    _, hi, lo = _sha_words(name)
    return np.random.SeedSequence(int(seed), spawn_key=(*words, hi, lo))


def stream(seed: int, *keys: int, name: str) -> np.random.Generator:
    """A generator (PCG64) for the purpose `name` of the unit `keys` under the root `seed`.

    Example: ``stream(seed, n_total, replicate, subject, name="dropout").exponential(scale)``.
    Two calls with the same arguments give generators producing the same numbers; any difference
    in seed, keys or name gives an independent stream.
    """
    return np.random.default_rng(seed_sequence(seed, *keys, name=name))


def trigger_seed(seed: int, *keys: int, name: str) -> int:
    """A whole number below 2**53 (exact as a float model parameter) from the stream `name` of `keys`: the key
    of a state event's exponential draws in the engine (`hepatwin.engine.draws`)."""
    return int(seed_sequence(seed, *keys, name=name).generate_state(1, np.uint64)[0] >> np.uint64(11))
