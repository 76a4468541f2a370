"""Engine benchmark: ms per patient for SciPy LSODA, libRoadRunner and hepatwin (1 thread, all threads).

Project model, 2 simulated years from a decompensated-cirrhosis baseline, daily output, rtol 1e-6,
three peripheral-IV UC-MSC infusions, 8 parameters perturbed +-15% per patient.
Every figure is measured in this process; ratios compare runs made here.

    python bench/engine.py [--n 1000 10000 100000] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import time

import numba
import numpy as np

from hepatwin.checks import decompensated_hbv
from hepatwin.engine import SolverSettings, compile_model, solve
from hepatwin.engine.batched import compile_batched, solve_batch
from hepatwin.io.sbml import export_sbml
from hepatwin.model import build_model
from hepatwin.scenario import parse_scenario
from hepatwin.simulate import plan_run

RTOL, ATOL = 1e-6, 1e-9
#: hepatwin tolerances tried, loosest first, for the run at the accuracy of the references
TOLERANCE_LADDER = ((1e-6, 1e-9), (1e-6, 1e-10), (1e-7, 1e-11), (1e-8, 1e-12), (1e-9, 1e-13))
MATCHED_MAX_N = 10_000
T_OUT = np.arange(0.0, 731.0)
CHUNK = 2000


def population(n: int, seed: int = 1):
    spec = build_model()
    model = compile_model(spec)
    plan = plan_run(parse_scenario(decompensated_hbv(1e8, end_day=30.0, output_days=[0.0, 30.0])), spec)
    base = solve(model, model.state_vector(plan.initial), model.param_vector(plan.params), plan.t_start, [0.0],
                 plan.events).y[:, 0]
    events = [e for e in plan.events if e.time >= 0]
    p0 = model.param_vector(plan.params)
    rng = np.random.default_rng(seed)
    names = ["kp", "kd_hyp", "k_alb", "kS", "ksec", "EC50_S", "kE", "km"]
    idx = [model.param_index(n) for n in names]
    P = np.repeat(p0[None], n, 0)
    P[:, idx] *= np.exp(rng.uniform(-0.15, 0.15, size=(n, len(idx))))
    return spec, model, base, P, events, names, idx


def bench_scipy(model, base, P, events, n_sub, rtol=RTOL, atol=ATOL):
    t = time.perf_counter()
    ys = [solve(model, base, P[k], 0.0, T_OUT, events, SolverSettings(method="LSODA", rtol=rtol, atol=atol)).y
          for k in range(n_sub)]
    return (time.perf_counter() - t) / n_sub * 1e3, np.array(ys)


def rel_error(y, ref, scales, days=slice(None)):
    """Largest |y - ref| / max(|ref|, 1e-4 * state scale) over patients, states and `days`."""
    y, ref = y[..., days], ref[..., days]
    return float((np.abs(y - ref) / np.maximum(np.abs(ref), 1e-4 * scales[None, :, None])).max())


@contextlib.contextmanager
def _quiet_stdout():
    """SUNDIALS prints CVODE warnings straight to file descriptor 1; keep them out of --json output."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def bench_roadrunner(spec, base, P, events, names, idx, n_sub, n_states: int = 0):
    """ms per patient over `n_sub` patients, and the states of the first `n_states` patients on T_OUT."""
    import roadrunner

    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_ERROR)
    init = dict(zip(spec.state_names, base, strict=True))
    params = dict(zip(spec.parameter_names, P[0], strict=True))
    rr = roadrunner.RoadRunner(export_sbml(spec, params, init, events, 0.0).sbml)
    rr.integrator.relative_tolerance = RTOL
    rr.integrator.absolute_tolerance = ATOL
    # the same per-state absolute tolerances as the SciPy reference and hepatwin (ATOL x typical size)
    for name, scale in zip(spec.state_names, spec.state_scales(), strict=True):
        rr.integrator.setIndividualTolerance(name, ATOL * float(scale))

    def patient(k):
        rr.resetAll()
        for name, j in zip(names, idx, strict=True):
            rr.setValue(name, float(P[k, j]))
        return rr.simulate(0.0, 730.0, 731)

    rr.timeCourseSelections = ["time", "Alb"]
    with _quiet_stdout():
        t = time.perf_counter()
        for k in range(n_sub):
            patient(k)
        elapsed = time.perf_counter() - t
        rr.timeCourseSelections = ["time", *spec.state_names]
        ys = [np.asarray(patient(k))[:, 1:].T for k in range(n_states)]
    return elapsed / n_sub * 1e3, np.array(ys)


def bench_hepatwin(bm, base, P, events, threads, rtol=RTOL, atol=ATOL):
    numba.set_num_threads(threads)
    warm = P[: min(200, P.shape[0])]  # thread pool start-up and first-touch allocation outside the timing
    solve_batch(bm, np.repeat(base[None], warm.shape[0], 0), warm, 0.0, T_OUT, [events] * warm.shape[0],
                rtol=rtol, atol=atol)
    n = P.shape[0]
    t = time.perf_counter()
    statuses = []
    first = None
    for s in range(0, n, CHUNK):
        chunk = P[s:s + CHUNK]
        sol = solve_batch(bm, np.repeat(base[None], chunk.shape[0], 0), chunk, 0.0, T_OUT,
                          [events] * chunk.shape[0], rtol=rtol, atol=atol)
        statuses.append(sol.status)
        if first is None:
            first = sol.y
    return (time.perf_counter() - t) / n * 1e3, first, np.concatenate(statuses)


