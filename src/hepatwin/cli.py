"""Command-line interface: `hepatwin score | simulate | compare | model lint/docs/check`."""

from __future__ import annotations

import json
import signal
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from . import DISCLAIMER, __version__
from .errors import InputError
from .io.atomic import check_out_dir, prepare_out_dir
from .io.run_folder import run_folder

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help=f"hepatwin {__version__}: liver disease and MSC therapy simulation. {DISCLAIMER}")
model_app = typer.Typer(no_args_is_help=True, help="Inspect the model: lint, docs, plausibility checks.")
app.add_typer(model_app, name="model")
export_app = typer.Typer(no_args_is_help=True, help="Export the model to other formats.")
app.add_typer(export_app, name="export")

# markup off: file names, scenario names and messages may hold [brackets] that must be shown as typed
out_console = Console(soft_wrap=True, markup=False)
err_console = Console(stderr=True, soft_wrap=True, markup=False)


def _verdict(passed: bool) -> Text:
    """PASS in green or FAIL in red (styled text: the consoles read no markup, so brackets in data stay as typed)."""
    return Text("PASS", style="green") if passed else Text("FAIL", style="red")


def _red(head: str, rest: str) -> Text:
    return Text.assemble((head, "red"), rest)


class UserError(InputError):
    """A mistake in a command-line option: reported without a traceback, exit code 2 (as every InputError)."""


def _progress():
    """A progress display on stderr: a bar with counts, elapsed time and ETA on a terminal; log lines otherwise
    (a CI log or a file shows how far a long run got)."""
    if not err_console.is_terminal:
        return _LogProgress()
    return Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                    console=err_console, transient=True)


class _LogProgress:
    """The part of rich's Progress the commands use, writing a line at each new stage, every 10% and at least
    every 30 s instead of redrawing a bar; nothing in the first `quiet_s` seconds (a quick command, or one
    that refuses its input, prints only its answer)."""

    def __init__(self, every_s: float = 30.0, quiet_s: float | None = None):
        import os

        self.tasks: dict[int, dict] = {}
        self.every_s = every_s
        # HEPATWIN_PROGRESS_QUIET_S: seconds before the first line (0 logs every stage; tests use it)
        self.quiet_s = float(os.environ.get("HEPATWIN_PROGRESS_QUIET_S", 2.0)) if quiet_s is None else quiet_s
        self.t0 = time.monotonic()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def add_task(self, description: str, total: float | None = None, **_) -> int:
        tid = len(self.tasks)
        self.tasks[tid] = {"description": description, "total": total, "completed": 0.0, "t0": time.monotonic(),
                           "last": -1.0, "decile": -1}
        self._log(tid, force=True)
        return tid

    def update(self, task: int, *, completed: float | None = None, total: float | None = None,
               description: str | None = None, advance: float | None = None, **_) -> None:
        t = self.tasks[task]
        stage = description is not None and description.split(" ")[0] != t["description"].split(" ")[0]
        if stage or (total is not None and total != t["total"]):
            t["decile"] = -1     # a new stage counts its own tenths
        for key, value in (("completed", completed), ("total", total), ("description", description)):
            if value is not None:
                t[key] = value
        if advance:
            t["completed"] += advance
        self._log(task, force=stage)

    def advance(self, task: int, advance: float = 1) -> None:
        self.update(task, advance=advance)

    def _log(self, task: int, force: bool = False) -> None:
        t = self.tasks[task]
        now = time.monotonic()
        if now - self.t0 < self.quiet_s:
            return
        total = t["total"]
        decile = int(10 * t["completed"] / total) if total else -1
        if not (force or decile > t["decile"] or now - t["last"] >= self.every_s):
            return
        t["decile"], t["last"] = max(decile, t["decile"]), now
        done = f" {t['completed']:,.0f}/{total:,.0f}" if total else ""
        err_console.print(f"[{now - t['t0']:7.1f} s] {t['description']}{done}", highlight=False)


def _load(path: Path):
    from .scenario import load_scenario

    return load_scenario(path)   # an InputError ends in main() as one `error:` line, exit 2


ALLOW_LARGE_HELP = "run even if the estimated output or follow-up is beyond the limits (hepatwin.limits)"


def _check_size(scen, allow_large: bool) -> None:
    """Refuse a scenario whose results would not fit, before anything is computed or written."""
    from .limits import RunTooLargeError, check_scenario
    from .model import build_model
    from .simulate import result_width

    try:
        check_scenario(scen, result_width(build_model()), allow_large)
    except RunTooLargeError as exc:
        raise UserError(str(exc)) from None


def _reporter(progress: Progress, task, prefix: str = ""):
    """hepatwin's progress protocol, `progress(stage, done, total)` (`hepatwin.progress`), shown on `task`."""
    def report(stage: str, done: float, total: float | None) -> None:
        progress.update(task, description=prefix + stage, completed=done, total=total)
    return report


def _writing(progress: Progress, task):
    """hepatwin's progress protocol for writers: the rows written shown in the description, not the bar."""
    def report(stage: str, done: float, total: float | None) -> None:
        progress.update(task, description=f"{stage} {done:,.0f}/{total:,.0f} rows")
    return report


# --------------------------------------------------------------------------- score


class Engine(StrEnum):
    scipy = "scipy"
    numba = "numba"


#: --engine of the commands that run many patients (the compiled engine by default)
BatchEngineOption = Annotated[Engine, typer.Option(
    "--engine", help="numba (compiled BDF) or scipy (the reference solver, about 100x slower; for checking)")]


class Sex(StrEnum):
    female = "female"
    male = "male"


