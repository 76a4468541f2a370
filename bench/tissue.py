"""Tissue-kernel benchmark: site updates per second, achieved memory bandwidth next to a large-array copy
measured in the same run, speedup over the NumPy implementation of the same step, and seconds per
simulated year on a 1e6-site field.

    python bench/tissue.py            # table
    python bench/tissue.py --json     # one JSON object with the five headline keys
    python bench/tissue.py --size 96 --steps 5 --copy-mb 32 --year-size 64 --year-steps 20 --json   # smoke

Bandwidth counts each array the step streams once: read cell, structure, zeta, injury weight, 7 fields
and 2 collagen planes; write cell, 7 fields and 2 collagen planes (83 bytes per site). Neighbour reads
come from cache and are not counted. The six field sweeps are also timed alone (49 bytes per site). The
same step on a 64-row band that stays in cache between repeats gives the step's compute ceiling (table
only): the bandwidth it would show if memory cost nothing. `bench/tissue_phases.py` splits that ceiling
by phase.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numba as nb
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BYTES_PER_SITE = (1 + 1 + 4 + 4 + 7 * 4 + 2 * 4) + (1 + 7 * 4 + 2 * 4)
# the six field sweeps alone: read structure and six planes, write six planes (the source row stays in cache)
SWEEP_BYTES_PER_SITE = 1 + 6 * 4 + 6 * 4


@nb.njit(parallel=True, cache=True)
def _par_copy(dst, src):
    n = src.shape[0]
    chunk = (n + 63) // 64
    for k in nb.prange(64):
        lo = k * chunk
        hi = min(n, lo + chunk)
        dst[lo:hi] = src[lo:hi]


def copy_bandwidth(mb: int, repeats: int = 5) -> dict[str, float]:
    """Best-of-n copy bandwidth (bytes read + written per second), NumPy (1 thread) and numba (all threads)."""
    n = mb * 1024 * 1024 // 8
    a = np.random.default_rng(0).random(n)
    b = np.empty_like(a)
    np.copyto(b, a)
    _par_copy(b, a)
    out = {}
    for name, fn in (("numpy_copyto", lambda: np.copyto(b, a)), ("numba_parallel", lambda: _par_copy(b, a))):
        best = min(_timed(fn) for _ in range(repeats))
        out[name] = 2 * a.nbytes / best / 1e9
    return out


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def make_tissue(size: int, seed: int = 0):
    from hepatwin.tissue import drivers_from_scenario, new_tissue

    d = drivers_from_scenario(ROOT / "examples" / "scenarios" / "hbv_decompensated_msc.toml")
    t = new_tissue(d, size, seed=seed)
    # a diseased liver (history run on a coarse step) so every rule path is exercised
    t.run(t_end=t.drivers.t_start + 3 * 365.25, dt_history=2.0, measure=False)
    return t


def sweep_seconds(args, repeats: int) -> float:
    """Median time of the step's six field sweeps alone (the part that is SIMD), same arrays as the step."""
    from hepatwin.tissue import kernels as kn

    relax, n_diff, p_l2, p_om = kn._relax_row, kn.N_DIFFUSING, kn.P_L2, kn.P_OMEGA

    @nb.njit(parallel=True)
    def sweeps(fld, fld_out, src, pp, structure):
        ny = fld.shape[1]
        zero = np.float32(0.0)
        for i in nb.prange(ny):
            im = i - 1 if i > 0 else 0
            ip = i + 1 if i < ny - 1 else ny - 1
            for f in range(n_diff):
                relax(fld[f, i], fld[f, im], fld[f, ip], src[f], fld_out[f, i], pp[p_l2 + f], pp[p_om + f],
                      structure[i], zero, zero)

    fld, fld_out, pp, structure = args[2], args[3], args[11], args[6]
    src = np.zeros((n_diff, fld.shape[2]), np.float32)
    sweeps(fld, fld_out, src, pp, structure)
    return float(np.median([_timed(lambda: sweeps(fld, fld_out, src, pp, structure)) for _ in range(repeats)]))


