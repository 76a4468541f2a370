"""The Dask worker plugin that builds the compiled engine when a worker joins (imports `distributed`)."""

from distributed import WorkerPlugin

from .executors import warm_engine


class EngineWarmup(WorkerPlugin):
    """Build the compiled batched engine once per worker, before its first task."""

    name = "hepatwin-engine"

    def setup(self, worker) -> None:
        warm_engine()
