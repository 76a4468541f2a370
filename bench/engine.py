"""Engine benchmark: ms per patient for SciPy LSODA, libRoadRunner and hepatwin (1 thread, all threads).

Project model, 2 simulated years from a decompensated-cirrhosis baseline, daily output, rtol 1e-6,
three peripheral-IV UC-MSC infusions, 8 parameters perturbed +-15% per patient.
Every figure is measured in this process; ratios compare runs made here.

Every engine is timed warm: libRoadRunner's first model in a process runs markedly slower than any
later instance of the same SBML, so a throw-away instance runs first (its loop is reported as
`roadrunner_first_instance`, not used in ratios) and the timed instance simulates once before its
timing; SciPy and hepatwin solve before theirs too. The timings are repeated `--repeats` times,
interleaved (hepatwin, libRoadRunner, SciPy, hepatwin, ...), and reported as min and median per engine;
`ms_per_patient` and the ratios are medians.

    python bench/engine.py [--n 1000 10000 100000] [--repeats 5] [--json]
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
from hepatwin.plan import plan_run
from hepatwin.scenario import parse_scenario

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
    settings = SolverSettings(method="LSODA", rtol=rtol, atol=atol)
    t = time.perf_counter()
    ys = [solve(model, base, P[k], 0.0, T_OUT, events, settings).y for k in range(n_sub)]
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


class RoadRunnerBench:
    """libRoadRunner on the exported SBML: reset + set the perturbed parameters per patient, 1 process.

    Built warm: a throw-away first instance (timed on `n_cold` patients, reported, never compared) and a first
    simulate of the timed instance happen here, outside the timings.
    """

    def __init__(self, spec, base, P, events, names, idx, n_cold: int):
        import roadrunner

        roadrunner.Logger.setLevel(roadrunner.Logger.LOG_ERROR)
        self.spec, self.P, self.names, self.idx = spec, P, names, idx
        init = dict(zip(spec.state_names, base, strict=True))
        params = dict(zip(spec.parameter_names, P[0], strict=True))
        self.sbml = export_sbml(spec, params, init, events, 0.0).sbml
        with _quiet_stdout():
            first = self._instance()
            t = time.perf_counter()
            for k in range(n_cold):
                self._patient(first, k)
            self.first_instance_ms = (time.perf_counter() - t) / max(n_cold, 1) * 1e3
            del first
            self.rr = self._instance()
            self._patient(self.rr, 0)

    def _instance(self):
        import roadrunner

        rr = roadrunner.RoadRunner(self.sbml)
        rr.integrator.relative_tolerance = RTOL
        rr.integrator.absolute_tolerance = ATOL
        # the same per-state absolute tolerances as the SciPy reference and hepatwin (ATOL x typical size)
        for name, scale in zip(self.spec.state_names, self.spec.state_scales(), strict=True):
            rr.integrator.setIndividualTolerance(name, ATOL * float(scale))
        rr.timeCourseSelections = ["time", "Alb"]
        return rr

    def _patient(self, rr, k):
        rr.resetAll()
        for name, j in zip(self.names, self.idx, strict=True):
            rr.setValue(name, float(self.P[k, j]))
        return rr.simulate(0.0, 730.0, 731)

    def time(self, n_sub: int) -> float:
        """ms per patient over the first `n_sub` patients."""
        with _quiet_stdout():
            t = time.perf_counter()
            for k in range(n_sub):
                self._patient(self.rr, k)
            return (time.perf_counter() - t) / n_sub * 1e3

    def states(self, n: int) -> np.ndarray:
        """All states of the first `n` patients on T_OUT (patients x states x times)."""
        self.rr.timeCourseSelections = ["time", *self.spec.state_names]
        try:
            with _quiet_stdout():
                return np.array([np.asarray(self._patient(self.rr, k))[:, 1:].T for k in range(n)])
        finally:
            self.rr.timeCourseSelections = ["time", "Alb"]


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


def matched_tolerance(bm, base, P, events, y_tight, scales, target) -> tuple[float, float, float]:
    """The loosest (rtol, atol) of TOLERANCE_LADDER whose hepatwin error against the tight reference (on its
    patients) is no larger than `target`, the better of SciPy's and libRoadRunner's; and that error."""
    m = y_tight.shape[0]
    for rtol, atol in TOLERANCE_LADDER:
        sol = solve_batch(bm, np.repeat(base[None], m, 0), P[:m], 0.0, T_OUT, [events] * m, rtol=rtol, atol=atol)
        err = rel_error(sol.y, y_tight, scales)
        if err <= target:
            break
    return rtol, atol, err


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": float(min(values)), "median": float(np.median(values))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1000], help="hepatwin population sizes")
    ap.add_argument("--scipy-subset", type=int, default=20, help="patients timed with SciPy (and accuracy reference)")
    ap.add_argument("--roadrunner-subset", type=int, default=200, help="patients timed with libRoadRunner")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved timing repeats per engine (min and median)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.repeats < 1 or min(args.n) < 1 or args.scipy_subset < 1 or args.roadrunner_subset < 1:
        ap.error("--repeats, --n, --scipy-subset and --roadrunner-subset must be at least 1")
    all_threads = numba.config.NUMBA_NUM_THREADS
    spec, model, base, P, events, names, idx = population(max(args.n))
    n_rr = min(args.roadrunner_subset, P.shape[0])
    bm = compile_batched(spec)
    solve_batch(bm, base[None], P[:1], 0.0, T_OUT, [events])  # compile / load outside the timings
    # accuracy, untimed: each solver at rtol 1e-6 against the same patients solved at rtol 1e-11
    _, y_ref = bench_scipy(model, base, P, events, args.scipy_subset)  # also SciPy's warm-up
    _, y_tight = bench_scipy(model, base, P, events, args.scipy_subset, rtol=1e-11, atol=1e-14)
    rr = RoadRunnerBench(spec, base, P, events, names, idx, n_cold=n_rr)
    y_rr = rr.states(args.scipy_subset)
    scales = spec.state_scales()
    # libRoadRunner reports the value just after an event at its time, hepatwin and SciPy the value before it
    off_event = ~np.isin(T_OUT, [e.time for e in events])
    ref_error = {"scipy": rel_error(y_ref, y_tight, scales),
                 "roadrunner": rel_error(y_rr, y_tight, scales, off_event)}
    target = min(ref_error.values())
    m_rtol, m_atol, m_err = matched_tolerance(bm, base, P, events, y_tight, scales, target)
    P_matched = P[:min(max(args.n), MATCHED_MAX_N)]

    times: dict[str, list[float]] = {}
    fast: dict[int, tuple] = {}
    matched_status = None
    for _ in range(args.repeats):  # interleaved: hepatwin, libRoadRunner, SciPy, hepatwin, ...
        for n in args.n:
            ms_1, y_fast, st1 = bench_hepatwin(bm, base, P[:n], events, 1)
            ms_all, _, st_all = bench_hepatwin(bm, base, P[:n], events, all_threads)
            times.setdefault(f"hepatwin_1t_{n}", []).append(ms_1)
            times.setdefault(f"hepatwin_all_{n}", []).append(ms_all)
            fast[n] = (y_fast, st1, st_all)
        ms_m, _, matched_status = bench_hepatwin(bm, base, P_matched, events, all_threads, m_rtol, m_atol)
        times.setdefault("matched", []).append(ms_m)
        times.setdefault("roadrunner", []).append(rr.time(n_rr))
        times.setdefault("scipy", []).append(bench_scipy(model, base, P, events, args.scipy_subset)[0])
    spread = {k: _spread(v) for k, v in times.items()}
    med = {k: v["median"] for k, v in spread.items()}
    matched = {"rtol": m_rtol, "atol": m_atol, "error": m_err, "target_error": target, "reached": bool(m_err <= target),
               "n": P_matched.shape[0], "ms_per_patient_all": med["matched"],
               "ms_per_patient_all_min": spread["matched"]["min"], "ms_per_patient_all_median": med["matched"],
               "failed_patients": int(np.sum(matched_status != 0)),
               "hepatwin_all_vs_roadrunner": med["roadrunner"] / med["matched"],
               "hepatwin_all_vs_scipy": med["scipy"] / med["matched"],
               "hepatwin_all_vs_roadrunner_min": spread["roadrunner"]["min"] / spread["matched"]["min"],
               "hepatwin_all_vs_scipy_min": spread["scipy"]["min"] / spread["matched"]["min"]}
    rows = []
    for n in args.n:
        y_fast, st1, st_all = fast[n]
        m = min(args.scipy_subset, n)
        keys = {"scipy": "scipy", "roadrunner": "roadrunner", "hepatwin_1t": f"hepatwin_1t_{n}",
                "hepatwin_all": f"hepatwin_all_{n}"}
        ms_min = {k: spread[v]["min"] for k, v in keys.items()}
        ms_med = {k: spread[v]["median"] for k, v in keys.items()}
        rows.append({
            "n": n,
            "ms_per_patient": ms_med,
            "ms_per_patient_min": ms_min,
            "ms_per_patient_median": ms_med,
            "ratios": {"hepatwin_1t_vs_roadrunner": ms_med["roadrunner"] / ms_med["hepatwin_1t"],
                       "hepatwin_all_vs_roadrunner": ms_med["roadrunner"] / ms_med["hepatwin_all"],
                       "hepatwin_all_vs_scipy": ms_med["scipy"] / ms_med["hepatwin_all"]},
            "ratios_min": {"hepatwin_1t_vs_roadrunner": ms_min["roadrunner"] / ms_min["hepatwin_1t"],
                           "hepatwin_all_vs_roadrunner": ms_min["roadrunner"] / ms_min["hepatwin_all"],
                           "hepatwin_all_vs_scipy": ms_min["scipy"] / ms_min["hepatwin_all"]},
            "seconds_total_hepatwin_all": ms_med["hepatwin_all"] * n / 1e3,
            "failed_patients": int(np.sum(st1 != 0) + np.sum(st_all != 0)),
            "max_rel_diff": rel_error(y_fast[:m], y_ref[:m], scales),
            "error_vs_tight_reference": ref_error | {"hepatwin": rel_error(y_fast[:m], y_tight[:m], scales)},
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "threads": all_threads,
        })
    extra = {"repeats": args.repeats, "scipy_subset": args.scipy_subset, "roadrunner_subset": n_rr,
             "roadrunner_first_instance_ms_per_patient": rr.first_instance_ms}
    if args.json:
        out = rows[-1] | extra | {"matched_accuracy": matched, "runs": rows}
        print(json.dumps(out, indent=1))
        return
    sp = spread
    print(f"engine benchmark: 2 simulated years, daily output, rtol {RTOL}, {all_threads} threads, "
          f"{args.repeats} interleaved repeats (ms per patient: min / median)")
    print(f"  scipy LSODA loop   {sp['scipy']['min']:9.3f} / {sp['scipy']['median']:.3f} "
          f"(subset {args.scipy_subset}, warm)")
    print(f"  libRoadRunner loop {sp['roadrunner']['min']:9.3f} / {sp['roadrunner']['median']:.3f} "
          f"(subset {n_rr}, 1 process, warm; the process's first instance, not compared: "
          f"{rr.first_instance_ms:.3f})")
    for r in rows:
        mn, q, acc = r["ms_per_patient_min"], r["ratios"], r["error_vs_tight_reference"]
        md = r["ms_per_patient_median"]
        print(f"  n={r['n']}: hepatwin 1 thread {mn['hepatwin_1t']:.3f} / {md['hepatwin_1t']:.3f} ms, all threads "
              f"{mn['hepatwin_all']:.3f} / {md['hepatwin_all']:.3f} ms ({r['seconds_total_hepatwin_all']:.1f} s "
              f"total); medians x{q['hepatwin_1t_vs_roadrunner']:.2f} and x{q['hepatwin_all_vs_roadrunner']:.2f} "
              f"vs roadrunner, x{q['hepatwin_all_vs_scipy']:.0f} vs scipy; "
              f"max rel diff {r['max_rel_diff']:.2e} (vs rtol-1e-11 reference: scipy "
              f"{acc['scipy']:.1e}, roadrunner {acc['roadrunner']:.1e}, hepatwin {acc['hepatwin']:.1e}); "
              f"peak RSS {r['peak_rss_mb']:.0f} MB; failed {r['failed_patients']}")
    q = matched
    print(f"  at the references' accuracy (hepatwin error {q['error']:.1e} <= {q['target_error']:.1e}: rtol "
          f"{q['rtol']:g}, atol {q['atol']:g}), n={q['n']}: all threads {q['ms_per_patient_all_min']:.3f} / "
          f"{q['ms_per_patient_all_median']:.3f} ms/patient; medians x{q['hepatwin_all_vs_roadrunner']:.2f} vs "
          f"roadrunner, x{q['hepatwin_all_vs_scipy']:.0f} vs scipy (mins x{q['hepatwin_all_vs_roadrunner_min']:.2f}, "
          f"x{q['hepatwin_all_vs_scipy_min']:.0f})")


if __name__ == "__main__":
    main()