def matched_accuracy(bm, base, P, events, y_tight, scales, target, threads) -> dict:
    """hepatwin at the loosest tolerance of TOLERANCE_LADDER whose error against the tight reference (on its
    patients) is no larger than `target`, the better of SciPy's and libRoadRunner's; timed on all of `P`."""
    m = y_tight.shape[0]
    for rtol, atol in TOLERANCE_LADDER:
        sol = solve_batch(bm, np.repeat(base[None], m, 0), P[:m], 0.0, T_OUT, [events] * m, rtol=rtol, atol=atol)
        err = rel_error(sol.y, y_tight, scales)
        if err <= target:
            break
    ms, _, status = bench_hepatwin(bm, base, P, events, threads, rtol, atol)
    return {"rtol": rtol, "atol": atol, "error": err, "target_error": target, "reached": bool(err <= target),
            "n": P.shape[0], "ms_per_patient_all": ms, "failed_patients": int(np.sum(status != 0))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1000])
    ap.add_argument("--scipy-subset", type=int, default=20)
    ap.add_argument("--roadrunner-subset", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    all_threads = numba.config.NUMBA_NUM_THREADS
    spec, model, base, P, events, names, idx = population(max(args.n))
    bm = compile_batched(spec)
    solve_batch(bm, base[None], P[:1], 0.0, T_OUT, [events])  # compile / load outside the timings
    ms_scipy, y_ref = bench_scipy(model, base, P, events, args.scipy_subset)
    # accuracy of each solver at rtol 1e-6, against the same patients solved at rtol 1e-11
    _, y_tight = bench_scipy(model, base, P, events, args.scipy_subset, rtol=1e-11, atol=1e-14)
    ms_rr, y_rr = bench_roadrunner(spec, base, P, events, names, idx, min(args.roadrunner_subset, P.shape[0]),
                                   n_states=args.scipy_subset)
    scales = spec.state_scales()
    # libRoadRunner reports the value just after an event at its time, hepatwin and SciPy the value before it
    off_event = ~np.isin(T_OUT, [e.time for e in events])
    ref_error = {"scipy": rel_error(y_ref, y_tight, scales),
                 "roadrunner": rel_error(y_rr, y_tight, scales, off_event)}
    matched = matched_accuracy(bm, base, P[:min(max(args.n), MATCHED_MAX_N)], events, y_tight, scales,
                               min(ref_error.values()), all_threads)
    matched |= {"hepatwin_all_vs_roadrunner": ms_rr / matched["ms_per_patient_all"],
                "hepatwin_all_vs_scipy": ms_scipy / matched["ms_per_patient_all"]}
    rows = []
    for n in args.n:
        ms_1, y_fast, st1 = bench_hepatwin(bm, base, P[:n], events, 1)
        ms_all, _, st_all = bench_hepatwin(bm, base, P[:n], events, all_threads)
        m = min(args.scipy_subset, n)
        rows.append({
            "n": n,
            "ms_per_patient": {"scipy": ms_scipy, "roadrunner": ms_rr, "hepatwin_1t": ms_1, "hepatwin_all": ms_all},
            "ratios": {"hepatwin_1t_vs_roadrunner": ms_rr / ms_1, "hepatwin_all_vs_roadrunner": ms_rr / ms_all,
                       "hepatwin_all_vs_scipy": ms_scipy / ms_all},
            "seconds_total_hepatwin_all": ms_all * n / 1e3,
            "failed_patients": int(np.sum(st1 != 0) + np.sum(st_all != 0)),
            "max_rel_diff": rel_error(y_fast[:m], y_ref[:m], scales),
            "error_vs_tight_reference": ref_error | {"hepatwin": rel_error(y_fast[:m], y_tight[:m], scales)},
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "threads": all_threads,
        })
    if args.json:
        out = rows[-1] | {"matched_accuracy": matched, "runs": rows}
        print(json.dumps(out, indent=1))
        return
    print(f"engine benchmark: 2 simulated years, daily output, rtol {RTOL}, {all_threads} threads")
    print(f"  scipy LSODA loop   {ms_scipy:9.3f} ms/patient (subset {args.scipy_subset})")
    print(f"  libRoadRunner loop {ms_rr:9.3f} ms/patient (subset {args.roadrunner_subset}, 1 process)")
    for r in rows:
        m, q, acc = r["ms_per_patient"], r["ratios"], r["error_vs_tight_reference"]
        print(f"  n={r['n']}: hepatwin 1 thread {m['hepatwin_1t']:.3f} ms, all threads {m['hepatwin_all']:.3f} ms "
              f"({r['seconds_total_hepatwin_all']:.1f} s total); x{q['hepatwin_1t_vs_roadrunner']:.2f} and "
              f"x{q['hepatwin_all_vs_roadrunner']:.2f} vs roadrunner, x{q['hepatwin_all_vs_scipy']:.0f} vs scipy; "
              f"max rel diff {r['max_rel_diff']:.2e} (vs rtol-1e-11 reference: scipy "
              f"{acc['scipy']:.1e}, roadrunner {acc['roadrunner']:.1e}, hepatwin {acc['hepatwin']:.1e}); "
              f"peak RSS {r['peak_rss_mb']:.0f} MB; failed {r['failed_patients']}")
    q = matched
    print(f"  at the references' accuracy (hepatwin error {q['error']:.1e} <= {q['target_error']:.1e}: rtol "
          f"{q['rtol']:g}, atol {q['atol']:g}), n={q['n']}: all threads {q['ms_per_patient_all']:.3f} ms/patient, "
          f"x{q['hepatwin_all_vs_roadrunner']:.2f} vs roadrunner, x{q['hepatwin_all_vs_scipy']:.0f} vs scipy")


if __name__ == "__main__":
    main()