@app.command()
def score(
    bilirubin: Annotated[float, typer.Option(help="total bilirubin")],
    albumin: Annotated[float, typer.Option(help="serum albumin")],
    inr: Annotated[float, typer.Option(help="INR")],
    creatinine: Annotated[float, typer.Option(help="serum creatinine")],
    sodium: Annotated[float, typer.Option(help="serum sodium (mmol/L)")],
    bilirubin_unit: Annotated[str, typer.Option(help="mg/dL or umol/L")] = "mg/dL",
    albumin_unit: Annotated[str, typer.Option(help="g/L or g/dL")] = "g/L",
    creatinine_unit: Annotated[str, typer.Option(help="mg/dL or umol/L")] = "mg/dL",
    ascites: Annotated[str, typer.Option(help="none, mild, moderate or severe")] = "none",
    encephalopathy: Annotated[str, typer.Option(help="none, grade1..grade4")] = "none",
    sex: Annotated[Sex, typer.Option(help="female or male (MELD 3.0)")] = Sex.male,
    dialysis: Annotated[bool, typer.Option(help="dialysis twice in the past week")] = False,
    cholestatic: Annotated[bool, typer.Option(help="use PBC/PSC bilirubin bands for Child-Pugh")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Child-Pugh, MELD, MELD-Na, MELD 3.0 and ALBI from real lab values."""
    import numpy as np

    from .clinical import all_scores, to_g_l_albumin, to_mg_dl_bilirubin, to_mg_dl_creatinine
    from .clinical.ranges import check_lab_ranges

    try:
        with np.errstate(over="ignore"):    # an absurd value is refused below, not warned about
            canonical = {"bilirubin": to_mg_dl_bilirubin(bilirubin, bilirubin_unit),
                         "albumin": to_g_l_albumin(albumin, albumin_unit),
                         "creatinine": to_mg_dl_creatinine(creatinine, creatinine_unit), "inr": inr, "sodium": sodium}
        check_lab_ranges(canonical, {"bilirubin": f"--bilirubin {bilirubin:g} {bilirubin_unit}",
                                     "albumin": f"--albumin {albumin:g} {albumin_unit}",
                                     "creatinine": f"--creatinine {creatinine:g} {creatinine_unit}",
                                     "inr": f"--inr {inr:g}", "sodium": f"--sodium {sodium:g} mmol/L"})
        scores = all_scores(bilirubin, bilirubin_unit, albumin, albumin_unit, inr, creatinine, creatinine_unit,
                            sodium, ascites, encephalopathy, female=sex == Sex.female, dialysis=dialysis,
                            cholestatic=cholestatic)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        print(json.dumps(scores))
        return
    table = Table(title="Liver scores", caption=DISCLAIMER)
    table.add_column("score")
    table.add_column("value", justify="right")
    labels = {"child_pugh_points": "Child-Pugh points", "child_pugh_class": "Child-Pugh class", "meld": "MELD",
              "meld_na": "MELD-Na", "meld_3": "MELD 3.0", "albi": "ALBI score", "albi_grade": "ALBI grade"}
    for k, label in labels.items():
        v = scores[k]
        table.add_row(label, f"{v:.3f}" if isinstance(v, float) else str(v))
    out_console.print(table)


# --------------------------------------------------------------------------- simulate


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help="scenario TOML file")],
    out: Annotated[Path, typer.Option("--out", help="output folder")],
    plots: Annotated[bool, typer.Option(help="write PNG plots")] = True,
    engine: Annotated[Engine, typer.Option(help="scipy (reference) or numba (compiled BDF)")] = None,
    allow_large: Annotated[bool, typer.Option("--allow-large", help=ALLOW_LARGE_HELP)] = False,
) -> None:
    """Simulate one scenario; write tables (Parquet, CSV), NetCDF, plots and manifest.json."""
    from .io.results_store import save_result
    from .report.plots import plot_result
    from .simulate import simulate as run

    scen = _load(scenario)
    _check_size(scen, allow_large)
    with run_folder(out), _progress() as progress:
        task = progress.add_task(f"simulating {scen.name}", total=3)
        result = run(scen, engine=(engine or Engine.scipy).value, allow_large=allow_large)
        progress.advance(task)
        extra = {}
        if plots and result.ok:
            progress.update(task, description="plotting")
            extra = {f"plot:{k}": p for k, p in plot_result(result, out / "plots").items()}
        progress.advance(task)
        save_result(result, out, extra, progress=_writing(progress, task))
        progress.advance(task)
    if not result.ok:
        err_console.print(_red("solver failed", f" ({result.status}): {result.message}; partial results in {out}"))
        raise typer.Exit(1)
    plotted = "plots/, " if extra else ""
    out_console.print(f"wrote {out}/ (results.parquet, results.csv, results.nc, {plotted}manifest.json) "
                      f"in {sum(result.timings.values()):.2f} s")


@app.command()
def compare(
    scenarios: Annotated[list[Path], typer.Argument(metavar="SCENARIOS", help="two or more scenario TOML files")],
    out: Annotated[Path, typer.Option("--out", help="output folder")],
    days: Annotated[str, typer.Option(help="comma-separated visit days for the table")] = "0,29,57,85,169",
    engine: Annotated[Engine, typer.Option(help="scipy (reference) or numba (compiled BDF)")] = None,
    allow_large: Annotated[bool, typer.Option("--allow-large", help=ALLOW_LARGE_HELP)] = False,
) -> None:
    """Simulate scenarios side by side and write an HTML report (the demo)."""
    import math

    from .io.writers import write_comparison
    from .simulate import simulate as run

    try:
        visit_days = [float(d) for d in days.split(",") if d.strip()]
    except ValueError:
        visit_days = []
    if not visit_days or not all(math.isfinite(d) for d in visit_days):
        raise UserError(f"--days {days!r}: expected comma-separated numbers such as 0,29,57")
    if len(scenarios) < 2:
        raise UserError(f"compare takes two or more scenario files; got {len(scenarios)} (use `hepatwin simulate` "
                        "for one)")
    stems = [p.stem for p in scenarios]
    if len(set(stems)) < len(stems):   # each scenario's results go to OUT/<file name without .toml>
        twice = sorted({x for x in stems if stems.count(x) > 1})
        raise UserError(f"scenario files with the same name {twice} would write to the same folder under {out}; "
                        "rename one")
    scens = [_load(p) for p in scenarios]
    for p, s in zip(scenarios, scens, strict=True):
        _check_size(s, allow_large)
        times = set(s.simulation.output_times())
        missing = [d for d in visit_days if d not in times]
        if missing:
            raise UserError(f"{p}: visit day(s) {missing} are not output times of the scenario")
    results = []
    with run_folder(out), _progress() as progress:   # held while simulating: a second writer is refused now
        task = progress.add_task("simulating", total=len(scens) + 1)
        for s in scens:
            progress.update(task, description=f"simulating {s.name}")
            results.append(run(s, engine=(engine or Engine.scipy).value, allow_large=allow_large))
            progress.advance(task)
        progress.update(task, description="writing report")
        report = write_comparison(results, [str(p) for p in scenarios], out, visit_days)
        progress.advance(task)
    failed = [r.scenario.name for r in results if not r.ok]
    out_console.print(f"report: {report.resolve()}")
    if failed:
        err_console.print(_red("solver failed for", f" {', '.join(failed)}"))
        raise typer.Exit(1)


# --------------------------------------------------------------------------- model


@model_app.command("lint")
def model_lint(as_json: Annotated[bool, typer.Option("--json", help="print findings as JSON")] = False) -> None:
    """Report every problem in the model declaration; exit 1 if any is an error."""
    from .model import build_model
    from .spec.lint import lint

    findings = lint(build_model())
    errors = [f for f in findings if f.severity == "error"]
    if as_json:
        print(json.dumps([f.__dict__ for f in findings], indent=1))
    else:
        for f in findings:
            colour = "red" if f.severity == "error" else "yellow"
            out_console.print(Text.assemble((f.severity, colour), f" {f.code:22s} {f.where}: {f.message}"),
                              highlight=False)
        out_console.print(f"{len(errors)} error(s), {len(findings) - len(errors)} warning(s)")
    if errors:
        raise typer.Exit(1)


@model_app.command("docs")
def model_docs(out: Annotated[Path, typer.Option("--out", help="output folder for Markdown")]) -> None:
    """Write equations and parameter tables (Markdown) generated from the spec."""
    from .model import build_model
    from .spec.docs import write_docs

    prepare_out_dir(out)
    paths = write_docs(build_model(), out)
    out_console.print(f"wrote {len(paths)} pages to {out}/ (start at index.md)")


@model_app.command("check")
def model_check(as_json: Annotated[bool, typer.Option("--json", help="print results as JSON")] = False) -> None:
    """Run the plausibility checks and print PASS/FAIL with the numbers; exit 1 on any FAIL."""
    from .checks import run_checks

    with _progress() as progress:
        progress.add_task("running plausibility checks", total=None)
        results = run_checks()
    if as_json:
        print(json.dumps([r.__dict__ for r in results], indent=1))
    else:
        for r in results:
            out_console.print(_verdict(r.passed) + f" {r.name}: {r.expectation}", highlight=False)
            out_console.print("     " + ", ".join(f"{k}={v}" for k, v in r.numbers.items()), highlight=False)
        n_fail = sum(not r.passed for r in results)
        out_console.print(f"{len(results) - n_fail} passed, {n_fail} failed")
    if any(not r.passed for r in results):
        raise typer.Exit(1)


@export_app.command("sbml")
def export_sbml_cmd(
    out: Annotated[Path, typer.Argument(metavar="OUT", help="SBML file to write")],
    scenario: Annotated[Path | None, typer.Argument(metavar="SCENARIO",
        help="scenario TOML (parameters, initial state, events)")] = None,
    start: Annotated[str, typer.Option(
        help="what SBML time 0 is: burn-in (default; the scenario's first simulated day, i.e. the start of the "
             "disease-history burn-in if the patient has one) or baseline (scenario day 0: the burn-in is "
             "simulated with the reference solver and the day-0 state exported as initial values)")] = "burn-in",
    verbose: Annotated[bool, typer.Option("--verbose", help="print libsbml's warnings, one line each "
                                                            "(they are always written to OUT.warnings.txt)")] = False,
) -> None:
    """SBML Level 3 Version 2 of the model (with a scenario's infusions and therapy as events).

    libsbml's consistency warnings go to a file beside OUT (OUT.xml -> OUT.warnings.txt).
    """
    from .io.sbml import START, export_sbml, export_scenario
    from .io.writers import write_sbml
    from .model import build_model

    if out.suffix.lower() == ".toml":   # the arguments swapped: do not write SBML over a scenario
        raise UserError(f"{out}: the SBML file to write ends in .toml; the order is "
                        "`hepatwin export sbml OUT.xml [SCENARIO.toml]`")
    if start not in START:
        raise UserError(f"--start {start!r}: expected one of {', '.join(START)}")
    if start == "baseline" and scenario is None:
        raise UserError("--start baseline: needs a SCENARIO.toml (the plain model has no burn-in: "
                        "its SBML time 0 is already day 0)")
    report = export_scenario(_load(scenario), start=start) if scenario else export_sbml(build_model())
    _, warnings_path = write_sbml(report, out)
    out_console.print(f"wrote {out}: libsbml consistency check {len(report.errors)} error(s), "
                      f"{len(report.warnings)} warning(s), listed in {warnings_path}"
                      + ("" if verbose or not report.warnings else " (--verbose prints them)"))
    if verbose:
        for line in report.warnings:
            out_console.print(line, highlight=False)
    t0 = report.t_offset
    out_console.print(f"SBML time 0 = study day {t0:g}"
                      + (f" (start of the {-t0 / 365.25:g}-year burn-in; scenario day 0 = SBML time {-t0:g}; "
                         "--start baseline exports from day 0)" if t0 < 0 else ""), highlight=False)


population_app = typer.Typer(no_args_is_help=True, help="Virtual populations.")
app.add_typer(population_app, name="population")


@population_app.command("generate")
def population_generate(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="population TOML file")],
    n: Annotated[int, typer.Option("--n", min=1, help="number of accepted virtual patients")],
    out: Annotated[Path, typer.Option("--out", help="output folder")],
    chunk: Annotated[int, typer.Option(min=1, help="candidates simulated per batch (does not change results)")] = 2000,
    engine: BatchEngineOption = Engine.numba,
) -> None:
    """Sample, burn in and screen virtual patients; select to target distributions if given."""
    from .io.writers import write_population
    from .population import generate, load_population

    cfg = load_population(config)
    # the folder is held from the start, but cleared only once screening succeeded: a failed screening leaves
    # an earlier run in OUT as it was (and a new OUT is removed again)
    with run_folder(out, begin=False) as folder:
        with _progress() as progress:
            task = progress.add_task("screening candidates", total=n)
            res = generate(cfg, n, chunk=chunk, progress=_reporter(progress, task), engine=engine.value)
        folder.begin()
        write_population(res, cfg, n, out)
    out_console.print(f"{len(res.candidates)} candidates, {int(res.candidates['accepted'].sum())} accepted "
                      f"(acceptance rate {res.acceptance_rate:.1%}), {int(res.candidates['selected'].sum())} selected")
    for name, count in res.rejections.items():
        out_console.print(f"  rejected by {name}: {count}")
    for name, ks in res.ks.items():
        out_console.print(f"  target {name}: KS {ks['ks_plausible']:.3f} (plausible) -> {ks['ks_selected']:.3f} "
                          f"(selected, p = {ks['p_selected']:.2f})")
    out_console.print(f"wrote {out}/patients.parquet and manifest.json")


#: the executor options of the commands that run many patients or replicate trials (hepatwin.run)
ExecutorOption = Annotated[str, typer.Option(
    "--executor", metavar="serial|processes|dask",
    help="where the chunks run: this process, a pool of local processes, or Dask (a local cluster, or --scheduler)")]
WorkersOption = Annotated[int | None, typer.Option(
    "--workers", min=1, help="local processes or Dask workers (default: one per core)")]
SchedulerOption = Annotated[str | None, typer.Option(
    "--scheduler", metavar="tcp://HOST:PORT", help="an existing Dask scheduler (implies --executor dask)")]


def _executor(kind: str, workers: int | None, scheduler: str | None):
    """The executor the options name, started (a scheduler not reached within a few seconds: UserError)."""
    from .run import ExecutorError, make_executor

    try:
        return make_executor(kind, workers=workers, scheduler=scheduler)
    except ExecutorError as exc:
        raise UserError(str(exc)) from None


@population_app.command("simulate")
def population_simulate(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="population TOML file")],
    out: Annotated[Path, typer.Option("--out", help="output folder (chunks/, patients.parquet, manifest.json)")],
    n: Annotated[int | None, typer.Option("--n", min=1, help=(
        "virtual patients accepted by the file's criteria (then selected to its targets, if any); "
        "or give --patients"))] = None,
    patients: Annotated[Path | None, typer.Option(
        "--patients", help="a `population generate` folder of the same file: simulate its selected patients")
    ] = None,
    regimen: Annotated[Path | None, typer.Option(help="scenario TOML whose \\[\\[regimen]] entries are given")] = None,
    # no min= on the day options: it would let inf through and call nan "not >= 1"; checked below
    end_day: Annotated[float, typer.Option(help="last simulated day (>= 1)")] = 730.0,
    step_days: Annotated[float, typer.Option(help="output grid (days, >= 0.01)")] = 7.0,
    chunk: Annotated[int, typer.Option(min=1, help="patients per chunk file")] = 5000,
    float32: Annotated[bool, typer.Option(help="store outputs as float32")] = False,
    allow_large: Annotated[bool, typer.Option("--allow-large", help=ALLOW_LARGE_HELP)] = False,
    executor: ExecutorOption = "serial",
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    engine: BatchEngineOption = Engine.numba,
) -> None:
    """Simulate the population the file defines (screened by its criteria, selected to its targets) from the
    start of each patient's disease history to --end-day, chunk by chunk to disk; rerun to resume (with any
    executor: the chunks are the same whichever runs them)."""
    from .io.writers import write_population_run
    from .limits import RunTooLargeError
    from .population import load_population
    from .population.large import ResumeError, ids_from_generated, output_grid, run_chunks
    from .scenario import ScenarioError

    if (n is None) == (patients is None):
        raise UserError("give --n (patients to screen for) or --patients (a `population generate` folder), "
                        "one of the two")

    try:   # before anything is written; run_chunks checks the same
        output_grid(end_day, step_days, names=("--end-day", "--step-days"), lows=(1.0, 0.01))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        cfg = load_population(config)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    regimens = _load(regimen).regimen if regimen else []
    if regimen and not regimens:
        raise UserError(f"--regimen {regimen}: the scenario has no [[regimen]] table (leave --regimen out for "
                        "untreated patients)")
    late = [d for r in regimens for d in r.days if d > end_day]
    if late:
        raise UserError(f"--regimen {regimen}: infusion day(s) {late} are after --end-day {end_day:g}")
    ids = None
    if patients is not None:
        try:
            ids = ids_from_generated(patients, cfg)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        n = len(ids)
    from .run import ExecutorError

    # run_chunks clears OUT, or keeps it to resume, only after checking that OUT holds this run (or nothing)
    with _executor(executor, workers, scheduler) as pool, run_folder(out, resume=True), _progress() as progress:
        task = progress.add_task("screening" if ids is None and (cfg.criteria or cfg.targets) else "simulating",
                                 total=n)
        try:
            summary = run_chunks(cfg, n, regimens, out, end_day=end_day, step_days=step_days, chunk=chunk,
                                 float32=float32, progress=_reporter(progress, task), ids=ids,
                                 allow_large=allow_large, executor=pool, engine=engine.value)
        except (ResumeError, RunTooLargeError, ExecutorError) as exc:
            raise UserError(str(exc)) from None
        write_population_run(out, cfg, regimens, summary)
    if summary.get("screened"):
        out_console.print(f"screened {summary['n_candidates']} candidates: {summary['n_accepted']} accepted by the "
                          f"criteria, {summary['n_selected']} selected{' to the targets' if cfg.targets else ''}")
    elif patients is None:
        out_console.print("the population file has no criteria or targets: candidates 0..n-1 simulated as sampled")
    out_console.print(f"{summary['n']} patients in {summary['chunks']} chunks ({summary['chunks_skipped']} already "
                      f"on disk), {summary['failed_patients']} failed, {summary['seconds']:.1f} s; wrote {out}/chunks/")


trial_app = typer.Typer(no_args_is_help=True, help="Virtual clinical trials.")
app.add_typer(trial_app, name="trial")


def _examples_dir() -> Path:
    """./examples when there is one, else the examples shipped in the package (`hepatwin.example_files`)."""
    here = Path("examples")
    if here.is_dir():
        return here
    from .example_files import examples_dir

    return examples_dir()


def _load_protocol(path: Path):
    from .trial import load_protocol

    return load_protocol(path)


@trial_app.command("run")
def trial_run(
    protocol: Annotated[Path, typer.Argument(metavar="PROTOCOL", help="trial protocol TOML file")],
    out: Annotated[Path, typer.Option("--out", help="output folder")],
    seed: Annotated[int | None, typer.Option(min=0, help="override the protocol's seed")] = None,
    engine: BatchEngineOption = Engine.numba,
) -> None:
    """Screen, randomise, simulate and analyse one virtual trial; tables, report and manifest to OUT."""
    from .trial import run_trial
    from .trial.outputs import consort_lines, write_trial

    proto, pop = _load_protocol(protocol)
    with run_folder(out, begin=False) as folder:
        with _progress() as progress:
            task = progress.add_task("screening", total=proto.n_total)
            res = run_trial(proto, pop, seed=seed, progress=_reporter(progress, task), engine=engine.value)
        folder.begin()
        analysis = write_trial(res, out, str(protocol))
    # disposition over one stated period, one per subject: the numbers add up to the enrolled, overall and per arm
    first, *per_arm = consort_lines(res)
    out_console.print(f"{proto.name}: {first}")
    for line in per_arm:
        out_console.print(line)
    for row in res.screening.itertuples():
        out_console.print(f"  excluded by {row.reason}: {row.n}")
    labels = {a.name: a.display for a in proto.arm}
    for row in analysis["comparisons"].itertuples():
        what = (f"  {row.endpoint} day {row.visit_day:g}: {labels.get(row.arm, row.arm)} vs "
                f"{labels.get(row.reference, row.reference)}")
        if row.note:  # not estimable, and why (the numbers are NaN)
            out_console.print(f"{what}: {row.note}")
        else:
            out_console.print(f"{what} {row.estimate:+.3g} (95% CI {row.ci_low:.3g} to {row.ci_high:.3g}, "
                              f"p = {row.p:.3g})")
    out_console.print(f"wrote {out}/report.html, tables/ and manifest.json")


def _power_sizes(given: list[int] | None, extra: list[str]) -> list[int]:
    """The sizes of `trial power`: the --n-per-arm values, plus numbers typed after one (`--n-per-arm 8 16 32`;
    click gives an option one value and leaves the rest over)."""
    from .trial.protocol import MIN_PER_ARM

    if extra and not given:
        raise UserError(f"unexpected argument(s) {' '.join(extra)}: trial power takes one protocol file")
    more = []
    for tok in extra:
        try:
            n = int(tok)
        except ValueError:
            raise UserError(f"unexpected argument {tok!r}: --n-per-arm takes whole numbers (subjects per arm), "
                            f"and the protocol file comes first") from None
        if n < MIN_PER_ARM:
            raise UserError(f"--n-per-arm {n}: an arm needs at least {MIN_PER_ARM} subjects for its statistics")
        more.append(n)
    sizes = [*(given or [8, 16, 32, 64]), *more]
    if len(set(sizes)) < len(sizes):
        raise UserError(f"--n-per-arm {' '.join(map(str, sizes))}: each size once")
    return sizes


@trial_app.command("power", context_settings={"allow_extra_args": True})
def trial_power(
    ctx: typer.Context,
    protocol: Annotated[Path, typer.Argument(metavar="PROTOCOL", help="trial protocol TOML file")],
    replicates: Annotated[int, typer.Option("--replicates", min=1, help="replicate trials per sample size")],
    n_per_arm: Annotated[list[int] | None, typer.Option(
        "--n-per-arm", min=2,
        help="subjects per arm: --n-per-arm 8 16 32 or --n-per-arm 8 --n-per-arm 16 (default: 8 16 32 64)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="folder for power.csv, power.png, manifest")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="override the protocol's seed")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the power table as JSON")] = False,
    executor: ExecutorOption = "serial",
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    engine: BatchEngineOption = Engine.numba,
) -> None:
    """Power per endpoint for each n per arm from replicate virtual trials (blocks of replicates are tasks of
    the executor; the same table whichever runs them)."""
    from .trial.power import power_analysis

    sizes = _power_sizes(n_per_arm, ctx.args)
    proto, pop = _load_protocol(protocol)
    if out is not None:
        check_out_dir(out)
    with _executor(executor, workers, scheduler) as pool, _progress() as progress:
        task = progress.add_task("screening", total=None)
        try:
            summary, tests = power_analysis(proto, pop, replicates, sizes, seed=seed,
                                            progress=_reporter(progress, task), executor=pool, engine=engine.value)
        except RuntimeError as exc:   # also ExecutorError (workers lost)
            raise UserError(str(exc)) from None
    if out is not None:
        from .io.writers import write_power

        write_power(summary, tests, proto, out, seed=proto.seed if seed is None else seed, replicates=replicates,
                    n_per_arm=sizes, engine=engine.value)
    if as_json:  # a power no replicate could estimate is null, with its reason in "note"
        records = summary.astype(object).where(summary.notna(), None).to_dict(orient="records")
        print(json.dumps(records, indent=2, default=float))
        return
    import math

    table = Table(title=f"Power ({replicates} replicate trials per size)")
    for col in ("endpoint", "comparison", "n/arm", "power", "MC s.e.", "median p"):
        table.add_column(col)

    def num(x, fmt):
        return "–" if math.isnan(x) else format(x, fmt)
    for row in summary.itertuples():
        table.add_row(row.endpoint, row.comparison, str(row.n_per_arm),
                      "not estimable" if math.isnan(row.power) else f"{row.power:.2f}" + ("*" if row.note else ""),
                      num(row.mcse, ".2f"), num(row.median_p, ".3g"))
    out_console.print(table)
    # why a power is not estimable, or how many replicates gave no p-value (* above)
    for row in summary[summary["note"] != ""].itertuples():
        out_console.print(f"  {row.endpoint}, {row.comparison}, {row.n_per_arm} per arm: {row.note}")


@app.command()
def validate(
    as_json: Annotated[bool, typer.Option("--json", help="print the rows as a JSON list")] = False,
    replicates: Annotated[int, typer.Option(min=2, help="replicate virtual trials per trial row")] = 100,
    cohort_n: Annotated[int, typer.Option(min=20, help="virtual patients in the natural-history cohort")] = 2000,
    examples: Annotated[Path | None, typer.Option(
        help="folder holding trials/ and populations/ (default: ./examples, else the source checkout's)")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="override the trial protocols' seeds")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="also write validation.json/.csv and a manifest")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="exit 1 if any finding fails (for CI gates)")] = False,
    executor: ExecutorOption = "serial",
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    engine: BatchEngineOption = Engine.numba,
) -> None:
    """Run every published finding against the model: published vs simulated, interval, tolerance, PASS/FAIL.

    Exit code 0 when the run completed (failing rows are results, shown as FAIL); with --strict, 1 if any fails.
    The two trials and the two cohorts are four tasks of the executor (the same rows whichever runs them).
    """
    from .calibrate import validate as run_validation
    from .run import ExecutorError

    examples = examples or _examples_dir()
    if out is not None:
        check_out_dir(out)
    with _executor(executor, workers, scheduler) as pool, _progress() as progress:
        task = progress.add_task("validation", total=4)
        try:
            rows = run_validation(examples, replicates=replicates, cohort_n=cohort_n, seed=seed,
                                  progress=_reporter(progress, task), executor=pool, engine=engine.value)
        except (FileNotFoundError, ExecutorError) as exc:
            raise UserError(str(exc)) from None
    if out is not None:
        from .io.writers import write_validation

        write_validation(rows, out, replicates=replicates, cohort_n=cohort_n, seed=seed, examples=str(examples),
                         engine=engine.value)
    if as_json:
        print(json.dumps([r.as_dict() for r in rows], indent=2))
        if strict and not all(r.passed for r in rows):
            raise typer.Exit(1)
        return
    _print_validation(rows, f"Validation ({replicates} replicate trials; natural-history cohort of {cohort_n})")
    n_fail = sum(not r.passed for r in rows)
    if strict and n_fail:
        err_console.print(_red("validation failed:", f" {n_fail} of {len(rows)} findings fail (--strict: exit 1)"))
        raise typer.Exit(1)


def _print_validation(rows, title: str) -> None:
    """One block per finding (verdict, id, numbers; then the finding and its tolerance, wrapped), readable at
    80 columns, where a seven-column table folds every cell into a tower."""
    import textwrap

    from .calibrate import FITTED

    def fmt(v) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return "-"
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    width = max(60, min(out_console.width, 100))
    out_console.print(title, highlight=False)
    for r in rows:
        interval = "" if r.interval[0] is None else f" ({fmt(r.interval[0])} to {fmt(r.interval[1])})"
        head = Text.assemble(_verdict(r.passed), f" {r.id}{' (fitted)' if r.id in FITTED else ''}")
        out_console.print(head, highlight=False)
        body = [f"{r.finding}", f"published {fmt(r.published)}, simulated {fmt(r.simulated)}{interval}",
                f"tolerance: {r.tolerance}"]
        for line in body:
            out_console.print(textwrap.fill(line, width, initial_indent="     ", subsequent_indent="     "),
                              highlight=False)
    n_pass = sum(r.passed for r in rows)
    out_console.print(textwrap.fill(f"{n_pass} of {len(rows)} findings pass; rows marked (fitted) were used to set "
                                    "parameters. Exit code 0 unless --strict (then 1 if any finding fails).", width),
                      highlight=False)


class CalibrationTarget(StrEnum):
    msc = "msc"
    hazard = "hazard"


@app.command()
def calibrate(
    target: Annotated[CalibrationTarget, typer.Option(
        help="msc: the MSC effect parameters, fitted to the reference trial; hazard: the death hazard's baseline "
             "and clinical-stage ratios, fitted to D'Amico 2006 stage mortality on an untreated cohort")
    ] = CalibrationTarget.msc,
    protocol: Annotated[Path | None, typer.Option(
        help="reference trial protocol (target msc; default: examples/trials/zhongnan2024.toml)")] = None,
    replicates: Annotated[int, typer.Option(min=2, help="replicate trials per objective evaluation (target msc)")
                          ] = 40,
    maxiter: Annotated[int, typer.Option(min=1, help="objective evaluations of the optimiser (target msc)")] = 60,
    cohort: Annotated[Path | None, typer.Option(
        help="untreated cohort population file (target hazard; "
             "default: examples/populations/cirrhosis_natural_history.toml)")] = None,
    cohort_n: Annotated[int, typer.Option(min=10, max=100_000, help="virtual patients of the cohort (target hazard)")
                        ] = 2000,
    write: Annotated[Path | None, typer.Option(
        "--write", help="calibration TOML file to store the fitted values in (other entries kept, the old file "
                        "kept as FILE.bak); use it with HEPATWIN_CALIBRATION=FILE")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace a stored fit that is better or more thorough")
                     ] = False,
    seed: Annotated[int | None, typer.Option(min=0, help="override the protocol's seed (target msc)")] = None,
    accept_miss: Annotated[bool, typer.Option(
        "--accept-miss", help="target hazard: store the fit even when a stage misses its mortality by more than 1% "
                              "(a parameter at the end of its range); the miss is printed and the rows show it")
                           ] = False,
    executor: ExecutorOption = "serial",
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    engine: BatchEngineOption = Engine.numba,
) -> None:
    """Fit the MSC effect parameters to the reference trial (--target msc), or the death hazard to clinical-stage
    mortality (--target hazard)."""
    if target is CalibrationTarget.hazard:
        with _executor(executor, workers, scheduler) as pool:
            _calibrate_hazard(cohort or _examples_dir() / "populations" / "cirrhosis_natural_history.toml", cohort_n,
                              write, force, engine=engine.value, executor=pool, accept_miss=accept_miss)
        return
    from .calibrate.fit import CalibrationWriteError, write_calibration
    from .calibrate.fit import calibrate as run_calibration

    proto_path = protocol or _examples_dir() / "trials" / "zhongnan2024.toml"
    if not proto_path.exists():
        raise UserError(f"protocol {proto_path} not found")
    if write is not None:
        check_out_dir(write.parent if str(write.parent) else Path("."))
        if write.is_dir():
            raise UserError(f"--write {write}: is a folder; expected the path of a calibration TOML file")
    with _executor(executor, workers, scheduler) as pool, _progress() as progress:
        task = progress.add_task("calibrating", total=maxiter)
        res = run_calibration(proto_path, replicates=replicates, maxiter=maxiter, seed=seed,
                              progress=_reporter(progress, task), engine=engine.value, executor=pool)
    out_console.print(_fitted_table(f"Calibration: loss {res.loss_start:.4g} -> {res.loss_fitted:.4g} "
                                    f"({res.evaluations} evaluations, {res.seconds:.0f} s)", res.start, res.fitted))
    for k in res.margins_fitted:
        out_console.print(f"  {k}: margin {res.margins_start[k]:+.2f} -> {res.margins_fitted[k]:+.2f} "
                          f"(target >= 0.84)")
    if write is not None:
        try:
            path = write_calibration(res, write, force=force)
        except CalibrationWriteError as exc:
            raise UserError(str(exc)) from None
        _wrote_calibration(path)


def _wrote_calibration(path: Path) -> None:
    from .model.calibration import CALIBRATION_ENV, CALIBRATION_FILE

    use = ("this is the shipped fit; run `make docs` to refresh the parameter documentation"
           if path.resolve() == CALIBRATION_FILE.resolve() else f"use it with {CALIBRATION_ENV}={path}")
    out_console.print(f"wrote {path}; {use}")


def _fitted_table(title: str, start: dict[str, float], fitted: dict[str, float]) -> Table:
    table = Table(title=title)
    for col in ("parameter", "start", "fitted"):
        table.add_column(col)
    for name, value in fitted.items():
        table.add_row(name, f"{start[name]:.4g}", f"{value:.4g}")
    return table


def _calibrate_hazard(cohort: Path, n: int, write: Path | None, force: bool, *, engine: str = "numba",
                      executor=None, accept_miss: bool = False) -> None:
    from .calibrate.fit import CalibrationWriteError, store_fitted
    from .calibrate.hazard import HAZARD_TARGET, TARGETS, fit_death_hazard

    if not cohort.is_file():
        raise UserError(f"cohort population file {cohort} not found")
    with _progress() as progress:
        progress.add_task(f"simulating {n} untreated patients and fitting the death hazard", total=None)
        try:
            res = fit_death_hazard(cohort, n, engine=engine, executor=executor)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    out_console.print(_fitted_table(f"Death hazard fitted to D'Amico 2006 natural history ({n} patients, "
                                    f"{res.seconds:.0f} s)", res.start, res.fitted))
    for (key, pub), s in zip(TARGETS.items(), (1, 2, 3), strict=True):
        out_console.print(f"  {key} (n = {res.patients[s]}): {res.targets_start[key]:.3g} -> "
                          f"{res.targets_fitted[key]:.3g} (published {pub:g})")
    if not res.reached:
        msg = (f"the fit misses the published natural history (a cohort of {n} may hold too few patients per stage); "
               f"try a larger --cohort-n")
        at_bound = [p for p in res.fitted if res.at_bound(p)]
        if at_bound:
            msg += f"; at the end of its range: {', '.join(at_bound)}"
        if write is not None and not accept_miss:
            raise UserError(msg + "; nothing was written (--accept-miss stores it anyway)")
        err_console.print(f"warning: {msg}")
    if write is not None:
        try:
            path = store_fitted(res.fitted, res.start, HAZARD_TARGET, res.loss_fitted,
                                f"hepatwin calibrate --target hazard --cohort {cohort} --cohort-n {n} --write {write}",
                                write, effort={"cohort_n": n}, force=force)
        except CalibrationWriteError as exc:
            raise UserError(str(exc)) from None
        _wrote_calibration(path)


@app.command()
def version() -> None:
    """Print the hepatwin version."""
    print(__version__)


# --------------------------------------------------------------------------- tissue

sensitivity_app = typer.Typer(no_args_is_help=True, help="Global sensitivity analysis (SALib).")
app.add_typer(sensitivity_app, name="sensitivity")


def _ranges(items: list[str] | None) -> dict[str, tuple[float, float]]:
    out = {}
    for item in items or []:
        name, _, rng = item.partition("=")
        lo, _, hi = rng.partition(":")
        try:
            out[name] = (float(lo), float(hi))
        except ValueError:
            raise UserError(f"--range {item!r}: expected NAME=LOW:HIGH (numbers)") from None
    return out


TargetArgument = Annotated[Path, typer.Argument(metavar="SCENARIO_OR_PROTOCOL",
                                                 help="scenario TOML (one patient) or trial protocol TOML (the "
                                                      "patients of one of its treated arms)")]
ArmOption = Annotated[str | None, typer.Option("--arm", help="protocol: the treated arm (default: the first)")]
PatientsOption = Annotated[int, typer.Option("--patients", help="protocol: eligible patients of its population "
                                                                "simulated under every parameter set")]


def _target(path: Path, arm: str | None, patients: int, engine: str, pool, progress, task):
    """The scenario or protocol at `path` as a sensitivity target (a protocol's patients screened here)."""
    from .sensitivity.target import load_target

    return load_target(path, arm=arm, patients=patients, engine=engine, executor=pool,
                       progress=_reporter(progress, task, "screening: "))


@sensitivity_app.command("run")
def sensitivity_run(
    target_file: TargetArgument,
    outputs: Annotated[list[str], typer.Option("--outputs", help="VAR@DAY, change:VAR@DAY, prob:EVENT@DAY, a "
                                                                 "series VAR@FIRST:LAST:STEP, or (protocol) success "
                                                                 "(repeat the option)")],
    method: Annotated[str, typer.Option(help="sobol | morris | efast")] = "sobol",
    params: Annotated[list[str] | None, typer.Option("--params", help="parameter name or module:NAME (repeat; "
                                                                      "default every uncertain parameter)")] = None,
    ranges: Annotated[list[str] | None, typer.Option("--range", help="NAME=LOW:HIGH instead of the declared "
                                                                     "range (repeat)")] = None,
    n: Annotated[int, typer.Option("--n", help="base samples (Sobol: a power of two; Morris: trajectories; "
                                               "eFAST: samples per parameter)")] = 256,
    seed: Annotated[int, typer.Option(min=0, help="sampling seed")] = 0,
    msc_effect: Annotated[bool, typer.Option("--msc-effect", help="analyse the MSC effect: the run minus the "
                                                                  "same patients without MSCs")] = False,
    arm: ArmOption = None,
    patients: PatientsOption = 20,
    out: Annotated[Path | None, typer.Option("--out", help="write indices (Parquet, CSV), an HTML report and a "
                                                           "manifest")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    executor: ExecutorOption = "serial",
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    engine: BatchEngineOption = Engine.numba,
) -> None:
    """Sensitivity indices of clinical outputs of a scenario's patient, or of the mean over a protocol arm's
    patients, to the model's parameters (declared ranges, log-uniform where they span more than a factor of
    10)."""
    from .model import build_model
    from .sensitivity.problem import make_problem
    from .sensitivity.run import target_sensitivity

    rng = _ranges(ranges)
    if rng:   # check the ranges before any simulation
        make_problem(build_model(), params, rng)
    with _executor(executor, workers, scheduler) as pool, _progress() as progress:
        task = progress.add_task("sensitivity", total=None)
        tgt = _target(target_file, arm, patients, engine.value, pool, progress, task)
        res = target_sensitivity(tgt, outputs, msc_effect=msc_effect, method=method, params=params, n=n,
                                 seed=seed, engine=engine.value, progress=_reporter(progress, task), ranges=rng,
                                 executor=pool)
    table = res["indices"]
    if out is not None:
        from .io.atomic import write_bytes, write_text
        from .io.manifest import make_manifest, write_manifest
        from .report.sensitivity import sensitivity_report

        inputs = {"input": str(target_file), "target": tgt.name, "patients": str(res["patients"]),
                  "method": method, "N": str(n), "seed": str(seed), "outputs": ", ".join(res["outputs"]),
                  "parameters": str(len(res["problem"].names)), "MSC effect": "yes" if msc_effect else "no",
                  "simulations": f"{res['simulations']:,}", "seconds": f"{res['seconds']:.1f}"}
        with run_folder(out):
            write_text(out / "indices.csv", table.to_csv(index=False))
            write_bytes(out / "indices.parquet", table.to_parquet(index=False))
            if res["convergence"] is not None:
                write_text(out / "convergence.csv", res["convergence"].to_csv(index=False))
                write_bytes(out / "convergence.parquet", res["convergence"].to_parquet(index=False))
            sensitivity_report(res, out, title=f"Sensitivity of {tgt.name}", inputs=inputs)
            write_manifest(out, make_manifest("sensitivity", input=str(target_file), target=tgt.name, arm=arm,
                                              patients=res["patients"], method=method, n=n, seed=seed,
                                              outputs=res["outputs"], parameters=list(res["problem"].names),
                                              ranges={k: list(v) for k, v in rng.items()}, msc_effect=msc_effect,
                                              engine=engine.value, executor=executor,
                                              simulations=res["simulations"], timings={"total_s": res["seconds"]},
                                              warnings=res["warnings"]))
    for w in res["warnings"]:
        err_console.print(f"warning: {w}")
    if json_out:
        print(json.dumps({"method": method, "n": n, "simulations": res["simulations"], "seconds": res["seconds"],
                          "patients": res["patients"], "outputs": res["outputs"],
                          "parameters": list(res["problem"].names), "indices": table.to_dict(orient="records"),
                          "warnings": res["warnings"]}, default=float))
        return
    main = table[table["index"].isin(["ST", "mu_star"])].sort_values("value", ascending=False)
    t = Table(title=f"{method} indices ({res['simulations']} simulations, {res['seconds']:.0f} s)")
    for c in ("output", "parameter", "index", "value", "conf"):
        t.add_column(c)
    for r in main.itertuples():
        t.add_row(r.output, r.parameter, r.index, f"{r.value:.3g}", f"{r.conf:.2g}")
    out_console.print(t)


@app.command()
def attribute(
    target_file: TargetArgument,
    outputs: Annotated[list[str] | None, typer.Option("--outputs", help="VAR@DAY, change:VAR@DAY, prob:EVENT@DAY "
                                                                        "or VAR@FIRST:LAST:STEP (repeat)")] = None,
    arm: ArmOption = None,
    patients: PatientsOption = 20,
    out: Annotated[Path | None, typer.Option("--out", help="write the shares per patient and the summary "
                                                           "(Parquet, CSV), an HTML report and a manifest")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print {\"endpoints\": {NAME: {\"total\", "
                                                          "\"shares\"}}}")] = False,
    engine: BatchEngineOption = Engine.numba,
) -> None:
    """Split the MSC effect on each output between the mechanisms by exact Shapley values over their 2^5
    knock-out combinations, for a scenario's patient or each patient of a protocol arm (the shares add up to
    the total effect)."""
    import time

    from .sensitivity.attribution import attribute_target

    t0 = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task("attribution", total=None)
        tgt = _target(target_file, arm, patients, engine.value, None, progress, task)
        progress.update(task, description="knock-out combinations")
        res = attribute_target(tgt, outputs or ["change:Alb@85", "change:PTA@85", "change:IL8@85"],
                               engine=engine.value)
    seconds = time.perf_counter() - t0
    if out is not None:
        import pandas as pd

        from .io.atomic import write_bytes, write_text
        from .io.manifest import make_manifest, write_manifest
        from .report.sensitivity import attribution_report

        summary = pd.DataFrame([{"output": name, "mechanism": m, "share": e["shares"][m], "total": e["total"]}
                                for name, e in res["endpoints"].items() for m in res["mechanisms"]])
        inputs = {"input": str(target_file), "target": tgt.name, "patients": str(res["patients"]),
                  "knock-out runs": f"{res['runs']:,}", "seconds": f"{seconds:.1f}"}
        with run_folder(out):
            for name, df in (("attribution", summary), ("attribution_per_patient", res["per_patient"])):
                write_text(out / f"{name}.csv", df.to_csv(index=False))
                write_bytes(out / f"{name}.parquet", df.to_parquet(index=False))
            attribution_report(res, out, title=f"MSC effect by mechanism: {tgt.name}", inputs=inputs,
                               per_patient=res["per_patient"] if res["patients"] > 1 else None)
            write_manifest(out, make_manifest("attribution", input=str(target_file), target=tgt.name, arm=arm,
                                              patients=res["patients"], outputs=list(res["endpoints"]),
                                              mechanisms=res["mechanisms"], runs=res["runs"], engine=engine.value,
                                              timings={"total_s": seconds}))
    if json_out:
        print(json.dumps({"endpoints": res["endpoints"]}))
        return
    t = Table(title=f"MSC effect by mechanism (Shapley, {res['runs']} knock-out runs, {res['patients']} "
                    f"patient{'s' if res['patients'] > 1 else ''})")
    t.add_column("output")
    t.add_column("total")
    for m in res["mechanisms"]:
        t.add_column(m)
    for name, e in res["endpoints"].items():
        t.add_row(name, f"{e['total']:.3g}", *(f"{e['shares'][m]:.3g}" for m in res["mechanisms"]))
    out_console.print(t)


tissue_app = typer.Typer(no_args_is_help=True, help="Tissue-scale lobule model (histology-like pictures).")
app.add_typer(tissue_app, name="tissue")


@tissue_app.command("run")
def tissue_run(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO",
        help="patient scenario TOML, optionally with a \\[tissue] table")],
    out: Annotated[Path, typer.Option("--out", help="output folder")],
    size: Annotated[int | None, typer.Option(help="sites per side (default 1024, or \\[tissue].size)")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (default 0, or \\[tissue].seed)")] = None,
    allow_large: Annotated[bool, typer.Option("--allow-large", help=ALLOW_LARGE_HELP)] = False,
) -> None:
    """Run the lobule model driven by the patient scenario; write PNG snapshots, a GIF time-lapse, manifest."""
    from pydantic import ValidationError

    from .scenario import ScenarioError, format_validation_error
    from .tissue.rules import RuleError
    from .tissue.run import check_tissue_size, load_tissue_run, run_tissue

    try:
        scen, cfg, path = load_tissue_run(scenario)
        upd = {k: v for k, v in (("size", size), ("seed", seed)) if v is not None}
        try:   # the command-line values pass the same checks as the [tissue] table's
            cfg = type(cfg).model_validate(cfg.model_dump() | upd)
        except ValidationError as err:
            raise UserError(format_validation_error(err, "command line").replace("\n  ", "\n  --")) from None
        check_tissue_size(cfg, allow_large)
        with _progress() as progress:
            task = progress.add_task(f"tissue {scen.name} ({cfg.size}x{cfg.nx or cfg.size} sites)", total=1000)
            manifest = run_tissue(scen, cfg, out, source=str(path), allow_large=allow_large,
                                  progress=_reporter(progress, task, f"{scen.name}: "))
    except (ScenarioError, RuleError, ValueError) as exc:
        raise UserError(str(exc)) from None
    err = manifest["cpa_tracking"]
    state = ", snapshots/state.nc" if "state" in manifest["files"] else ""
    out_console.print(f"wrote {out}/ (snapshots/*.png{state}, timelapse.gif, timeseries.csv, measures.json, "
                      f"manifest.json); "
                      f"final CPA tissue {err['final_tissue']:.1f}% vs patient {err['final_patient']:.1f}%; "
                      f"stage {manifest['final'].get('stage')}")


@tissue_app.command("measure")
def tissue_measure(
    state: Annotated[Path, typer.Argument(metavar="STATE",
        help="snapshots/state.nc of a tissue run, or the run's folder")],
    day: Annotated[list[float] | None, typer.Option("--day", help="snapshot day to read (repeat; default all)")] = None,
    c_stain: Annotated[float | None, typer.Option("--c-stain", help="stain threshold, mg/g (default: the run's)")
                       ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list, one object per day")] = False,
) -> None:
    """Re-measure saved sections (CPA, septa, bridging, nodules, stage) without re-running the model."""
    from .tissue.snapshots import geometry_of, load_snapshots, measure_snapshot

    try:
        ds = load_snapshots(state)
        geom = geometry_of(ds)
        rows = [{"day": d, **measure_snapshot(ds, d, c_stain=c_stain, geometry=geom)}
                for d in day or [float(x) for x in ds["day"].values]]
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(str(exc)) from None
    if as_json:
        print(json.dumps(rows, indent=1, default=float))
        return
    thr = ds.attrs["C_stain"] if c_stain is None else c_stain
    table = Table(title=f"{ds.attrs.get('scenario', '')}: saved sections, stain >= {thr:g} mg/g",
                  caption="septa um: mean septal width; bridged: vessels bridged; nodule mm: median nodule diameter; "
                  "F: stage\n" + DISCLAIMER)
    for col in ("day", "CPA\n%", "septa\n%", "septa\num", "bridged\n%", "nodules", "nodule\narea %", "nodule\nmm", "F"):
        table.add_column(col, justify="right", no_wrap=True)

    def opt(x, fmt):
        return "-" if x is None else format(x, fmt)

    for r in rows:
        table.add_row(f"{r['day']:g}", f"{r['CPA']:.1f}", f"{100 * r['septa_fraction']:.1f}",
                      opt(r["septa_width_um"], ".0f"), f"{100 * r['vessels_bridged_fraction']:.0f}", str(r["nodules"]),
                      f"{100 * r['nodule_fraction']:.1f}", opt(r["nodule_diameter_mm"], ".2f"), str(r["stage"]))
    out_console.print(table)


@tissue_app.command("render")
def tissue_render(
    state: Annotated[Path, typer.Argument(metavar="STATE",
        help="snapshots/state.nc of a tissue run, or the run's folder")],
    day: Annotated[float, typer.Option("--day", help="snapshot day to draw")],
    out: Annotated[Path, typer.Option("--out", help="PNG file to write")],
    stain: Annotated[str, typer.Option("--stain", help="sirius (Sirius red) or he (H&E)")] = "sirius",
    region: Annotated[str | None, typer.Option("--region", help="window of sites 'Y0:Y1,X0:X1' (default all)")
                      ] = None,
    scale: Annotated[int | None, typer.Option("--scale", help="pixels per site (default: fits 1024 px; H&E "
                                                               "windows <= 512 sites: 4)")] = None,
) -> None:
    """Draw a saved section again: the whole field or a high-power window, Sirius red or H&E."""
    from .tissue.render import save_png
    from .tissue.snapshots import geometry_of, load_snapshots, render_snapshot

    if out.suffix.lower() != ".png":   # the bytes are PNG: a .jpg name would lie about them
        raise UserError(f"--out {out}: pictures are written as PNG; expected a file name ending in .png")
    try:
        win = _parse_region(region) if region else None
        ds = load_snapshots(state)
        if win is not None:
            g = geometry_of(ds)
            if win[0].stop > g.ny or win[1].stop > g.nx:
                raise ValueError(f"--region {region!r} reaches beyond the {g.ny} x {g.nx} sites of the field; "
                                 f"expected Y1 <= {g.ny} and X1 <= {g.nx}")
        img = render_snapshot(ds, day, stain, region=win, scale=scale)
        save_png(out, img)
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(str(exc)) from None
    out_console.print(f"wrote {out} ({img.shape[1]} x {img.shape[0]} px, {stain}, day {day:g})")


@tissue_app.command("biopsy")
def tissue_biopsy(
    state: Annotated[Path, typer.Argument(metavar="STATE",
        help="snapshots/state.nc of a tissue run, or the run's folder")],
    day: Annotated[float, typer.Option("--day", help="snapshot day to sample")],
    length_mm: Annotated[list[float] | None, typer.Option("--length-mm", help="core length, mm (repeat; default "
                                                                                "10 and 20)")] = None,
    width_mm: Annotated[float, typer.Option("--width-mm", help="core width, mm (an 18-16 G needle: about 1)")] = 1.0,
    n: Annotated[int, typer.Option("--n", min=1, help="cores per length")] = 40,
    seed: Annotated[int, typer.Option("--seed", min=0, help="seed of the core positions")] = 0,
    c_stain: Annotated[float | None, typer.Option("--c-stain", help="stain threshold, mg/g (default: the run's)")
                       ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list, one summary per core length")] = False,
) -> None:
    """Virtual needle biopsies of a saved section: how often a core's stage agrees with the whole section's."""
    from .tissue.biopsy import summarise, virtual_biopsies
    from .tissue.snapshots import geometry_of, load_snapshots

    try:
        ds = load_snapshots(state)
        geom = geometry_of(ds)
        rows = [summarise(virtual_biopsies(ds, day, length_mm=lm, width_mm=width_mm, n=n, seed=seed,
                                           c_stain=c_stain, geometry=geom)) for lm in length_mm or [10.0, 20.0]]
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(str(exc)) from None
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    r0 = rows[0]
    table = Table(title=f"Virtual biopsies, day {day:g}: section CPA {r0['section_CPA']:.1f}%, stage "
                        f"F{r0['section_stage']} ({n} cores of {width_mm:g} mm width per length)", caption=DISCLAIMER)
    for col in ("mm", "tracts", "CPA % (SD)", "F0/1/2/3/4", "agree", "under"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(f"{r['length_mm']:g}", f"{r['portal_tracts_median']:.0f}", f"{r['CPA_mean']:.1f} "
                      f"({r['CPA_sd']:.1f})", "/".join(str(v) for v in r["stage_counts"].values()),
                      f"{r['agree']:.0%}", f"{r['under_staged']:.0%}")
    out_console.print(table)


def _parse_region(text: str) -> tuple[slice, slice]:
    try:
        ys, xs = (tuple(int(v) for v in part.split(":")) for part in text.split(","))
        if len(ys) != 2 or len(xs) != 2 or ys[0] < 0 or xs[0] < 0 or ys[1] <= ys[0] or xs[1] <= xs[0]:
            raise ValueError
    except ValueError:
        raise ValueError(f"--region {text!r}; expected 'Y0:Y1,X0:X1' with 0 <= Y0 < Y1 and 0 <= X0 < X1 "
                         "(sites)") from None
    return slice(*ys), slice(*xs)


class InterruptedByUser(Exception):  # noqa: N818 (not an error: the user asked)
    """Ctrl-C (SIGINT): raised instead of KeyboardInterrupt, which typer would end without a message."""


def _interrupted(signum, frame) -> None:
    raise InterruptedByUser()


def main() -> None:
    """Console entry point: user mistakes end in a message and exit code 2, never a traceback."""
    import warnings

    # a warning is for the user: its message, not the source line that raised it
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"warning: {message}\n"
    # typer ends a KeyboardInterrupt with exit 130 and no word; raise our own so the user is told what is kept
    signal.signal(signal.SIGINT, _interrupted)
    try:
        app()
    except InputError as exc:
        err_console.print(_red("error:", f" {exc}"), highlight=False)
        sys.exit(2)
    except OSError as exc:
        # a path that cannot be read or written (read-only, a folder where a file is meant, a full disk)
        where = f" {exc.filename}:" if exc.filename else ""
        err_console.print(_red("error:", f"{where} {exc.strerror or exc}"), highlight=False)
        sys.exit(2)
    except (InterruptedByUser, KeyboardInterrupt):
        err_console.print("interrupted: completed files are intact, incomplete ones were not written (a rerun of "
                          "`population simulate` resumes)", highlight=False)
        sys.exit(130)


if __name__ == "__main__":
    main()