def band_args(args, rows: int):
    """The same step's arguments cut to a band of `rows` rows (contiguous copies): small enough to stay in
    cache between repeats, so its time is the step's cost without main-memory traffic."""
    a = list(args)
    ny = a[0].shape[0]
    lo = max(0, ny // 2 - rows // 2)
    sl = slice(lo, lo + rows)
    for k in (0, 1, 6, 7, 8, 9):          # cell, cell_out, structure, zeta, injury weight, attraction
        a[k] = np.ascontiguousarray(a[k][sl])
    for k in (2, 3, 4, 5):                # fields and collagen, in and out
        a[k] = np.ascontiguousarray(a[k][:, sl])
    a[13] = np.zeros((a[0].shape[0], a[13].shape[1]))
    return a


def kernel_args(t, dt: float):
    from hepatwin.tissue import kernels as kn

    st = t.state
    d = t.drivers.at(st.t)
    co, fo, ko = np.empty_like(st.cell), np.empty_like(st.fields), np.empty_like(st.collagen)
    rs = np.zeros((st.cell.shape[0], kn.N_SUMS))
    kn.attraction_plane(st.fields, t._att, *t.rules.arrays()[:6])
    return (st.cell, co, st.fields, fo, st.collagen, ko, t.structure, t.zeta, t.winj, t._att, t.base_rates(d),
            t.scalars(dt, d), t.sums, rs, *t.rules.arrays(), t.seed, np.uint64(st.step))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024, help="sites per side for the kernel timing")
    ap.add_argument("--steps", type=int, default=30, help="kernel steps timed")
    ap.add_argument("--copy-mb", type=int, default=400, help="size of the copied array (MB)")
    ap.add_argument("--year-size", type=int, default=1000, help="side of the field for the year timing (1000: 1e6)")
    ap.add_argument("--year-steps", type=int, default=0,
                    help="time only this many steps of the year and extrapolate (0: run the whole year)")
    ap.add_argument("--numpy-steps", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print exactly one JSON object")
    a = ap.parse_args()
    warnings.simplefilter("ignore")

    from hepatwin.tissue import kernels as kn
    from hepatwin.tissue.reference import numpy_step

    bw = copy_bandwidth(a.copy_mb)
    copy_gbs = max(bw.values())
    t = make_tissue(a.size)
    n = a.size * a.size
    args = kernel_args(t, 0.25)
    kn.tissue_step(*args)  # compiled (cache) and warm
    times = [_timed(lambda: kn.tissue_step(*args)) for _ in range(a.steps)]
    step_s = float(np.median(times))
    sweeps_s = sweep_seconds(args, a.steps)
    band = band_args(args, min(64, a.size))
    n_band = band[0].size
    kn.tissue_step(*band)
    band_s = min(_timed(lambda: kn.tissue_step(*band)) for _ in range(max(20, a.steps)))
    cached_gbs = BYTES_PER_SITE * n_band / band_s / 1e9
    np_times = [_timed(lambda: numpy_step(*args)) for _ in range(max(1, a.numpy_steps))]
    # the same field on day 2 of the example (MSCs infused on day 1, their effects acting: every rule evaluated)
    saved = t.state.copy(), t.sums.copy()
    t.run(t_end=2.0, measure=False)
    args_msc = kernel_args(t, 0.25)
    kn.tissue_step(*args_msc)
    msc_s = float(np.median([_timed(lambda: kn.tissue_step(*args_msc)) for _ in range(a.steps)]))
    t.state, t.sums = saved
    np_s = float(np.median(np_times))
    kernel_gbs = BYTES_PER_SITE * n / step_s / 1e9

    # the first year after baseline of the HBV + UC-MSC example (infusions on days 1, 8, 15) at the
    # default step (0.25 day) on year_size^2 sites, through Tissue.step (drivers, MSC arrivals, kernel)
    ty = t if a.year_size == a.size else make_tissue(a.year_size)
    ny = a.year_size * a.year_size
    ty.state.t = 0.0
    steps_year = int(np.ceil(365.25 / 0.25))
    n_run = steps_year if a.year_steps <= 0 else min(steps_year, a.year_steps)
    t0 = time.perf_counter()
    for _ in range(n_run):
        ty.step(0.25)
    run_s = time.perf_counter() - t0
    year_s = run_s / n_run * steps_year * (1e6 / ny)

    res = {
        "site_updates_per_s": n / step_s,
        "bandwidth_gbs": kernel_gbs,
        "copy_bandwidth_gbs": copy_gbs,
        "speedup_vs_numpy": np_s / step_s,
        "seconds_per_simulated_year_1e6_sites": year_s,
    }
    if a.json:
        print(json.dumps(res))
        return 0
    print(f"tissue kernel benchmark ({nb.get_num_threads()} numba threads, field {a.size}x{a.size} = {n:.3g} sites)")
    print(f"  copy bandwidth      numpy copyto {bw['numpy_copyto']:.1f} GB/s, numba parallel {bw['numba_parallel']:.1f}"
          f" GB/s ({a.copy_mb} MB arrays, read+write)")
    print(f"  fused step          {step_s * 1e3:.2f} ms/step, {n / step_s / 1e6:.1f} M site-updates/s, "
          f"{kernel_gbs:.1f} GB/s = {kernel_gbs / copy_gbs:.0%} of copy ({BYTES_PER_SITE} B/site)")
    print(f"  with MSCs acting    {msc_s * 1e3:.2f} ms/step on day 2 of the example (MSC transport and every MSC rule "
          f"evaluated; before therapy their rules are skipped): {BYTES_PER_SITE * n / msc_s / 1e9:.1f} GB/s = "
          f"{BYTES_PER_SITE * n / msc_s / 1e9 / copy_gbs:.0%} of copy")
    print(f"  of which            {sweeps_s * 1e3:.2f} ms ({sweeps_s / step_s:.0%}) in the six field sweeps, "
          f"{(step_s - sweeps_s) * 1e3:.2f} ms in cell rules, collagen and MSC transport")
    sweep_gbs = SWEEP_BYTES_PER_SITE * n / sweeps_s / 1e9
    print(f"  sweeps alone        {sweep_gbs:.1f} GB/s = {sweep_gbs / copy_gbs:.0%} of copy "
          f"({SWEEP_BYTES_PER_SITE} B/site): the step's most memory-bound part, a plain stencil with no cell rules")
    print(f"  in cache            {band_s / n_band * 1e9:.2f} ns/site on a {band[0].shape[0]}-row band that stays in "
          f"cache: {cached_gbs:.1f} GB/s = {cached_gbs / copy_gbs:.0%} of copy, the ceiling of this step with no "
          f"main-memory traffic at all (full field: {step_s / n * 1e9:.2f} ns/site)")
    print(f"  NumPy step          {np_s * 1e3:.1f} ms/step -> numba speedup {np_s / step_s:.1f}x")
    how = "measured" if n_run == steps_year else f"extrapolated from {n_run} steps"
    print(f"  one simulated year  {year_s:.1f} s for 1e6 sites at dt 0.25 day ({steps_year} steps, {how}, "
          f"field {a.year_size}x{a.year_size})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
