"""Large population runs written to disk chunk by chunk, resumable.

The patients are the population the file defines: candidates screened by its criteria and selected to its
targets (as `population generate` does; the screening table is kept as `patients.parquet`), or the selected
patients of a `population generate` folder. Each chunk of candidate ids is sampled (per-patient seeds),
simulated from the start of its disease history through treatment with the numba engine, and written
atomically as `chunks/chunk_NNNNN.parquet` (long format: patient_id, day, variables; float32 optional).
A chunk file exists only if it is complete, so an interrupted run resumes by skipping the
chunks already on disk and produces identical files. Everything that decides a chunk's contents is
stored in `run_settings.json` when a folder is first used; a rerun with different settings is
refused (ResumeError) instead of mixing chunks of two runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..engine.batched import STATUS_NAMES
from ..engine.codegen import compile_model
from ..engine.solver import check_engine, solve_patients
from ..errors import InputError
from ..io.atomic import atomic_path, write_text
from ..io.manifest import invalidate
from ..io.run_folder import clear_previous_run, run_folder
from ..limits import MAX_CHUNK_VALUES, check_disk, check_follow_up, check_values
from ..model import build_model
from ..plan import derived_in_force, plan_history
from ..progress import ProgressCallback, notify
from ..run import Executor, SerialExecutor
from .config import PopulationConfig
from .generate import generate, sample

DEFAULT_VARIABLES = ("Alb", "PTA", "INR", "Bil", "Cr", "Na", "CPA", "HVPG", "Asc", "H", "IL8", "survival")
RUN_SETTINGS = "run_settings.json"
#: most output times per patient (a chunk holds patients x states x times numbers in memory)
MAX_OUTPUT_TIMES = 100_000


class ResumeError(InputError):
    """The output folder holds chunks of a different run; the message is meant for the user."""


def run_settings(cfg: PopulationConfig, n: int, regimens: list, end_day: float, step_days: float, chunk: int,
                 float32: bool, variables: tuple[str, ...], engine: str = "numba") -> dict:
    """Everything that decides the contents of the chunk files, as stored in `run_settings.json`."""
    spec = build_model()
    # default parameter values change with `hepatwin calibrate --write`, without a new version
    params = hashlib.sha256(json.dumps(spec.default_values(), sort_keys=True).encode()).hexdigest()
    settings = {"population": cfg.model_dump(mode="json"), "seed": cfg.seed, "n": int(n), "chunk": int(chunk),
                "end_day": float(end_day), "step_days": float(step_days),
                "regimens": [r.model_dump(mode="json") for r in regimens], "float32": bool(float32),
                "variables": list(variables), "engine": engine, "hepatwin_version": __version__,
                "model_parameters_sha256": params}
    return json.loads(json.dumps(settings))  # the form it has after a round trip through the file


def _short(value) -> str:
    text = json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _diff(a, b, path: str):
    """(path, old, new) of every differing leaf, descending into dicts and equally long lists."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in dict.fromkeys([*b, *a]):
            yield from _diff(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _diff(x, y, f"{path}[{i}]")
    elif a != b:
        yield path, a, b


def _differences(old: dict, new: dict, most: int = 6) -> list[str]:
    """'<setting> was <old>, now <new>' for the settings that differ (the population config by field)."""
    # the seed is reported once, as its own setting; the run's own settings before the config's fields
    found = sorted((d for d in _diff(old, new, "") if d[0] != "population.seed"),
                   key=lambda d: d[0].startswith("population."))
    lines = [f"{path.replace('population.', 'population config ', 1)} was {_short(a)}, now {_short(b)}"
             for path, a, b in found[:most]]
    if len(found) > most:
        lines.append(f"and {len(found) - most} more difference(s)")
    return lines


def _claim_folder(out_dir: Path, settings: dict) -> None:
    """Record the run's settings in a new folder, or check that a folder being resumed has the same ones."""
    path = out_dir / RUN_SETTINGS
    advice = "use a new --out folder (or the original settings to resume that run)"
    has_chunks = any((out_dir / "chunks").glob("chunk_*.parquet"))
    if path.exists() and has_chunks:  # without chunks there is nothing to mix: start afresh
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ResumeError(f"{path} cannot be read ({exc}), so the chunks in {out_dir} cannot be matched to "
                              f"this run; {advice}") from None
        diffs = _differences(old, settings)
        if diffs:
            raise ResumeError(f"{out_dir} holds chunks of a different run, and resuming would mix the two: "
                              f"{'; '.join(diffs)}. To start this run, {advice}")
        return
    if has_chunks:
        raise ResumeError(f"{out_dir}/chunks holds chunk files but {out_dir} has no {RUN_SETTINGS}, so it cannot "
                          f"be checked that they belong to this run; {advice}")
    clear_previous_run(out_dir)   # nothing to resume: the folder holds this run's files only
    write_text(path, json.dumps(settings, indent=2, sort_keys=True) + "\n")


def output_grid(end_day: float, step_days: float, *, names: tuple[str, str] = ("end_day", "step_days"),
                lows: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Output days 0, step_days, ... end_day; ValueError naming `names` (e.g. the CLI's flags) for a value
    that is not finite, not above 0 or below its entry in `lows`, or a grid too fine to hold in memory."""
    for name, value, low in zip(names, (end_day, step_days), lows, strict=True):
        if not (math.isfinite(value) and value > 0 and value >= low):
            raise ValueError(f"{name} {value}: expected a finite number of days {f'>= {low:g}' if low else '> 0'}")
    if end_day / step_days >= MAX_OUTPUT_TIMES:
        raise ValueError(f"{names[0]} {end_day:g} with {names[1]} {step_days:g} gives more than {MAX_OUTPUT_TIMES:,} "
                         f"output times per patient; use a larger {names[1]}")
    return np.arange(0.0, end_day + 1e-9, step_days)


SCREENED = "patients.parquet"


def population_ids(cfg: PopulationConfig, n: int, chunk: int = 2000, progress: ProgressCallback | None = None, *,
                   engine: str = "numba", executor: Executor | None = None) -> tuple[np.ndarray, dict]:
    """Candidate ids of the population the file defines: screened by its criteria, selected to its targets.

    Without criteria or targets these are 0..n-1. Returns the ids and a summary of the screening (with the
    candidates table under "candidates")."""
    if not cfg.criteria and not cfg.targets:
        return np.arange(n, dtype=np.int64), {"screened": False}
    res = generate(cfg, n, chunk=chunk, progress=progress, engine=engine, executor=executor)
    cand = res.candidates
    ids = cand.loc[cand["selected"], "patient_id"].to_numpy(dtype=np.int64)
    return ids, {"screened": True, "n_candidates": len(cand), "n_accepted": int(cand["accepted"].sum()),
                 "n_selected": int(ids.size), "rejections": res.rejections, "candidates": cand}


def ids_from_generated(folder: str | Path, cfg: PopulationConfig) -> np.ndarray:
    """The selected patient ids of a `population generate` folder made from the same population file
    (ValueError naming the folder otherwise): that population simulated forward."""
    folder = Path(folder)
    path = folder / SCREENED
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        # one thread: a refusal right after (another population file) must not exit while Arrow's pool runs
        cand = pd.read_parquet(path, columns=["patient_id", "selected"], use_threads=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"--patients {folder}: not a finished `hepatwin population generate` folder "
                         f"({exc.__class__.__name__}: {exc})") from None
    if manifest.get("kind") != "population":
        raise ValueError(f"--patients {folder}: its manifest is of a {manifest.get('kind')!r} run; expected the "
                         "folder of `hepatwin population generate`")
    diffs = _differences({"population": manifest.get("config")}, {"population": cfg.model_dump(mode="json")})
    if diffs:
        raise ValueError(f"--patients {folder} was generated from another population file: {'; '.join(diffs)}")
    return cand.loc[cand["selected"], "patient_id"].to_numpy(dtype=np.int64)


def check_run_size(n: int, t_out: np.ndarray, chunk: int, n_states: int, n_variables: int, float32: bool,
                   end_day: float, allow_large: bool = False) -> None:
    """Refuse a population run whose follow-up, chunk memory or disk use is beyond `hepatwin.limits`."""
    check_follow_up(end_day, "--end-day", allow_large)
    m = min(chunk, n)
    check_values(m * n_states * t_out.size, MAX_CHUNK_VALUES,
                 f"a chunk of {m:,} patients x {n_states} states x {t_out.size:,} output times",
                 "use a smaller --chunk or a larger --step-days", allow_large)
    check_disk(n * t_out.size * (n_variables + 2) * (4 if float32 else 8),
               f"{n:,} patients x {t_out.size:,} output times x {n_variables} variables",
               "use fewer patients, a larger --step-days or --float32", allow_large)


def run_chunks(cfg: PopulationConfig, n: int, regimens: list, out_dir: str | Path, end_day: float = 730.0,
               step_days: float = 7.0, chunk: int = 5000, float32: bool = False,
               variables: tuple[str, ...] = DEFAULT_VARIABLES, progress: ProgressCallback | None = None, *,
               ids: np.ndarray | None = None, allow_large: bool = False, executor: Executor | None = None,
               engine: str = "numba") -> dict:
    """Simulate the population the file `cfg` defines, chunk by chunk, into `out_dir`; returns a summary.

    `progress(stage, done, total)` reports the screening, then "simulating" after each chunk. The patients
    are `n` candidates screened by the file's criteria and selected to its targets (ids 0..n-1 when it has
    neither), or the given candidate `ids` (e.g. of a `population generate` run); the screened table is kept as
    `patients.parquet`. A folder already holding chunks is resumed only if it was started with the same
    settings (ResumeError otherwise, before anything in it changes).

    The chunks run through `executor` (`hepatwin.run`: serial, local processes or Dask; serial by default) and
    are identical whichever runs them; this process writes each as it arrives. The screening runs here. Every
    patient is solved on `engine` ("numba" or the reference "scipy", `hepatwin.engine.solver`); the engine is
    part of the run's settings, so a run is resumed on the engine it started on.
    """
    check_engine(engine)
    t_out = output_grid(end_day, step_days)
    spec = build_model()
    model = compile_model(spec)
    derived_idx = {name: i for i, name in enumerate(model.derived_names)}
    state_idx = {name: i for i, name in enumerate(model.state_names)}
    for v in variables:
        if v not in derived_idx and v not in state_idx:
            raise ValueError(f"unknown output variable {v!r}")
    check_run_size(n if ids is None else len(ids), t_out, chunk, len(state_idx), len(variables), float32, end_day,
                   allow_large)
    out_dir = Path(out_dir)
    settings = run_settings(cfg, n, regimens, end_day, step_days, chunk, float32, variables, engine)
    if ids is not None:
        settings["patient_ids_sha256"] = hashlib.sha256(np.asarray(ids, dtype=np.int64).tobytes()).hexdigest()
    with run_folder(out_dir, resume=True):
        _claim_folder(out_dir, settings)
        invalidate(out_dir)  # after the check: a refused rerun leaves the other run's manifest in place
        screening: dict = {"screened": False, "from_ids": ids is not None}
        if ids is None:
            if (out_dir / SCREENED).exists():   # resumed: the settings match, so the screening does too
                cand = pd.read_parquet(out_dir / SCREENED)
                ids = cand.loc[cand["selected"], "patient_id"].to_numpy(dtype=np.int64)
                screening = {"screened": True, "n_candidates": len(cand), "n_accepted": int(cand["accepted"].sum()),
                             "n_selected": int(ids.size)}
            else:
                ids, screening = population_ids(cfg, n, progress=progress, engine=engine, executor=executor)
                cand = screening.pop("candidates", None)
                if cand is not None:
                    with atomic_path(out_dir / SCREENED) as tmp:
                        cand.to_parquet(tmp, index=False)
        summary = _run_chunks(cfg, np.asarray(ids, dtype=np.int64), regimens, out_dir, t_out, variables, chunk,
                              float32, progress, executor, engine)
        return {"n_requested": n, **{k: v for k, v in screening.items() if k != "candidates"}, **summary}


@dataclass(frozen=True)
class ChunkJob:
    """Everything one chunk's table depends on: the population config, the candidate ids, the regimens,
    the output days, variables, precision and engine."""

    cfg: PopulationConfig
    ids: np.ndarray
    regimens: tuple
    t_out: np.ndarray
    variables: tuple[str, ...]
    float32: bool
    engine: str = "numba"


def simulate_chunk(job: ChunkJob) -> pd.DataFrame:
    """The long table of one chunk: each patient sampled from its own id's seed and simulated from the start
    of its disease history (a pure function of `job`, wherever it runs)."""
    spec = build_model()
    model = compile_model(spec)
    cfg, ids, regimens = job.cfg, job.ids, job.regimens
    plan = plan_history(cfg, sample(cfg, ids), spec, model, regimens)
    P = plan.params
    sol = solve_patients(spec, plan.y0, P, plan.t_start, job.t_out, plan.events, engine=job.engine)
    state_idx = {name: i for i, name in enumerate(model.state_names)}
    return _long_frame(model, sol, P, plan.events, ids, job.t_out, job.variables, state_idx, job.float32)


def _run_chunks(cfg, all_ids, regimens, out_dir, t_out, variables, chunk, float32, progress, executor=None,
                engine="numba"):
    """Simulate the chunks not yet on disk through `executor` (serial by default); each finished chunk is
    written atomically here, as it arrives, so an interrupted run keeps every chunk that was written."""
    out = out_dir / "chunks"
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    done = skipped = failed = 0
    n = all_ids.size
    jobs, paths = [], []
    for k, start in enumerate(range(0, n, chunk)):
        path = out / f"chunk_{k:05d}.parquet"
        ids = all_ids[start:start + chunk]
        if path.exists():
            skipped += 1
            done += ids.size
            continue
        jobs.append(ChunkJob(cfg, ids, tuple(regimens), t_out, tuple(variables), float32, engine))
        paths.append(path)
    if done:
        notify(progress, "simulating", done, n)
    with nullcontext(executor) if executor is not None else SerialExecutor() as ex:
        for i, frame in ex.map_chunks(simulate_chunk, jobs):
            with atomic_path(paths[i]) as tmp:
                frame.to_parquet(tmp, index=False)
            m = jobs[i].ids.size
            failed += int(np.sum(frame["status"].to_numpy()[::t_out.size] != "ok"))
            done += m
            notify(progress, "simulating", done, n)
    return {"n": int(n), "chunks": -(-n // chunk), "chunks_skipped": skipped, "failed_patients": failed,
            "output_days": t_out.tolist(), "float32": float32, "variables": list(variables), "engine": engine,
            "seconds": time.perf_counter() - t0}


def _long_frame(model, sol, P, events, ids, t_out, variables, state_idx, float32) -> pd.DataFrame:
    m, n_t = ids.size, t_out.size
    ys = np.transpose(sol.y, (1, 0, 2))  # states x patients x times
    cols = {"patient_id": np.repeat(ids, n_t).astype(np.int64), "day": np.tile(t_out, m)}
    if any(v not in state_idx for v in variables):
        # with the parameters in force at each output (a cause control starting changes ALT, bilirubin...)
        derived = dict(zip(model.derived_names, derived_in_force(model, np.nan_to_num(ys), P, events, t_out),
                           strict=True))
    dtype = np.float32 if float32 else np.float64
    for v in variables:
        cols[v] = (ys[state_idx[v]] if v in state_idx else derived[v]).reshape(-1).astype(dtype)
    cols["status"] = np.repeat([STATUS_NAMES[int(s)] for s in sol.status], n_t)
    return pd.DataFrame(cols)


def read_chunks(out_dir: str | Path) -> pd.DataFrame:
    """All finished chunks as one table."""
    files = sorted((Path(out_dir) / "chunks").glob("chunk_*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
