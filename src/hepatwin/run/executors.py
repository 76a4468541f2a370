"""Executors: one way to run independent tasks serially, on local processes or on a Dask cluster.

A task is a chunk of work (hundreds to thousands of patients, or a group of replicate trials), never
one patient. `Executor.map_chunks(fn, chunks)` yields ``(index, fn(chunks[index]))`` as chunks finish,
in any order; the caller writes or combines them. `fn` must be a module-level function and each chunk
picklable, so the same call runs in this process, in a pool of processes or on Dask workers.

Results do not depend on the executor: every task is a pure function of its chunk (patients carry
their own random streams, see `hepatwin.population.generate.sample`), and the numba engine solves
each patient independently of its batch and of the number of threads.

Each worker builds the compiled engine once when it starts (`warm_engine`) and runs the engine on
`threads` numba threads (default: the machine's cores divided by the local workers, so two workers
on two cores do not each start two threads). On an existing cluster (`scheduler=`) the workers keep
their own setting: start them with ``NUMBA_NUM_THREADS`` equal to their cores divided by ``--nworkers``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..progress import ProgressCallback, notify

#: seconds to wait for a Dask scheduler (and for it to have a worker) before giving up
CONNECT_TIMEOUT = 5.0
KINDS = ("serial", "processes", "dask")


class ExecutorError(RuntimeError):
    """The executor cannot run the work (scheduler unreachable, workers lost); meant for the user."""


def warm_engine() -> None:
    """Make this process ready for hepatwin tasks: import the modules tasks use, build the compiled engine
    (from the on-disk cache after the first time) and run it once on one patient for one day, which loads
    the solver's machine code; later calls return at once."""
    import numpy as np

    from ..calibrate import validation  # noqa: F401  (imported for the tasks that follow)
    from ..engine.batched import compile_batched, solve_batch
    from ..engine.codegen import compile_model
    from ..model import build_model
    from ..population import large  # noqa: F401
    from ..trial import power  # noqa: F401

    spec = build_model()
    model = compile_model(spec)
    y0 = model.state_vector(spec.healthy_state())[None]
    solve_batch(compile_batched(spec), y0, model.param_vector(spec.default_values())[None], np.zeros(1),
                np.array([0.0, 1.0]), [[]])


def _set_threads(threads: int | None) -> None:
    if threads:
        import numba

        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))


def _worker_init(threads: int | None, warm: bool) -> None:
    _set_threads(threads)
    if warm:
        warm_engine()


def _pid(_: int) -> int:
    import time

    time.sleep(0.05)
    return os.getpid()


def _call(fn: Callable, chunk: Any, threads: int | None) -> Any:
    # numba's thread count is per calling thread: set it where the task runs (a Dask worker's task thread)
    _set_threads(threads)
    return fn(chunk)


class Executor:
    """Runs `fn` over chunks; use as a context manager (closes pools and clusters)."""

    kind = "serial"
    #: chunks submitted per worker and not yet collected (enough that no worker waits for the next)
    in_flight = 2

    def __init__(self, workers: int = 1, threads: int | None = None):
        self.workers = int(workers)
        self.threads = threads

    def map_chunks(self, fn: Callable, chunks: Sequence, progress: ProgressCallback | None = None,
                   stage: str = "tasks") -> Iterator[tuple[int, Any]]:
        """Yield (index, fn(chunks[index])) as each chunk finishes (any order); `progress(stage, done, total)`
        after each. At most a few chunks per worker are in flight, so results never pile up in memory."""
        total = len(chunks)
        for done, (i, result) in enumerate(self._run(fn, list(chunks)), start=1):
            notify(progress, stage, done, total)
            yield i, result

    def map(self, fn: Callable, chunks: Sequence) -> list:
        """fn over every chunk, results in the order of `chunks`."""
        out: list = [None] * len(chunks)
        for i, r in self.map_chunks(fn, chunks):
            out[i] = r
        return out

    def _run(self, fn, chunks) -> Iterator[tuple[int, Any]]:
        for i, c in enumerate(chunks):   # lazily: a chunk runs when the caller asks for the next result
            yield i, _call(fn, c, self.threads)

    def describe(self) -> str:
        return "serial (this process)"

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SerialExecutor(Executor):
    """Every chunk in this process, one after the other (the engine still uses all numba threads)."""


def _default_threads(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))


