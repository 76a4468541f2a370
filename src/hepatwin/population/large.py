"""Large population runs written to disk chunk by chunk, resumable.

Each chunk of candidate ids is sampled (per-patient seeds), simulated from the start of its
disease history through treatment with the numba engine, and written atomically as
`chunks/chunk_NNNNN.parquet` (long format: patient_id, day, variables; float32 optional).
A chunk file exists only if it is complete, so an interrupted run resumes by skipping the
chunks already on disk and produces identical files.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.batched import STATUS_NAMES, compile_batched, solve_batch
from ..engine.codegen import compile_model
from ..io.atomic import atomic_path
from ..model import build_model
from ..simulate import regimen_events, therapy_events
from .config import PopulationConfig
from .generate import patient_parameters, sample

DEFAULT_VARIABLES = ("Alb", "PTA", "INR", "Bil", "Cr", "Na", "CPA", "HVPG", "Asc", "H", "IL8", "survival")


def run_chunks(cfg: PopulationConfig, n: int, regimens: list, out_dir: str | Path, end_day: float = 730.0,
               step_days: float = 7.0, chunk: int = 5000, float32: bool = False,
               variables: tuple[str, ...] = DEFAULT_VARIABLES, progress=None) -> dict:
    """Simulate `n` virtual patients (ids 0..n-1) in chunks; returns a summary."""
    spec = build_model()
    model = compile_model(spec)
    bm = compile_batched(spec)
    out = Path(out_dir) / "chunks"
    out.mkdir(parents=True, exist_ok=True)
    t_out = np.arange(0.0, end_day + 1e-9, step_days)
    derived_idx = {name: i for i, name in enumerate(model.derived_names)}
    state_idx = {name: i for i, name in enumerate(model.state_names)}
    for v in variables:
        if v not in derived_idx and v not in state_idx:
            raise ValueError(f"unknown output variable {v!r}")
    t0 = time.perf_counter()
    done = skipped = failed = 0
    for k, start in enumerate(range(0, n, chunk)):
        path = out / f"chunk_{k:05d}.parquet"
        ids = np.arange(start, min(start + chunk, n))
        if path.exists():
            skipped += 1
            done += ids.size
            if progress:
                progress(done)
            continue
        cand = sample(cfg, ids)
        m = ids.size
        P, t_start = patient_parameters(cfg, cand, spec, model, regimens[0].cell_source if regimens else None)
        events = []
        for j in range(m):
            values = dict(zip(model.param_names, P[j], strict=True))
            evs = therapy_events(cfg.therapy, t_start[j])
            for r in regimens:
                evs += regimen_events(spec, r, float(cand["weight_kg"].iloc[j]), values)
            events.append(evs)
        y0 = np.repeat(model.state_vector(spec.healthy_state())[None], m, 0)
        sol = solve_batch(bm, y0, P, t_start, t_out, events)
        failed += int(np.sum(sol.status != 0))
        frame = _long_frame(model, sol, P, ids, t_out, variables, state_idx, float32)
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp, index=False)
        done += m
        if progress:
            progress(done)
    return {"n": n, "chunks": -(-n // chunk), "chunks_skipped": skipped, "failed_patients": failed,
            "output_days": t_out.tolist(), "float32": float32, "variables": list(variables),
            "seconds": time.perf_counter() - t0}


def _long_frame(model, sol, P, ids, t_out, variables, state_idx, float32) -> pd.DataFrame:
    m, n_t = ids.size, t_out.size
    ys = np.transpose(sol.y, (1, 0, 2))  # states x patients x times
    cols = {"patient_id": np.repeat(ids, n_t).astype(np.int64), "day": np.tile(t_out, m)}
    if any(v not in state_idx for v in variables):
        # parameters broadcast over the time axis: (n_params, patients, 1)
        derived = dict(zip(model.derived_names, model.derived(np.nan_to_num(ys), P.T[:, :, None]), strict=True))
    dtype = np.float32 if float32 else np.float64
    for v in variables:
        cols[v] = (ys[state_idx[v]] if v in state_idx else derived[v]).reshape(-1).astype(dtype)
    cols["status"] = np.repeat([STATUS_NAMES[int(s)] for s in sol.status], n_t)
    return pd.DataFrame(cols)


def read_chunks(out_dir: str | Path) -> pd.DataFrame:
    """All finished chunks as one table."""
    files = sorted((Path(out_dir) / "chunks").glob("chunk_*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
