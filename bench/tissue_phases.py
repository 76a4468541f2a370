"""Where the tissue step's time goes: each phase of the fused kernel timed alone, on one core, on a band of
rows that stays in cache (so the figures are compute, not memory traffic), and the whole step on bands of
narrower rows (is the step bound by its scratch rows spilling out of L1?).

    python bench/tissue_phases.py                 # 1024 x 64 band of the bench field
    python bench/tissue_phases.py --size 256      # quicker

Each phase is the kernel's own row function, called row after row over the band as the step calls it; the
phases add up to the step's in-cache cost on one core (the step itself runs on every core, and adds the
per-row overhead of its calls and scratch rows). The bench field is the one of `bench/tissue.py`: the HBV
example after a three-year history, before therapy (the MSC rules are skipped, as in the step).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numba as nb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tissue as bench  # bench/tissue.py: the same field and arguments

from hepatwin.tissue import kernels as kn

F0 = np.float32(0.0)


@nb.njit
def _counts(cell, structure, cnt, reps):
    for _ in range(reps):
        for i in range(1, cell.shape[0] - 1):
            kn._count_row(cell[i - 1], cell[i], cell[i + 1], structure[i - 1], structure[i], structure[i + 1], cnt)


@nb.njit
def _collagen_signal(col, sg, wk, inv_csat, reps):
    for _ in range(reps):
        for i in range(1, col.shape[1] - 1):
            kn._collagen_row(col[0, i - 1], col[0, i], col[0, i + 1], col[1, i - 1], col[1, i], col[1, i + 1],
                             sg[kn.SG_COLLAGEN], wk[kn.W_SATF], inv_csat)


@nb.njit
def _signals(fld, cnt, winj, pp, sg, reps):
    for _ in range(reps):
        for i in range(fld.shape[1]):
            kn._signal_rows(fld[kn.MSF, i], cnt[kn.C_EMPTY], winj[i], pp, pp[kn.P_FBG], np.float32(1.0), sg)


@nb.njit
def _uniforms(seed, step, ny, nx, wk, reps):
    for _ in range(reps):
        for i in range(ny):
            kn._uniform_row(seed, step, i, nx, wk)


@nb.njit
def _hill(fld, sg, hr, t_on, t_sig, t_k, t_p, n_terms, reps):
    for _ in range(reps):
        for i in range(fld.shape[1]):
            for q in range(n_terms):
                if t_on[q]:
                    k = t_sig[q]
                    kn._hill_row(fld[k, i] if k < kn.N_DIFFUSING else sg[k], t_k[q], t_p[q], hr[q])


@nb.njit
def _modifiers(hr, term, md, a_start, a_rule, r_up, r_fold, ny, reps):
    for _ in range(reps):
        for _i in range(ny):
            for b in range(kn.N_ROW_BEHAVIOURS):
                if a_start[b + 1] > a_start[b]:
                    kn._mod_row(b, hr, term, md[b], a_start, a_rule, r_up, r_fold)


@nb.njit
def _cell_rules(cell, structure, winj, zeta, cnt, wk, md, base, pp, srow, reps):
    dt = pp[kn.P_DT]
    for _ in range(reps):
        for i in range(cell.shape[0]):
            kn._hepatocyte_row(cell[i], structure[i], winj[i], cnt, wk, md, base, pp, dt, srow[kn.CYT],
                               srow[kn.TGFB])
            kn._stellate_row(cell[i], structure[i], cnt, wk, md, base, dt, srow[kn.TGFB], srow[kn.HGF],
                             srow[kn.MMP])
            kn._macrophage_row(cell[i], cnt, wk, md, base, dt, srow[kn.CYT], srow[kn.TGFB], srow[kn.MMP])
            kn._endothelium_row(cell[i], structure[i], zeta[i], cnt, wk, md, base, pp, dt, srow[kn.O2])


@nb.njit
def _collagen_update(col, col_out, fld, structure, cnt, cell, wk, md, pp, reps):
    dt = pp[kn.P_DT]
    syn = np.float32(dt * pp[kn.P_SC])
    one = np.float32(1.0)
    for _ in range(reps):
        for i in range(cell.shape[0]):
            kn._collagen_update_row(col[0, i], col[1, i], fld[kn.MMP, i], structure[i], cnt, cell[i], wk, md,
                                    col_out[0, i], col_out[1, i], dt, syn, one, one, np.float32(pp[kn.P_KDEG]),
                                    np.float32(pp[kn.P_KDX]), pp[kn.P_KX], pp[kn.P_MU0],
                                    np.float32(1.5) * pp[kn.P_CSAT])


@nb.njit
def _pack(cell, structure, cnt, cell_out, reps):
    for _ in range(reps):
        for i in range(cell.shape[0]):
            kn._pack_row(cell[i], structure[i], cnt, cell_out[i])


@nb.njit
def _sweeps(fld, fld_out, srow, pp, structure, reps):
    for _ in range(reps):
        for i in range(1, fld.shape[1] - 1):
            for f in range(kn.N_DIFFUSING):
                kn._relax_row(fld[f, i], fld[f, i - 1], fld[f, i + 1], srow[f], fld_out[f, i], pp[kn.P_L2 + f],
                              pp[kn.P_OMEGA + f], structure[i], F0, F0)


@nb.njit
def _sums(structure, cnt, wk, col_out, fld_out, reps):
    acc = np.zeros(kn.N_SUMS)
    for _ in range(reps):
        for i in range(structure.shape[0]):
            kn._sum_row(structure[i], cnt, wk, col_out[0, i], col_out[1, i], fld_out[kn.MSC, i], fld_out[kn.MSF, i],
                        acc)
    return acc


def phase_table(args, reps: int) -> list[tuple[str, float]]:
    """(phase, ns per site on one core) for the phases of the step, on the band `args`."""
    (cell, cell_out, fld, fld_out, col, col_out, structure, zeta, winj, _att, base, pp, _sums_prev, _rowsums,
     r_start, r_sig, r_up, r_fold, r_kpow, r_pow, _r_max, seed, step) = args
    ny, nx = cell.shape
    term, t_sig, t_k, t_p, n_terms = kn._hill_terms(r_start, r_sig, r_kpow, r_pow)
    t_on, a_start, a_rule = kn._active_rules(pp, r_start, term, t_sig, n_terms)
    sg = np.zeros((kn.N_SIG, nx), np.float32)
    hr = np.zeros((max(n_terms, 1), nx), np.float32)
    md = np.ones((kn.N_ROW_BEHAVIOURS, nx), np.float32)
    wk = np.zeros((kn.N_WORK, nx), np.float32)
    cnt = np.zeros((kn.N_COUNT, nx), np.int32)
    srow = np.zeros((kn.N_DIFFUSING, nx), np.float32)
    inv_csat = np.float32(1.0 / pp[kn.P_CSAT])
    jobs = [
        ("neighbour counts", _counts, (cell, structure, cnt)),
        ("collagen signal", _collagen_signal, (col, sg, wk, inv_csat)),
        ("MSC-effect signals", _signals, (fld, cnt, winj, pp, sg)),
        ("uniforms (2 hashes)", _uniforms, (seed, step, ny, nx, wk)),
        (f"Hill terms ({int(t_on[:n_terms].sum())} of {n_terms} active)", _hill,
         (fld, sg, hr, t_on, t_sig, t_k, t_p, n_terms)),
        (f"modifiers ({a_start[-1]} rules, {int((np.diff(a_start) > 0).sum())} behaviours)", _modifiers,
         (hr, term, md, a_start, a_rule, r_up, r_fold, ny)),
        ("cell rules (4 cell types)", _cell_rules, (cell, structure, winj, zeta, cnt, wk, md, base, pp, srow)),
        ("collagen update", _collagen_update, (col, col_out, fld, structure, cnt, cell, wk, md, pp)),
        ("new cell bytes", _pack, (cell, structure, cnt, cell_out)),
        ("six field sweeps", _sweeps, (fld, fld_out, srow, pp, structure)),
        ("row sums", _sums, (structure, cnt, wk, col_out, fld_out)),
    ]
    out = []
    for name, fn, a in jobs:
        fn(*a, 1)
        best = min(bench._timed(lambda fn=fn, a=a: fn(*a, reps)) for _ in range(5))
        out.append((name, best / reps / (ny * nx) * 1e9))
    return out


def band_of_width(args, rows: int, width: int):
    """The bench band cut to `rows` x `width` sites (contiguous copies)."""
    a = list(bench.band_args(args, rows))
    for k in (0, 1, 6, 7, 8, 9):
        a[k] = np.ascontiguousarray(a[k][:, :width])
    for k in (2, 3, 4, 5):
        a[k] = np.ascontiguousarray(a[k][:, :, :width])
    a[13] = np.zeros((a[0].shape[0], a[13].shape[1]))
    return a


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024, help="sites per side of the bench field")
    ap.add_argument("--reps", type=int, default=50, help="passes over the band per timing")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    t = bench.make_tissue(a.size)
    args = bench.kernel_args(t, 0.25)
    band = bench.band_args(args, min(64, a.size))
    ny, nx = band[0].shape
    rows = phase_table(band, a.reps)
    total = sum(v for _, v in rows)
    print(f"phases of the tissue step, one core, {ny} x {nx} band in cache (ns per site)")
    for name, v in rows:
        print(f"  {name:40s} {v:6.2f}  {v / total:4.0%}")
    print(f"  {'sum':40s} {total:6.2f}  = {total / nb.get_num_threads():.2f} ns/site on "
          f"{nb.get_num_threads()} cores if perfectly shared")
    print(f"whole step in cache on {nb.get_num_threads()} cores, by row width (per-row overhead vs L1-sized rows)")
    for width in (nx, nx // 4, nx // 8):
        if width < 16:
            continue
        b = band_of_width(args, max(ny, ny * nx // width), width)
        kn.tissue_step(*b)
        s = min(bench._timed(lambda b=b: kn.tissue_step(*b)) for _ in range(20))
        print(f"  rows of {width:5d} sites: {s / b[0].size * 1e9:.2f} ns/site")
    return 0


if __name__ == "__main__":
    sys.exit(main())