class ProcessExecutor(Executor):
    """A pool of `workers` local processes (spawned; each builds the engine once when it starts)."""

    kind = "processes"

    def __init__(self, workers: int | None = None, threads: int | None = None, warm: bool = True):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        workers = int(workers or os.cpu_count() or 1)
        super().__init__(workers, threads or _default_threads(workers))
        # spawn, not fork: the parent may already run numba threads, which a forked child would inherit broken
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_worker_init, initargs=(self.threads, warm))
        self._start()

    def _start(self, timeout: float = 120.0) -> None:
        """Wait until every worker has started (and built its engine), so the first chunks do not wait."""
        import time
        from concurrent.futures.process import BrokenProcessPool

        seen: set[int] = set()
        deadline = time.monotonic() + timeout
        try:
            while len(seen) < self.workers and time.monotonic() < deadline:
                seen.update(self._pool.map(_pid, range(2 * self.workers)))
        except BrokenProcessPool as exc:
            self._pool.shutdown(wait=False, cancel_futures=True)
            raise ExecutorError(f"the local worker processes could not start ({exc})") from None

    def _run(self, fn, chunks):
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        todo = iter(enumerate(chunks))
        pending: dict = {}

        def submit() -> None:
            for i, c in todo:
                pending[self._pool.submit(_call, fn, c, self.threads)] = i
                if len(pending) >= self.in_flight * self.workers:
                    return

        submit()
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                i = pending.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool as exc:
                    raise ExecutorError(f"a worker process of the local pool died ({exc}); the chunks already "
                                        "written are kept, rerun to resume") from None
                yield i, result
            submit()

    def describe(self) -> str:
        return f"{self.workers} local processes x {self.threads} engine thread(s)"

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """Tasks on a Dask distributed cluster: an existing one (`scheduler="tcp://host:port"`) or a local
    cluster of `workers` processes with one thread each, started here and stopped on close.

    A worker that dies mid-run loses its tasks to the scheduler, which runs them again on the others
    (up to `distributed.scheduler.allowed-failures` times per task)."""

    kind = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None, threads: int | None = None,
                 timeout: float = CONNECT_TIMEOUT, warm: bool = True):
        import logging

        from distributed import Client, LocalCluster

        self._cluster = None
        self.scheduler = scheduler
        if scheduler is not None:
            try:
                self._client = Client(scheduler, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                                    f"({exc.__class__.__name__}: {exc}); is `dask scheduler` running there and "
                                    "reachable from this machine?") from None
            try:
                self._client.wait_for_workers(1, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                self._client.close()
                raise ExecutorError(f"the Dask scheduler at {scheduler} has no workers (waited {timeout:g} s: "
                                    f"{exc}); start some with `dask worker {scheduler}`") from None
            n = len(self._client.scheduler_info().get("workers", {}))
            super().__init__(max(1, n), threads)
        else:
            workers = int(workers or os.cpu_count() or 1)
            super().__init__(workers, threads or _default_threads(workers))
            # the scheduler's HTTP server on a free port (8787, the default, may be another cluster's)
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                         dashboard_address=":0", silence_logs=logging.ERROR)
            self._client = Client(self._cluster, set_as_default=False)
            self.scheduler = self._cluster.scheduler_address
        if warm:
            from .dask_plugin import EngineWarmup

            try:
                self._client.register_plugin(EngineWarmup())
            except Exception as exc:   # e.g. hepatwin missing on a worker: whatever the worker raised
                self.close()
                raise ExecutorError(f"the Dask workers of {self.scheduler} cannot run hepatwin "
                                    f"({exc.__class__.__name__}: {exc}); every worker needs the same hepatwin "
                                    "installed") from None

    def _run(self, fn, chunks):
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        todo = iter(enumerate(chunks))
        keys: dict = {}
        window = as_completed(loop=self._client.loop)

        def submit() -> None:
            for i, c in todo:
                fut = self._client.submit(_call, fn, c, self.threads, pure=False)
                keys[fut.key] = i
                window.add(fut)
                if window.count() >= self.in_flight * self.workers:
                    return

        submit()
        try:
            for fut in window:
                i = keys.pop(fut.key)
                try:
                    result = fut.result()
                except KilledWorker as exc:
                    raise ExecutorError(f"Dask workers kept dying while running chunk {i} ({exc}); the chunks "
                                        "already written are kept, rerun to resume") from None
                fut.release()
                yield i, result
                submit()
        finally:
            window.clear()

    def describe(self) -> str:
        where = "local cluster" if self._cluster is not None else "scheduler"
        return f"Dask {where} at {self.scheduler} ({self.workers} worker(s))"

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(kind: str = "serial", workers: int | None = None, scheduler: str | None = None,
                  timeout: float = CONNECT_TIMEOUT) -> Executor:
    """The executor the CLI options name: `scheduler` (an existing Dask cluster) implies "dask"."""
    if scheduler is not None:
        if kind not in ("serial", "dask"):
            raise ExecutorError(f"--scheduler {scheduler} runs on that Dask cluster; it cannot be combined with "
                                f"--executor {kind}")
        if workers is not None:
            raise ExecutorError(f"--workers sizes a local pool or cluster; with --scheduler {scheduler} the "
                                "cluster's own workers run the tasks (leave --workers out)")
        return DaskExecutor(scheduler=scheduler, timeout=timeout)
    if kind not in KINDS:
        raise ExecutorError(f"--executor {kind!r}: expected one of {', '.join(KINDS)}")
    if workers is not None and workers < 1:
        raise ExecutorError(f"--workers {workers}: expected 1 or more")
    if kind == "serial":
        if workers not in (None, 1):
            raise ExecutorError(f"--workers {workers} needs --executor processes or dask (serial runs in this "
                                "process)")
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers)
    return DaskExecutor(workers)
