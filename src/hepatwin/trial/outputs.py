"""Write a trial run to a folder: tables, analysis, report and manifest (written last)."""

from __future__ import annotations

from pathlib import Path

from ..io.atomic import atomic_path
from ..io.manifest import invalidate, make_manifest, write_manifest
from .analysis import analyse
from .runner import DISPOSITION_LABELS, TrialResult, disposition_period
from .tables import build_tables, consort_table, write_tables


def _parts(counts, keys) -> str:
    return ", ".join(f"{DISPOSITION_LABELS[k].lower()} {int(counts[k])}" for k in keys)


def consort_sentence(res: TrialResult, replicate: int = 0) -> str:
    """Screening and disposition of one replicate in words; the disposition numbers add up to the enrolled."""
    c = res.consort[res.consort["replicate"] == replicate].iloc[0]
    keys = [k for k in DISPOSITION_LABELS if k != "solver_failure" or c[k]]
    return (f"screened {int(c['screened'])}, excluded {int(c['excluded'])}, enrolled {int(c['enrolled'])}; "
            f"{disposition_period(res.protocol)}: {_parts(c, keys)}")


def consort_lines(res: TrialResult, replicate: int = 0) -> list[str]:
    """`consort_sentence`, then one line per arm (its label): randomised and how they left the study."""
    d = res.disposition
    d = d[d["replicate"] == replicate]
    keys = [k for k in DISPOSITION_LABELS if k != "solver_failure" or d[k].any()]
    return [consort_sentence(res, replicate),
            *(f"  {r['label']}: randomised {int(r['randomised'])}; {_parts(r, keys)}" for _, r in d.iterrows())]


def write_trial(res: TrialResult, out_dir: str | Path, protocol_file: str = "") -> dict:
    """Tables (Parquet + CSV), analysis tables (CSV), report.html, manifest.json; returns the analysis."""
    from ..report.trial import trial_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    invalidate(out)
    # the report's figures and analysis tables of an earlier run (a survival curve or table of an endpoint this
    # protocol lacks) must not stay
    for old in [*(out / "figures").glob("*.png"), *(out / "analysis").glob("*.csv")]:
        old.unlink()
    tables = build_tables(res)
    files = write_tables(tables, out)
    analysis = analyse(tables, res.protocol)
    (out / "analysis").mkdir(exist_ok=True)
    for name, df in analysis.items():
        if df.empty:  # no endpoint of its kind (e.g. no time-to-event endpoint: no survival, log-rank, Cox)
            continue
        path = out / "analysis" / f"{name}.csv"
        with atomic_path(path) as tmp:
            df.to_csv(tmp, index=False)
        files.append(path)
    # consort.csv: one row per replicate; consort_by_arm.csv: per replicate and arm; both from the subjects'
    # one disposition each, so they agree with tables/ds
    for name, df in (("consort", res.consort), ("consort_by_arm", res.disposition), ("screening", res.screening)):
        path = out / f"{name}.csv"
        with atomic_path(path) as tmp:
            df.to_csv(tmp, index=False)
        files.append(path)
    note = (f"Screening and disposition: {consort_sentence(res)}. Each subject is counted once, under how they "
            f"left the study, so each row adds up to its number randomised.") if res.replicates == 1 else (
        f"Disposition {disposition_period(res.protocol)}; each row adds up to its number randomised.")
    files.append(trial_report(res.protocol, analysis, consort_table(res), res.screening, tables, out, protocol_file,
                              consort_note=note))
    write_manifest(out, make_manifest(
        "trial", protocol=res.protocol.model_dump(mode="json"), protocol_sha256=res.protocol.digest(),
        protocol_file=protocol_file, population=res.population.model_dump(mode="json"), seed=res.seed,
        replicates=res.replicates, consort=res.consort.to_dict(orient="records"),
        consort_by_arm=res.disposition.to_dict(orient="records"), timings_s=res.timings,
        engine={"name": res.engine, "rtol": 1e-6, "atol": 1e-9,
                "solver": "hepatwin numba BDF" if res.engine == "numba" else "SciPy LSODA (reference)"},
        files=sorted(str(p.relative_to(out)) for p in files)))
    return analysis
