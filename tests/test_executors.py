"""Executors: serial, local processes and a real Dask cluster (scheduler and two workers started here as
processes) give bit-identical population chunks and power tables; a worker killed mid-run loses nothing;
an unreachable scheduler is one clear error (exit 2)."""

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hepatwin.population import load_population
from hepatwin.population.large import read_chunks, run_chunks
from hepatwin.run import DaskExecutor, ExecutorError, ProcessExecutor, make_executor
from hepatwin.scenario import Regimen
from hepatwin.trial import load_protocol
from hepatwin.trial.power import power_analysis

ROOT = Path(__file__).resolve().parents[1]
POP = ROOT / "examples" / "populations" / "hbv_decompensated.toml"
PROTOCOL = ROOT / "examples" / "trials" / "zhongnan2024.toml"
DASK = Path(sys.executable).with_name("dask")
REG = [Regimen(dose=5e7, days=[1, 8, 15])]


def _cfg():
    """The example population without screening (ids 0..n-1), so the tests time the executors."""
    return load_population(POP).model_copy(update={"criteria": [], "targets": {}})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((folder / "chunks").glob("*.parquet"))}


def _table(folder: Path) -> pd.DataFrame:
    return read_chunks(folder).sort_values(["patient_id", "day"], kind="stable").reset_index(drop=True)


class Cluster:
    """`dask scheduler` and `dask worker` processes on localhost (workers without a nanny, so killing a
    worker's PID kills the worker)."""

    def __init__(self, tmp: Path):
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        self.tmp = tmp
        self.log = open(tmp / "cluster.log", "w")  # noqa: SIM115 (closed in stop)
        self.scheduler = subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port",
                                           self.address.rsplit(":", 1)[1], "--no-dashboard",
                                           "--dashboard-address", ":0"],  # its HTTP server: not on 8787
                                          stdout=self.log, stderr=subprocess.STDOUT)
        self.workers: list[subprocess.Popen] = []

    def add_worker(self) -> subprocess.Popen:
        env = os.environ | {"NUMBA_NUM_THREADS": "1"}   # two workers on two cores
        w = subprocess.Popen([str(DASK), "worker", self.address, "--nthreads", "1", "--no-nanny",
                              "--no-dashboard", "--name", f"w{len(self.workers)}", "--death-timeout", "60"],
                             stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=self.tmp)
        self.workers.append(w)
        return w

    def wait(self, n: int, timeout: float = 90.0) -> None:
        from distributed import Client

        deadline = time.monotonic() + timeout
        while True:   # the scheduler may not listen yet
            try:
                with Client(self.address, timeout=5, set_as_default=False) as c:
                    c.wait_for_workers(n, timeout=max(1.0, deadline - time.monotonic()))
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise

    def stop(self) -> None:
        for p in [*self.workers, self.scheduler]:
            if p.poll() is None:
                p.terminate()
        for p in [*self.workers, self.scheduler]:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        c.add_worker()
        c.add_worker()
        c.wait(2)
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def pool():
    with ProcessExecutor(2) as ex:
        yield ex


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    """The reference: 160 patients to day 60 in chunks of 40, serial."""
    out = tmp_path_factory.mktemp("serial")
    summary = run_chunks(_cfg(), 160, REG, out, end_day=60, step_days=7, chunk=40)
    return out, summary


