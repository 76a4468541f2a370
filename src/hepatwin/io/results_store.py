"""Save one simulation: tidy table (Parquet, CSV), NetCDF of all variables, plots, manifest."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pandas as pd

from ..progress import ProgressCallback, notify
from .atomic import atomic_path
from .manifest import make_manifest, write_manifest

#: rows of the CSV written at a time (progress is reported after each block)
CSV_BLOCK_ROWS = 50_000


def save_result(result, out_dir: str | Path, extra_files: dict[str, Path] | None = None,
                progress: ProgressCallback | None = None) -> dict[str, Path]:
    """Write the data of `result` into `out_dir` and return the written paths.

    Files are written atomically and the manifest last; `extra_files` (plots made by the
    caller) are listed in the manifest with their checksums. `progress("writing results.csv", rows done,
    rows)` is called while the tables are written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    written: dict[str, Path] = {}
    frame = result.to_frame()
    with atomic_path(out / "results.parquet") as tmp:
        frame.to_parquet(tmp, index=False)
    written["parquet"] = out / "results.parquet"
    write_csv(frame, out / "results.csv", progress)
    written["csv"] = out / "results.csv"
    ds = result.dataset.copy()
    for name in list(ds.data_vars):
        if ds[name].dtype.kind in "USO":
            ds[name] = ds[name].astype(str)
    with atomic_path(out / "results.nc") as tmp:
        ds.to_netcdf(tmp, engine="netcdf4")
    written["netcdf"] = out / "results.nc"
    written.update(extra_files or {})
    timings = dict(result.timings)
    timings["write_s"] = time.perf_counter() - t0
    manifest = make_manifest(
        "simulation",
        scenario=result.scenario.model_dump(mode="json"),
        scenario_sha256=result.scenario.digest(),
        status=result.status,
        message=result.message,
        solver=result.solver,
        events=result.events,
        timings_s=timings,
        files={k: {"path": str(p.relative_to(out)), "sha256": _sha256(p)} for k, p in written.items()},
    )
    written["manifest"] = write_manifest(out, manifest)
    return written


def write_csv(frame: pd.DataFrame, path: Path, progress: ProgressCallback | None = None) -> Path:
    """Write `frame` as CSV atomically, in blocks of rows, reporting progress after each block."""
    n = len(frame)
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        for start in range(0, max(n, 1), CSV_BLOCK_ROWS):
            frame.iloc[start:start + CSV_BLOCK_ROWS].to_csv(fh, index=False, header=start == 0)
            notify(progress, f"writing {path.name}", min(start + CSV_BLOCK_ROWS, n), n)
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
