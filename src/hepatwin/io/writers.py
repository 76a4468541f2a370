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


__all__ = ["write_comparison", "write_population", "write_sbml"]
