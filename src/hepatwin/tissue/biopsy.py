"""Virtual needle biopsies: cores cut from a saved section and read like the whole section.

A core is a rectangle of the section (`length_mm` x `width_mm`, along the rows or the columns, at a random
place); it is measured with the same rules as the whole field (CPA, bridging, nodules, stage), on its own:
a vessel counts if part of it lies in the core, a bridge only if it runs inside the core, a nodule only if
its ring closes inside the core. This is what makes short and thin cores under-stage, as pathologists report
(stage underrated in cores shorter than 2-2.5 cm or thinner than 1.2-1.4 mm;
https://gut.bmj.com/content/53/12/1878.1). Research software, not clinical advice.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import xarray as xr

from .engine import Snapshot
from .geometry import Geometry
from .measures import measure_all
from .snapshots import cell_bytes, day_index, geometry_of, measure_snapshot, stain_threshold


def crop_geometry(geom: Geometry, ys: slice, xs: slice) -> Geometry:
    """The anatomy of a window of the field, with vessel counts of the vessels that lie (partly) in it."""
    arrays = {f.name: getattr(geom, f.name) for f in dataclasses.fields(geom)
              if isinstance(getattr(geom, f.name), np.ndarray)}
    cut = {k: np.ascontiguousarray(v[..., ys, xs]) for k, v in arrays.items()}
    ny, nx = cut["structure"].shape
    n_portal = int(np.unique(cut["portal_id"][cut["portal_id"] >= 0]).size)
    n_central = int(np.unique(cut["central_id"][cut["central_id"] >= 0]).size)
    return dataclasses.replace(geom, ny=ny, nx=nx, n_portal=n_portal, n_central=n_central, **cut)


def core_windows(geom: Geometry, length_mm: float, width_mm: float, n: int, seed: int = 0
                 ) -> list[tuple[slice, slice, str]]:
    """`n` random core positions (rows, columns, orientation) that fit in the field."""
    for name, v in (("length_mm", length_mm), ("width_mm", width_mm)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"core {name} = {v}; expected a positive number of millimetres")
    length = round(length_mm * 1000.0 / geom.site_um)
    width = round(width_mm * 1000.0 / geom.site_um)
    if length < 1 or width < 1:
        raise ValueError(f"core {length_mm} x {width_mm} mm is smaller than one site ({geom.site_um} um)")
    rng = np.random.default_rng([seed, 0xB10])
    out = []
    for _ in range(n):
        along_x = bool(rng.integers(2))
        h, w = (width, length) if along_x else (length, width)
        if h > geom.ny or w > geom.nx:
            raise ValueError(f"a {length_mm} x {width_mm} mm core ({h} x {w} sites) does not fit in the "
                             f"{geom.ny} x {geom.nx} field ({geom.ny * geom.site_um / 1000:g} x "
                             f"{geom.nx * geom.site_um / 1000:g} mm)")
        y0, x0 = int(rng.integers(geom.ny - h + 1)), int(rng.integers(geom.nx - w + 1))
        out.append((slice(y0, y0 + h), slice(x0, x0 + w), "columns" if along_x else "rows"))
    return out


def virtual_biopsies(ds: xr.Dataset, day: float, *, length_mm: float = 20.0, width_mm: float = 1.0, n: int = 30,
                     seed: int = 0, c_stain: float | None = None, geometry: Geometry | None = None) -> pd.DataFrame:
    """Read `n` cores of a saved section (see `snapshots.load_snapshots`) on `day`; one row per core, with the
    whole section's CPA and stage alongside."""
    if n < 1:
        raise ValueError(f"n = {n} cores; expected at least 1")
    g = geometry or geometry_of(ds)
    whole = measure_snapshot(ds, day, c_stain=c_stain, geometry=g)
    k, thr = day_index(ds, day), stain_threshold(ds, c_stain)
    collagen, cell = ds["collagen"].values[k], cell_bytes(ds, k)
    rows = []
    for i, (ys, xs, orient) in enumerate(core_windows(g, length_mm, width_mm, n, seed)):
        gc = crop_geometry(g, ys, xs)
        m = measure_all(gc, Snapshot(day, cell[ys, xs], collagen[ys, xs]), thr, collagen[ys, xs])
        rows.append({"core": i, "length_mm": length_mm, "width_mm": width_mm, "along": orient,
                     "y0": ys.start, "x0": xs.start, "portal_tracts": gc.n_portal, **m,
                     "section_CPA": whole["CPA"], "section_stage": whole["stage"]})
    return pd.DataFrame(rows)


def summarise(cores: pd.DataFrame) -> dict:
    """Agreement of the cores with the whole section: CPA spread, stage distribution, share under-staged."""
    st, sec = cores["stage"].to_numpy(), int(cores["section_stage"].iloc[0])
    return {
        "length_mm": float(cores["length_mm"].iloc[0]), "width_mm": float(cores["width_mm"].iloc[0]),
        "n": len(cores), "portal_tracts_median": float(cores["portal_tracts"].median()),
        "CPA_mean": float(cores["CPA"].mean()), "CPA_sd": float(cores["CPA"].std(ddof=1)) if len(cores) > 1 else 0.0,
        "section_CPA": float(cores["section_CPA"].iloc[0]), "section_stage": sec,
        "stage_counts": {f"F{s}": int((st == s).sum()) for s in range(5)},
        "agree": float((st == sec).mean()), "under_staged": float((st < sec).mean()),
        "over_staged": float((st > sec).mean()),
    }
