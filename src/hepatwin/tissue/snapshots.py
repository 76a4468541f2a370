"""Snapshots of a tissue run as labelled arrays (xarray, NetCDF): cells, collagen and, if asked, the signals
at the snapshot days, with the anatomy and the parameters the section was read with. A saved section can be
re-measured (another stain threshold, say) or re-rendered without running the model again.

Cell states are stored one variable per cell type with CF `flag_values` / `flag_meanings`, so any NetCDF
reader can decode them without hepatwin.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from . import kernels as kn
from .engine import Snapshot, Tissue
from .geometry import STRUCTURE_NAMES, Geometry, build_geometry
from .measures import measure_all

FORMAT = "hepatwin-tissue-snapshots-1"
#: what a run saves: nothing, cells and collagen, or also every signal plane
CONTENTS = ("none", "cells_collagen", "all")
GEOMETRY_PARAMS = ("lobule_radius_um", "site_um", "cv_radius_um", "cv_wall_um", "portal_radius_um")

# (variable, bit shift, mask, meanings of the values 0, 1, ...)
_CELL_VARS = (
    ("hepatocyte", 0, 3, ("empty", "healthy", "injured", "dividing")),
    ("stellate", 2, 3, ("none", "quiescent", "activated", "inactivated")),
    ("macrophage", 4, 3, ("none", "M1", "M2")),
    ("endothelium", 6, 1, ("capillarised", "intact")),
)
_FIELD_UNITS = {"msc": "1e7 cells in the whole liver (per-site density; field mean = liver total / 1e7)"}


def snapshots_dataset(tissue: Tissue, snapshots: list[Snapshot], contents: str = "cells_collagen", *,
                      scenario_name: str = "") -> xr.Dataset:
    """The snapshots of `tissue` as one Dataset with dimensions (day, y, x); y and x in um."""
    if contents not in CONTENTS[1:]:
        raise ValueError(f"snapshot contents {contents!r}; expected one of {', '.join(CONTENTS[1:])}")
    g, p = tissue.geom, tissue.p
    if not snapshots:
        raise ValueError("no snapshots to save")
    days = np.array([s.day for s in snapshots], dtype=float)
    cell = np.stack([s.cell for s in snapshots])
    dims = ("day", "y", "x")
    data: dict[str, xr.DataArray] = {
        "collagen": xr.DataArray(np.stack([s.collagen for s in snapshots]).astype(np.float32), dims=dims,
                                 attrs={"units": "mg/g", "long_name": "total collagen (young + cross-linked)"}),
    }
    for name, shift, mask, meanings in _CELL_VARS:
        data[name] = xr.DataArray(((cell >> shift) & mask).astype(np.uint8), dims=dims, attrs=_flags(name, meanings))
    if contents == "all":
        for name in kn.FIELD_NAMES:
            data[name] = xr.DataArray(np.stack([s.fields[name] for s in snapshots]).astype(np.float32), dims=dims,
                                      attrs={"units": _FIELD_UNITS.get(name, "1 (relative units of the rule table)"),
                                             "long_name": f"{name} signal"})
    data["structure"] = xr.DataArray(g.structure.astype(np.uint8), dims=("y", "x"),
                                     attrs=_flags("anatomical structure", STRUCTURE_NAMES))
    data["stellate_niche"] = xr.DataArray(((cell[0] >> 7) & 1).astype(np.uint8), dims=("y", "x"),
                                          attrs=_flags("stellate-cell niche", ("no", "yes")))
    data["zeta"] = xr.DataArray(g.zeta.astype(np.float32), dims=("y", "x"),
                                attrs={"units": "1", "long_name": "zonal coordinate (0 portal tract, 1 central vein)"})
    data["injury_weight"] = xr.DataArray(tissue.winj.astype(np.float32), dims=("y", "x"), attrs={
        "units": "1", "long_name": "etiology's injury pattern (relative, mean 1 over parenchyma)"})
    from .. import DISCLAIMER, __version__

    attrs = {"format": FORMAT, "hepatwin_version": __version__, "scenario": scenario_name, "contents": contents,
             "seed": int(g.seed), "etiology": tissue.drivers.etiology, "route": tissue.route or "",
             "C_stain": float(p["C_stain"]), "C_sat": float(p["C_sat"]), "disclaimer": DISCLAIMER,
             **{k: float(p[k]) for k in GEOMETRY_PARAMS}}
    coords = {"day": ("day", days, {"units": "days from baseline (first MSC dose or day 0)"}),
              "y": ("y", (np.arange(g.ny) + 0.5) * g.site_um, {"units": "um"}),
              "x": ("x", (np.arange(g.nx) + 0.5) * g.site_um, {"units": "um"})}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _flags(name: str, meanings) -> dict:
    return {"long_name": name, "flag_values": np.arange(len(meanings), dtype=np.uint8),
            "flag_meanings": " ".join(m.replace(" ", "_") for m in meanings)}


def save_snapshots(path: str | Path, ds: xr.Dataset) -> Path:
    """Write the Dataset as compressed NetCDF-4, atomically (one chunk per day and variable)."""
    from ..io.atomic import atomic_path

    enc = {}
    for name, v in ds.data_vars.items():
        chunks = tuple(1 if d == "day" else ds.sizes[d] for d in v.dims)
        enc[name] = {"zlib": True, "complevel": 1, "shuffle": True, "chunksizes": chunks}
    path = Path(path)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=enc)
    return path


def load_snapshots(path: str | Path) -> xr.Dataset:
    """Read a snapshot file written by `save_snapshots`, or the one of a tissue run's folder (all into
    memory; the file is closed)."""
    path = Path(path)
    if path.is_dir():
        path = path / "snapshots" / "state.nc"
    if not path.is_file():
        raise FileNotFoundError(f"snapshot file {path} does not exist")
    try:
        opened = xr.open_dataset(path, engine="netcdf4")
    except OSError as exc:
        raise ValueError(f"{path} is not a hepatwin tissue snapshot file (snapshots/state.nc, NetCDF-4): "
                         f"{exc.strerror or exc}") from None
    with opened as ds:
        if ds.attrs.get("format") != FORMAT:
            raise ValueError(f"{path} is not a hepatwin tissue snapshot file (format attribute "
                             f"{ds.attrs.get('format')!r}, expected {FORMAT!r})")
        return ds.load()


def geometry_of(ds: xr.Dataset) -> Geometry:
    """The section's anatomy, rebuilt from the saved size, seed and geometry parameters and checked against
    the saved structure (a file from another version of the geometry is refused rather than mis-read)."""
    ny, nx = ds.sizes["y"], ds.sizes["x"]
    g = build_geometry(ny, nx, seed=int(ds.attrs["seed"]), **{k: float(ds.attrs[k]) for k in GEOMETRY_PARAMS})
    if not np.array_equal(g.structure, ds["structure"].values):
        raise ValueError("the saved structure differs from the geometry this version builds from the same "
                         "size, seed and parameters; re-run the section with this version")
    return g


def measure_snapshot(ds: xr.Dataset, day: float, *, c_stain: float | None = None,
                     geometry: Geometry | None = None) -> dict:
    """CPA, septa, bridging, nodules and stage of the saved section on `day` (as `measure_all`), read with
    the saved stain threshold or `c_stain` (mg/g)."""
    k = day_index(ds, day)
    thr = stain_threshold(ds, c_stain)
    g = geometry or geometry_of(ds)
    collagen = ds["collagen"].values[k]
    return measure_all(g, Snapshot(float(ds["day"].values[k]), cell_bytes(ds, k), collagen), thr, collagen)


def stain_threshold(ds: xr.Dataset, c_stain: float | None = None) -> dict[str, float]:
    """The measures' stain parameter: the saved threshold, or `c_stain` (mg/g, refused unless positive)."""
    thr = float(ds.attrs["C_stain"]) if c_stain is None else float(c_stain)
    if not (np.isfinite(thr) and thr > 0):
        raise ValueError(f"stain threshold c_stain = {c_stain} mg/g; expected a positive number")
    return {"C_stain": thr}


