"""Running work in chunks: serially, on local processes or on a Dask distributed cluster."""

from .executors import (
    CONNECT_TIMEOUT,
    KINDS,
    DaskExecutor,
    Executor,
    ExecutorError,
    ProcessExecutor,
    SerialExecutor,
    make_executor,
    warm_engine,
)

__all__ = ["CONNECT_TIMEOUT", "KINDS", "DaskExecutor", "Executor", "ExecutorError", "ProcessExecutor",
           "SerialExecutor", "make_executor", "warm_engine"]