def test_population_chunks_equal_bit_for_bit_on_processes_and_dask(cluster, pool, serial_run, tmp_path):
    ref, ref_summary = serial_run
    assert len(_digests(ref)) == 4 and ref_summary["failed_patients"] == 0
    assert pool.workers == 2 and pool.threads == max(1, os.cpu_count() // 2)
    run_chunks(_cfg(), 160, REG, tmp_path / "p40", end_day=60, step_days=7, chunk=40, executor=pool)
    run_chunks(_cfg(), 160, REG, tmp_path / "p25", end_day=60, step_days=7, chunk=25, executor=pool)
    with DaskExecutor(scheduler=cluster.address) as ex:
        assert ex.workers == 2
        summary = run_chunks(_cfg(), 160, REG, tmp_path / "d40", end_day=60, step_days=7, chunk=40, executor=ex)
        run_chunks(_cfg(), 160, REG, tmp_path / "d64", end_day=60, step_days=7, chunk=64, executor=ex)
    assert summary["chunks"] == 4 and summary["chunks_skipped"] == 0
    # the same chunk size: the same files, byte for byte
    assert _digests(tmp_path / "p40") == _digests(ref) == _digests(tmp_path / "d40")
    # other chunk sizes: other files, the same table
    full = _table(ref)
    assert len(_digests(tmp_path / "p25")) == 7 and len(_digests(tmp_path / "d64")) == 3
    for other in ("p25", "d64"):
        pd.testing.assert_frame_equal(_table(tmp_path / other), full, check_exact=True)


def test_resume_with_another_executor_skips_the_chunks_on_disk(cluster, serial_run, tmp_path):
    ref, _ = serial_run
    out = tmp_path / "r"

    def stop_after_first(stage, done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):   # interrupted serially after one chunk
        run_chunks(_cfg(), 160, REG, out, end_day=60, step_days=7, chunk=40, progress=stop_after_first)
    assert len(_digests(out)) == 1
    with DaskExecutor(scheduler=cluster.address) as ex:   # resumed on the cluster
        summary = run_chunks(_cfg(), 160, REG, out, end_day=60, step_days=7, chunk=40, executor=ex)
    assert summary["chunks_skipped"] == 1 and _digests(out) == _digests(ref)


def test_power_table_equal_on_processes_and_dask(cluster, pool):
    proto, pop = load_protocol(PROTOCOL)
    args = (proto, pop, 2, [3, 4])
    summary, tests = power_analysis(*args)
    s_p, t_p = power_analysis(*args, executor=pool)
    with DaskExecutor(scheduler=cluster.address) as ex:
        s_d, t_d = power_analysis(*args, executor=ex)
    assert set(summary["n_per_arm"]) == {3, 4} and (summary["replicates"] == 2).all()
    for s, t in ((s_p, t_p), (s_d, t_d)):
        pd.testing.assert_frame_equal(s, summary, check_exact=True)
        # every column but the wall time
        pd.testing.assert_frame_equal(t.drop(columns="seconds"), tests.drop(columns="seconds"), check_exact=True)


def test_cli_trial_power_on_the_cluster_prints_the_serial_table(cluster):
    cmd = [sys.executable, "-m", "hepatwin.cli", "trial", "power", str(PROTOCOL), "--replicates", "2",
           "--n-per-arm", "3", "--json"]
    serial = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    on_dask = subprocess.run([*cmd, "--scheduler", cluster.address], capture_output=True, text=True, timeout=600)
    assert serial.returncode == 0 and on_dask.returncode == 0, on_dask.stderr[-2000:]
    assert json.loads(on_dask.stdout) == json.loads(serial.stdout)


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(cluster, tmp_path):
    cfg = _cfg()
    n, chunk = 320, 20
    ref = tmp_path / "ref"
    run_chunks(cfg, n, REG, ref, end_day=60, step_days=7, chunk=chunk)
    killed: dict = {}

    def kill_after_first_chunks(stage, done, total):
        if done < 2 * chunk or killed:
            return
        # the first chunks are on disk: kill (SIGKILL, by PID) a worker that is running chunks now
        client = ex._client
        pids, busy = client.run(os.getpid), client.processing()
        addr = next(a for a, keys in busy.items() if keys)
        victim = next(w for w in cluster.workers if w.pid == pids[addr])
        os.kill(victim.pid, signal.SIGKILL)
        killed.update(victim=victim, tasks=list(busy[addr]), done=done)

    out = tmp_path / "dask"
    # the cluster keeps one worker after this test (the tests that follow do not use it)
    with DaskExecutor(scheduler=cluster.address) as ex:
        summary = run_chunks(cfg, n, REG, out, end_day=60, step_days=7, chunk=chunk, executor=ex,
                             progress=kill_after_first_chunks)
        assert killed["victim"].wait(timeout=30) == -signal.SIGKILL
        assert killed["tasks"] and killed["done"] < n   # it held chunks, and chunks were still to come
        deadline = time.monotonic() + 20   # the scheduler notices the closed connection
        while len(ex._client.scheduler_info()["workers"]) > 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(ex._client.scheduler_info()["workers"]) == 1
    assert summary["chunks"] == n // chunk and summary["failed_patients"] == 0
    assert _digests(out) == _digests(ref)
    ids = read_chunks(out).drop_duplicates(["patient_id", "day"])
    df = read_chunks(out)
    assert len(df) == len(ids)   # no row twice
    counts = df.groupby("patient_id").size()
    assert sorted(counts.index) == list(range(n)) and (counts == counts.iloc[0]).all()


def test_unreachable_scheduler_is_one_error_naming_it_exit_2(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"   # nothing listens there
    out = tmp_path / "o"
    p = subprocess.run([sys.executable, "-m", "hepatwin.cli", "population", "simulate", str(POP), "--n", "4",
                        "--out", str(out), "--scheduler", address], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert address in p.stderr and "Traceback" not in p.stderr and p.stderr.startswith("error:")
    assert not out.exists()
    t0 = time.monotonic()
    with pytest.raises(ExecutorError, match=address):
        make_executor(scheduler=address, timeout=1.0)
    assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("kwargs, words", [
    ({"kind": "threads"}, ["--executor 'threads'", "serial, processes, dask"]),
    ({"kind": "processes", "scheduler": "tcp://127.0.0.1:1"}, ["cannot be combined with --executor processes"]),
    ({"kind": "dask", "workers": 2, "scheduler": "tcp://127.0.0.1:1"}, ["leave --workers out"]),
    ({"kind": "serial", "workers": 2}, ["--workers 2 needs --executor processes or dask"]),
])
def test_conflicting_executor_options_are_refused(kwargs, words):
    with pytest.raises(ExecutorError) as exc:
        make_executor(**kwargs)
    for w in words:
        assert w in str(exc.value)


def test_scale_bench_smoke():
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "scale.py"), "--n", "200", "--chunk", "50", "--json"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    d = json.loads(p.stdout)
    assert set(d["patients_per_s"]) == {"serial", "processes", "dask"}
    assert set(d["parallel_efficiency"]) == {"processes", "dask"}
    assert all(v > 0 for v in d["patients_per_s"].values()) and np.isfinite(d["dask_overhead"])
    assert d["identical"] and d["n"] == 200 and d["workers"] == 2
