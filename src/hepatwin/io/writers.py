"""Writers of run folders and files: what the command line and the Python API write, in one place.

Each writer holds its output folder (`run_folder`: one writer at a time, one run's files only), writes its
files atomically and the manifest last. The command line only parses, calls these and prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .atomic import atomic_path, write_text
from .manifest import make_manifest, write_manifest
from .run_folder import run_folder


def write_comparison(results: Sequence, files: Sequence[str], out: str | Path, days: Sequence[float],
                     scenarios: Sequence | None = None) -> Path:
    """Each scenario's results under OUT/<file stem>/, the comparison report OUT/report.html and the manifest;
    returns the report's path."""
    from ..report.html import compare_report
    from .results_store import save_result

    out = Path(out)
    with run_folder(out):
        for f, r in zip(files, results, strict=True):
            save_result(r, out / Path(f).stem)
        report = compare_report(results, list(files), out, days=list(days))
        write_manifest(out, make_manifest("comparison", scenarios=list(files),
                                          scenario_sha256=[r.scenario.digest() for r in results],
                                          status=[r.status for r in results], report="report.html"))
    return report


def write_population(res, cfg, n: int, out: str | Path) -> Path:
    """A screened population (`population.generate`'s result): OUT/patients.parquet and the manifest."""
    out = Path(out)
    with run_folder(out):
        with atomic_path(out / "patients.parquet") as tmp:
            res.candidates.to_parquet(tmp, index=False)
        write_manifest(out, make_manifest(
            "population", config=cfg.model_dump(mode="json"), seed=cfg.seed, n_requested=n,
            n_candidates=len(res.candidates), n_accepted=int(res.candidates["accepted"].sum()),
            n_selected=int(res.candidates["selected"].sum()), acceptance_rate=res.acceptance_rate,
            rejections=res.rejections, ks=res.ks, scaling_factor=res.scaling_factor, timings_s=res.timings))
    return out / "patients.parquet"


def write_sbml(report, out: str | Path) -> tuple[Path, Path]:
    """The SBML file and, beside it, libsbml's consistency findings one a line (OUT.warnings.txt)."""
    out = Path(out)
    warnings_path = out.with_suffix(".warnings.txt")
    write_text(out, report.sbml)
    write_text(warnings_path, f"# libsbml consistency check of {out.name}: {len(report.errors)} error(s), "
                              f"{len(report.warnings)} warning(s); one line each: "
                              "severity | category, id, line | message | short message\n"
                              + "".join(w + "\n" for w in report.warnings))
    return out, warnings_path


def write_population_run(out: str | Path, cfg, regimens: Sequence, summary: dict) -> Path:
    """The manifest that marks a chunked population run (`population.large.run_chunks`) complete."""
    return write_manifest(out, make_manifest("population_run", config=cfg.model_dump(mode="json"), seed=cfg.seed,
                                             regimens=[r.model_dump(mode="json") for r in regimens], **summary))


def write_power(summary, tests, protocol, out: str | Path, *, seed: int, replicates: int,
                n_per_arm: Sequence[int], engine: str = "numba") -> Path:
    """A power calculation: power.csv, replicate_tests.csv, power.png and the manifest."""
    from ..trial.power import plot_power

    out = Path(out)
    with run_folder(out):
        for name, df in (("power.csv", summary), ("replicate_tests.csv", tests)):
            with atomic_path(out / name) as tmp:
                df.to_csv(tmp, index=False)
        plot_power(summary, out / "power.png")
        write_manifest(out, make_manifest("trial_power", protocol=protocol.model_dump(mode="json"),
                                          protocol_sha256=protocol.digest(), seed=seed, replicates=replicates,
                                          n_per_arm=list(n_per_arm), engine=engine))
    return out / "power.csv"


def write_validation(rows, out: str | Path, **settings) -> Path:
    """The validation table: validation.json and validation.csv (each row with its finding and whether it was
    used for fitting) and a manifest with the settings and the pass count."""
    import json

    import pandas as pd

    from ..calibrate import FITTED

    out = Path(out)
    with run_folder(out):
        records = [r.as_dict() | {"finding": r.finding, "fitted": FITTED.get(r.id, "")} for r in rows]
        write_text(out / "validation.json", json.dumps(records, indent=2) + "\n")
        with atomic_path(out / "validation.csv") as tmp:
            pd.DataFrame(records).to_csv(tmp, index=False)
        write_manifest(out, make_manifest("validation", **settings, passed=sum(r.passed for r in rows),
                                          rows=len(rows)))
    return out / "validation.json"


__all__ = ["write_comparison", "write_population", "write_population_run", "write_power", "write_sbml",
           "write_validation"]
