"""Save one simulation: tidy table (Parquet, CSV), NetCDF of all variables, plots, manifest."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from .atomic import atomic_path
from .manifest import make_manifest, write_manifest


def save_result(result, out_dir: str | Path, extra_files: dict[str, Path] | None = None) -> dict[str, Path]:
    """Write the data of `result` into `out_dir` and return the written paths.

    Files are written atomically and the manifest last; `extra_files` (plots made by the
    caller) are listed in the manifest with their checksums.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    written: dict[str, Path] = {}
    frame = result.to_frame()
    with atomic_path(out / "results.parquet") as tmp:
        frame.to_parquet(tmp, index=False)
    written["parquet"] = out / "results.parquet"
    with atomic_path(out / "results.csv") as tmp:
        frame.to_csv(tmp, index=False)
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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
