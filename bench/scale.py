"""Scale benchmark: patients per second of one population run, serial, on local processes and on Dask.

The run is `hepatwin population simulate` without screening: `run_chunks` on
examples/populations/hbv_decompensated.toml with its criteria and targets left out (so the patients are
the sampled candidates 0..n-1, each simulated from the start of its disease history, 30 years on
average), the MSC regimen of examples/scenarios/hbv_decompensated_msc.toml (1e8 cells x3 IV), to day
730 with weekly output, float32, chunks of --chunk patients written to a temporary folder.

"serial" is this process with the engine on ONE numba thread (so it measures one core; the engine's
default uses every core); "processes" is a pool of --workers local processes and "dask" a Dask
scheduler with --workers worker processes on this machine (`LocalCluster`, one thread each), each
worker's engine on cores / workers threads. Times are of the run only: pools and clusters are started,
and every engine built, before the clock starts (their start-up time is reported apart). With
--repeats R the kinds run R times interleaved (serial, processes, dask, serial, ...) and the fastest run
of each kind counts (`seconds_all` has every run). All runs must write identical chunk files (`identical`).

    python bench/scale.py [--n 100000] [--workers 2] [--chunk 2000] [--repeats 1] [--json]

JSON keys: patients_per_s {serial, processes, dask}; parallel_efficiency {processes, dask} (throughput /
(serial throughput x workers)); dask_overhead (Dask wall time / process-pool wall time - 1); and n,
workers, chunk, repeats, seconds (fastest per kind), seconds_all, startup_s, identical, failed_patients,
load_average (1-minute, before and after).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POPULATION = ROOT / "examples" / "populations" / "hbv_decompensated.toml"
REGIMEN = ROOT / "examples" / "scenarios" / "hbv_decompensated_msc.toml"
KINDS = ("serial", "processes", "dask")


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted((folder / "chunks").glob("chunk_*.parquet")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="patients (default 1e5)")
    ap.add_argument("--workers", type=int, default=2, help="local processes and Dask workers (default 2)")
    ap.add_argument("--chunk", type=int, default=2000, help="patients per chunk (task)")
    ap.add_argument("--end-day", type=float, default=730.0)
    ap.add_argument("--repeats", type=int, default=1, help="runs of each kind, interleaved; the fastest counts")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)

    import numba

    from hepatwin.population import load_population
    from hepatwin.population.large import run_chunks
    from hepatwin.run import DaskExecutor, ProcessExecutor, SerialExecutor, warm_engine
    from hepatwin.scenario import load_scenario

    cfg = load_population(POPULATION).model_copy(update={"criteria": [], "targets": {}})
    regimens = load_scenario(REGIMEN).regimen
    load = [os.getloadavg()[0]]
    warm_engine()
    runs: dict[str, list[float]] = {k: [] for k in KINDS}
    startup: dict[str, list[float]] = {k: [] for k in KINDS}
    digests, failed = {}, {}
    tmp = Path(tempfile.mkdtemp(prefix="hepatwin-scale-"))
    try:
        for rep in range(args.repeats):
            for kind in KINDS:   # interleaved, so a change in the machine's load hits every kind alike
                t0 = time.perf_counter()
                if kind == "serial":
                    numba.set_num_threads(1)
                    ex = SerialExecutor()
                elif kind == "processes":
                    ex = ProcessExecutor(args.workers)
                else:
                    ex = DaskExecutor(args.workers)
                startup[kind].append(time.perf_counter() - t0)
                out = tmp / kind
                with ex:
                    t0 = time.perf_counter()
                    summary = run_chunks(cfg, args.n, regimens, out, end_day=args.end_day, step_days=7.0,
                                         chunk=args.chunk, float32=True, executor=ex)
                    runs[kind].append(time.perf_counter() - t0)
                if kind == "serial":
                    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
                digests[kind, rep] = _digest(out)
                failed[kind] = max(failed.get(kind, 0), summary["failed_patients"])
                shutil.rmtree(out)
                if not args.json:
                    print(f"{kind:>9}: {runs[kind][-1]:8.1f} s  {args.n / runs[kind][-1]:8.1f} patients/s  "
                          f"(start-up {startup[kind][-1]:.1f} s)", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    times = {k: min(v) for k, v in runs.items()}
    load.append(os.getloadavg()[0])
    rate = {k: args.n / t for k, t in times.items()}
    result = {
        "patients_per_s": rate,
        "parallel_efficiency": {k: rate[k] / (rate["serial"] * args.workers) for k in ("processes", "dask")},
        "dask_overhead": times["dask"] / times["processes"] - 1.0,
        "n": args.n, "workers": args.workers, "chunk": args.chunk, "end_day": args.end_day,
        "serial_threads": 1, "cpu_count": os.cpu_count(),
        "repeats": args.repeats, "seconds": times, "seconds_all": runs, "startup_s": startup,
        "identical": len(set(digests.values())) == 1, "failed_patients": failed,
        "load_average": load,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(json.dumps({k: result[k] for k in ("patients_per_s", "parallel_efficiency", "dask_overhead",
                                                 "identical")}, indent=2))
    return result


if __name__ == "__main__":   # the process pool and Dask workers are spawned: they import this file
    main()