def render_snapshot(ds: xr.Dataset, day: float, stain: str = "sirius", *, region: tuple[slice, slice] | None = None,
                    scale: int | None = None, geometry: Geometry | None = None, caption: bool = True) -> np.ndarray:
    """The saved section on `day` drawn as the run draws it: `stain` "sirius" (Sirius red) or "he" (H&E);
    `region` (rows, columns of sites) draws a window; `scale` pixels per site (default: 4 for H&E windows
    up to 512 sites a side, else as large as keeps the picture within 1024 pixels). With `caption`, the
    run's caption (day, section CPA) and a scale bar below the picture; without, the bare picture."""
    from .measures import cpa
    from .render import annotate, hematoxylin_eosin, sirius_red, snapshot_label

    if stain not in ("sirius", "he"):
        raise ValueError(f"stain {stain!r}; expected 'sirius' or 'he'")
    k = day_index(ds, day)
    g = geometry or geometry_of(ds)
    ys, xs = region if region is not None else (slice(None), slice(None))
    h, w = len(range(*ys.indices(g.ny))), len(range(*xs.indices(g.nx)))
    if h < 1 or w < 1:
        raise ValueError(f"region rows {ys.start}:{ys.stop}, columns {xs.start}:{xs.stop} holds no site of the "
                         f"{g.ny} x {g.nx} field")
    if scale is None:
        scale = 4 if stain == "he" and max(h, w) <= 512 else max(1, min(4, 1024 // max(h, w)))
    if not 1 <= scale <= 16:
        raise ValueError(f"scale {scale} pixels per site; expected 1 to 16")
    collagen, c_sat = ds["collagen"].values[k], float(ds.attrs["C_sat"])
    if stain == "sirius":
        img = sirius_red(g, collagen, c_sat, scale=scale, region=region)
    else:
        img = hematoxylin_eosin(g, cell_bytes(ds, k), collagen, c_sat, scale=scale, region=(ys, xs))
    if not caption:
        return img
    label = snapshot_label(ds.attrs.get("scenario", ""), float(ds["day"].values[k]),
                           cpa(g, collagen, float(ds.attrs["C_stain"])))
    return annotate(img, label, g.site_um / scale)


def cell_bytes(ds: xr.Dataset, k: int) -> np.ndarray:
    """The packed cell byte of every site (the engine's layout) of the k-th saved day."""
    cell = (ds["stellate_niche"].values.astype(np.uint8) << 7).astype(np.uint8)
    for name, shift, _, _ in _CELL_VARS:
        cell |= ds[name].values[k].astype(np.uint8) << shift
    return cell


def day_index(ds: xr.Dataset, day: float) -> int:
    """Index of the saved day `day` (refused with the saved days listed if there is none)."""
    days = ds["day"].values
    if not np.isfinite(day):
        raise ValueError(f"day {day}; expected one of the saved days: {', '.join(f'{d:g}' for d in days)}")
    k = int(np.argmin(np.abs(days - day)))
    if abs(float(days[k]) - day) > 1e-6:
        raise ValueError(f"no snapshot on day {day:g}; saved days: {', '.join(f'{d:g}' for d in days)}")
    return k
