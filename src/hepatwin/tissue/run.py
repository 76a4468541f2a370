"""Tissue runs from a TOML file: patient scenario (+ optional [tissue] table) -> pictures, time series, manifest.

Accepted files: a patient scenario (examples/scenarios/*.toml) run with default tissue settings; the
same with a `[tissue]` table; or a file with only `[tissue]` and `scenario = "path/to/patient.toml"`
(relative to the file).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import InputFileError
from ..progress import ProgressCallback
from ..scenario import Scenario, format_validation_error, load_scenario, parse_scenario, read_toml
from .params import PARAMS

#: fields up to this many sites a side get H&E pictures with cells; larger ones a whole-section view plus a
#: high-power view (4 pixels per site) of the central HE_DETAIL_SITES/2 x HE_DETAIL_SITES/2 sites
HE_DETAIL_SITES = 512


class TissueRunError(InputFileError):
    """A tissue-run file or setting that cannot be used; the message is meant for the user."""


class TissueConfig(BaseModel):
    """Settings of a tissue run (the `[tissue]` table)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    scenario: str | None = Field(default=None, description="patient scenario TOML (relative to this file)")
    size: Annotated[int, Field(ge=16, le=8192)] = 1024
    nx: Annotated[int, Field(ge=16, le=8192)] | None = None
    seed: Annotated[int, Field(ge=0)] = 0
    dt_days: Annotated[float, Field(gt=0, le=5)] = 0.25
    history_dt_days: Annotated[float, Field(gt=0, le=30)] = 2.0
    snapshot_days: list[float] | None = None
    frames: Annotated[int, Field(ge=2, le=400)] = 30
    timelapse_px: Annotated[int, Field(ge=64, le=2048)] = 512
    rules: str | None = None
    parameters: dict[str, float] = Field(default_factory=dict)
    save_state: Literal["none", "cells_collagen", "all"] = "cells_collagen"

    @field_validator("parameters")
    @classmethod
    def _known(cls, v: dict[str, float]) -> dict[str, float]:
        from .params import param_values

        param_values(v)
        return v

    @field_validator("snapshot_days")
    @classmethod
    def _sorted(cls, v):
        if v is not None and any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError(f"snapshot_days {v} must be strictly increasing")
        return v


def load_tissue_run(path: str | Path) -> tuple[Scenario, TissueConfig, Path]:
    """Read a tissue-run TOML; raise TissueRunError (or the scenario's ScenarioError) with a readable message
    on any problem."""
    path = Path(path)
    if path.is_dir():
        raise TissueRunError(f"{path} is a folder; expected a scenario TOML file")
    if not path.is_file():
        raise TissueRunError(f"scenario file {path} does not exist")
    data = read_toml(path, "scenario file")
    tissue = data.pop("tissue", {})
    try:
        cfg = TissueConfig.model_validate(tissue)
    except ValidationError as err:
        raise TissueRunError(format_validation_error(err, f"{path} [tissue]").replace("\n  ", "\n  tissue.")) from None
    if cfg.scenario is not None:
        if data:
            raise TissueRunError(f"{path}: give either [tissue].scenario or the patient tables, not both")
        scen = load_scenario((path.parent / cfg.scenario).resolve())
    else:
        scen = parse_scenario(data, str(path))
    if cfg.rules is not None:
        cfg = cfg.model_copy(update={"rules": str((path.parent / cfg.rules).resolve())})
    return scen, cfg, path


def default_snapshot_days(t0: float, t_end: float) -> list[float]:
    """Start, a few points through the disease history, baseline and the end."""
    days = [t0]
    if t0 < 0:
        days += [round(t0 * f, 1) for f in (0.75, 0.5, 0.25)] + [0.0]
    days += [round(t_end / 2, 1), t_end]
    return sorted(set(days))


def timelapse_days(t0: float, t_end: float, frames: int) -> list[float]:
    """Days of the time-lapse frames. A run with a disease history before day 0 and a follow-up after it
    gives half the frames to the follow-up, where therapy acts (decades of history would otherwise leave
    it one or two frames); otherwise the frames are evenly spaced."""
    if t0 < 0 < t_end and frames >= 4:
        n_follow = frames // 2
        hist = np.linspace(t0, 0.0, frames - n_follow, endpoint=False)
        return [float(d) for d in np.concatenate([hist, np.linspace(0.0, t_end, n_follow)])]
    return [float(d) for d in np.linspace(t0, t_end, frames)]


