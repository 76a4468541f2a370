"""Counter-based exponential draws for state events (triggers), the same in every engine.

A trigger's k-th threshold increment is `exp_draw(seed, k)`: SplitMix64 (Steele, Lea & Flood 2014,
doi:10.1145/2714064.2660195) of the seed mixed with k, turned into a uniform in (0, 1) and then into an
exponential with mean 1. It needs no generator state, so a patient's draws do not depend on the engine,
its batch or the thread that solves it. `seed` is a float holding a whole number below 2**53 (a model
parameter); the planning layer draws it from the patient's named stream.
"""

from __future__ import annotations

import math

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
STRIDE = 0xD1B54A32D192ED03
#: seeds are whole numbers below this (exact in a float64)
SEED_LIMIT = 1 << 53


def splitmix64(x: int) -> int:
    """One SplitMix64 output for the 64-bit input `x`."""
    z = (x + GOLDEN) & MASK
    z = ((z ^ (z >> 30)) * MIX1) & MASK
    z = ((z ^ (z >> 27)) * MIX2) & MASK
    return z ^ (z >> 31)


def exp_draw(seed: float, k: float) -> float:
    """The k-th exponential draw (mean 1) of stream `seed` (k = 0, 1, ...)."""
    z = splitmix64((int(seed) ^ ((int(k) * STRIDE) & MASK)) & MASK)
    u = ((z >> 11) + 0.5) * 2.0 ** -53
    return -math.log(u)


#: the same function for the generated numba engine (uint64 arithmetic wraps modulo 2**64)
NUMBA_SOURCE = '''
@njit(cache=True, inline="always", error_model="numpy")
def _exp_draw(seed, k):
    x = np.uint64(np.int64(seed)) ^ (np.uint64(np.int64(k)) * np.uint64(0xD1B54A32D192ED03))
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    u = (np.float64(z >> np.uint64(11)) + 0.5) * 1.1102230246251565e-16
    return -math.log(u)
'''

__all__ = ["NUMBA_SOURCE", "SEED_LIMIT", "exp_draw", "splitmix64"]
