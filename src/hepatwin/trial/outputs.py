"""Write a trial run to a folder: tables, analysis, report and manifest (written last)."""

from __future__ import annotations

from pathlib import Path

from ..io.atomic import atomic_path
from ..io.manifest import invalidate, make_manifest, write_manifest
from .analysis import analyse
from .runner import TrialResult
from .tables import build_tables, write_tables


def write_trial(res: TrialResult, out_dir: str | Path, protocol_file: str = "") -> dict:
    """Tables (Parquet + CSV), analysis tables (CSV), report.html, manifest.json; returns the analysis."""
    from ..report.trial import trial_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    invalidate(out)
    # the report's figures of an earlier run (a survival curve of an endpoint this protocol lacks) must not stay
    for old in (out / "figures").glob("*.png"):
        old.unlink()
    tables = build_tables(res)
    files = write_tables(tables, out)
    analysis = analyse(tables, res.protocol)
    (out / "analysis").mkdir(exist_ok=True)
    for name, df in analysis.items():
        path = out / "analysis" / f"{name}.csv"
        with atomic_path(path) as tmp:
            df.to_csv(tmp, index=False)
        files.append(path)
    for name, df in (("consort", res.consort), ("screening", res.screening)):
        path = out / f"{name}.csv"
        with atomic_path(path) as tmp:
            df.to_csv(tmp, index=False)
        files.append(path)
    files.append(trial_report(res.protocol, analysis, res.consort, res.screening, tables, out, protocol_file))
    write_manifest(out, make_manifest(
        "trial", protocol=res.protocol.model_dump(mode="json"), protocol_sha256=res.protocol.digest(),
        protocol_file=protocol_file, population=res.population.model_dump(mode="json"), seed=res.seed,
        replicates=res.replicates, consort=res.consort.to_dict(orient="records"), timings_s=res.timings,
        engine={"solver": "hepatwin numba BDF", "rtol": 1e-6, "atol": 1e-9},
        files=sorted(str(p.relative_to(out)) for p in files)))
    return analysis