def check_tissue_size(cfg: TissueConfig, allow_large: bool = False) -> None:
    """RunTooLargeError if the run's snapshots and frames would not fit in memory (hepatwin.limits)."""
    from ..limits import check_tissue

    n_snaps = (len(cfg.snapshot_days) if cfg.snapshot_days is not None else 8) + cfg.frames
    check_tissue(cfg.size * (cfg.nx or cfg.size), n_snaps, allow_large)


def run_tissue(scenario: Scenario, cfg: TissueConfig, out: str | Path, *,
               progress: ProgressCallback | None = None, source: str = "",
               allow_large: bool = False) -> dict:
    """Run the tissue model driven by the patient scenario; write PNGs, a GIF, time series and manifest.

    `progress("tissue day D", days done, days)` as the field advances. OUT is held for the run (one writer)
    and holds this run's files only. Snapshots beyond the memory limit
    of `hepatwin.limits` raise RunTooLargeError before the run, unless `allow_large`."""
    from ..io.run_folder import run_folder

    check_tissue_size(cfg, allow_large)

    with run_folder(out, begin=False) as folder:
        return _run_tissue(scenario, cfg, Path(out), folder.begin, progress, source)


def _run_tissue(scenario: Scenario, cfg: TissueConfig, out: Path, begin: Callable[[], Path],
                progress: ProgressCallback | None, source: str) -> dict:
    from ..io.atomic import write_text
    from ..io.manifest import make_manifest, write_manifest
    from .coupling import drivers_from_scenario
    from .engine import new_tissue
    from .measures import measure_all
    from .render import annotate, hematoxylin_eosin, save_png, save_timelapse, sirius_red, snapshot_label
    from .rules import load_rules

    timings: dict[str, float] = {}
    rules = load_rules(cfg.rules)       # input mistakes are found before anything is written
    t0 = time.perf_counter()
    drivers = drivers_from_scenario(scenario)
    timings["patient_s"] = time.perf_counter() - t0
    t_start, t_end = drivers.t_start, drivers.t_end
    snaps = cfg.snapshot_days if cfg.snapshot_days is not None else default_snapshot_days(t_start, t_end)
    bad = [d for d in snaps if not t_start - 1e-9 <= d <= t_end + 1e-9]
    if bad:
        raise TissueRunError(f"snapshot day(s) {bad} are outside the run [{t_start:g}, {t_end:g}]")
    t1 = time.perf_counter()
    tissue = new_tissue(drivers, cfg.size, nx=cfg.nx, seed=cfg.seed, params=cfg.parameters, rules=rules)
    timings["setup_s"] = time.perf_counter() - t1
    begin()   # input mistakes are found, the field is built: now the previous run's files go
    frame_days = timelapse_days(t_start, t_end, cfg.frames)
    all_days = sorted(set([round(d, 6) for d in snaps] + [round(d, 6) for d in frame_days]))
    res = tissue.run(dt=cfg.dt_days, dt_history=cfg.history_dt_days, snapshot_days=all_days,
                     record_every_days=7.0 if t_start >= 0 else 30.0,
                     progress=progress)
    timings["tissue_s"] = res.timings["run_s"]
    t2 = time.perf_counter()
    p = tissue.p
    geom = tissue.geom
    scale = max(1, min(4, 1024 // max(geom.ny, geom.nx)))
    files: dict[str, str] = {}
    snap_measures = []
    snap_set = {round(d, 6) for d in snaps}
    frames, labels = [], []
    step = max(1, int(np.ceil(max(geom.ny, geom.nx) / cfg.timelapse_px)))
    for s in res.snapshots:
        if round(s.day, 6) in snap_set:
            tag = f"day{s.day:+09.1f}".replace("+", "p").replace("-", "m").replace(".", "_")
            # every picture gets a caption (day, CPA) and a scale bar below it; the arrays measured stay raw
            label = snapshot_label(scenario.name, s.day, _cpa(geom, s.collagen, p))
            sr = save_png(out / "snapshots" / f"sirius_{tag}.png",
                          annotate(sirius_red(geom, s.collagen, p["C_sat"], scale=scale), label, geom.site_um / scale))
            small = max(geom.ny, geom.nx) <= HE_DETAIL_SITES
            he_scale = max(scale, 3) if small else 1
            he = save_png(out / "snapshots" / f"he_{tag}.png",
                          annotate(hematoxylin_eosin(geom, s.cell, s.collagen, p["C_sat"], scale=he_scale), label,
                                   geom.site_um / he_scale))
            files[f"sirius_{tag}"] = str(sr.relative_to(out))
            files[f"he_{tag}"] = str(he.relative_to(out))
            if not small:
                # a large field's whole-section H&E has no room for cells: add a high-power view of its centre
                w = HE_DETAIL_SITES // 2
                win = tuple(slice(max(0, (n - w) // 2), max(0, (n - w) // 2) + min(n, w)) for n in (geom.ny, geom.nx))
                hd = save_png(out / "snapshots" / f"he_detail_{tag}.png",
                              annotate(hematoxylin_eosin(geom, s.cell, s.collagen, p["C_sat"], scale=4, region=win),
                                       label, geom.site_um / 4))
                files[f"he_detail_{tag}"] = str(hd.relative_to(out))
            m = measure_all(geom, s, p, s.collagen)
            drv = drivers.at(s.day)
            snap_measures.append({"day": s.day, **m, "patient_CPA": drv["CPA"], "patient_stage": drv["stage"]})
        if any(abs(s.day - f) < 1e-6 for f in frame_days):
            frames.append(sirius_red(geom, s.collagen, p["C_sat"], stride=step, seed=len(frames)))
            labels.append(f"{scenario.name}: day\u00a0{s.day:.0f}, CPA\u00a0{_cpa(geom, s.collagen, p):.1f}% (patient "
                          f"model\u00a0{drivers.at(s.day)['CPA']:.1f}%) (research software, not clinical advice)")
    if cfg.save_state != "none":
        from .snapshots import save_snapshots, snapshots_dataset

        t3 = time.perf_counter()
        saved = [s for s in res.snapshots if round(s.day, 6) in snap_set]
        ds = snapshots_dataset(tissue, saved, cfg.save_state, scenario_name=scenario.name)
        files["state"] = str(save_snapshots(out / "snapshots" / "state.nc", ds).relative_to(out))
        timings["state_s"] = time.perf_counter() - t3
    gif = save_timelapse(out / "timelapse.gif", frames, labels, um_per_px=geom.site_um * step)
    files["timelapse"] = str(gif.relative_to(out))
    ts = res.timeseries()
    from ..io.atomic import atomic_path

    with atomic_path(out / "timeseries.csv") as tmp:
        ts.to_csv(tmp, index=False)
    files["timeseries"] = "timeseries.csv"
    write_text(out / "measures.json", json.dumps(snap_measures, indent=1, default=float) + "\n")
    files["measures"] = "measures.json"
    timings["render_s"] = time.perf_counter() - t2
    err = _tracking_error(ts)
    manifest = make_manifest(
        "tissue_run", source=source, scenario=scenario.model_dump(mode="json"), scenario_sha256=scenario.digest(),
        tissue=cfg.model_dump(mode="json"), seed=cfg.seed, size=[geom.ny, geom.nx], sites=geom.ny * geom.nx,
        steps=res.timings["steps"], dt_days=res.timings["dt"], history_dt_days=res.timings["dt_history"],
        parameters={k: tissue.p[k] for k in PARAMS}, rules=[r.__dict__ for r in tissue.rules.rules],
        final=res.final, cpa_tracking=err, files=files, timings_s=timings)
    write_manifest(out, manifest)
    return manifest


def _cpa(geom, collagen, p) -> float:
    from .measures import cpa

    return cpa(geom, collagen, p["C_stain"])


def _tracking_error(ts) -> dict[str, float]:
    """Tissue CPA (stained area) against the patient's CPA over the run."""
    ok = ts["patient_CPA"].notna()
    d = (ts.loc[ok, "CPA"] - ts.loc[ok, "patient_CPA"]).abs()
    return {"max_abs_points": float(d.max()) if len(d) else float("nan"),
            "mean_abs_points": float(d.mean()) if len(d) else float("nan"),
            "final_tissue": float(ts["CPA"].iloc[-1]), "final_patient": float(ts["patient_CPA"].iloc[-1])}
