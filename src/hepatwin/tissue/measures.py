"""Read-outs from the field, as a pathologist would take them from a stained section.

CPA: stained (collagen >= C_stain) area / tissue area, lumens excluded. Septa: stained tissue outside
the (slightly dilated) portal tracts and central-vein walls. Bridging and nodules are read from the
stain with one- or two-site gaps closed (a septum broken for 25-50 um is still a septum to the eye).
Bridging: one connected stained region joining two vessels, portal tract or central vein
(portal-portal, portal-central, central-central). Nodules: islands of parenchyma completely ringed by
stained tissue. Stage (METAVIR-like) from the pattern: F1 portal expansion, F2 septa, F3 most vessels
bridged, F4 nodules as well. Morphometry: mean septal width (septal area over the length of the septa's
skeleton) and nodule size (equivalent-circle diameter), the read-outs that tell thick from thin septa and
micro- from macronodules.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

from . import kernels as kn
from .geometry import CV_WALL, PORTAL_STROMA, Geometry


def stained(collagen_total: np.ndarray, c_stain: float) -> np.ndarray:
    return collagen_total >= c_stain


def cpa(geom: Geometry, collagen_total: np.ndarray, c_stain: float) -> float:
    """Collagen proportionate area (%), lumens excluded."""
    t = geom.tissue
    return float(100.0 * np.count_nonzero(stained(collagen_total, c_stain) & t) / max(np.count_nonzero(t), 1))


def quick_measures(tissue) -> dict[str, float]:
    """Cheap per-record measures (CPA, hepatocytes, cells) for the time series."""
    st, g, p = tissue.state, tissue.geom, tissue.p
    ctot = st.collagen[0] + st.collagen[1]
    s = tissue.sums
    n_t = max(s[kn.S_TISSUE], 1.0)
    n_par = max(s[kn.S_PAR], 1.0)
    hep = st.cell & 3
    return {
        "CPA": cpa(g, ctot, p["C_stain"]),
        "collagen_mean": float((s[kn.S_CS] + s[kn.S_CX]) / n_t),
        "hepatocyte_fraction": float(np.count_nonzero((hep != kn.HEP_EMPTY) & g.parenchyma) / n_par),
        "injured_fraction": float(np.count_nonzero(hep == kn.HEP_INJURED) / n_par),
        "hsc_activated": float(s[kn.S_HSCA] / n_par),
        "m1": float(s[kn.S_M1] / n_t), "m2": float(s[kn.S_M2] / n_t),
        "msc": float(s[kn.S_MSC] / n_t),
    }


def septa_mask(geom: Geometry, stain: np.ndarray, margin: float = 1.5) -> np.ndarray:
    """Stained tissue outside the portal tracts and central-vein walls (grown by `margin` sites)."""
    basal = (geom.structure == PORTAL_STROMA) | (geom.structure == CV_WALL)
    basal_grown = ndimage.distance_transform_edt(~basal) <= margin
    return stain & geom.parenchyma & ~basal_grown


def as_read(stain: np.ndarray) -> np.ndarray:
    """The stain as a pathologist reads septa: one- or two-site gaps closed."""
    return ndimage.binary_closing(stain, structure=np.ones((3, 3), bool), iterations=1)


def bridging(geom: Geometry, stain: np.ndarray) -> dict[str, int]:
    """Portal tracts and central veins joined to another vessel by stained tissue (gaps closed).

    Counts bridges by kind (portal-portal, portal-central, central-central: links needed to join the
    vessels of each stained component) and the vessels of each kind that are bridged."""
    return _bridging(geom, as_read(stain))


def _bridging(geom: Geometry, seen: np.ndarray) -> dict[str, int]:
    conn = seen | (geom.structure == PORTAL_STROMA) | (geom.structure == CV_WALL) | ~geom.tissue
    lab, _ = ndimage.label(conn)
    comps_p: dict[int, set[int]] = {}
    comps_c: dict[int, set[int]] = {}
    for ids, comps in ((geom.portal_id, comps_p), (geom.central_id, comps_c)):
        sel = ids >= 0
        for comp, v in zip(lab[sel].ravel(), ids[sel].ravel(), strict=True):
            comps.setdefault(int(comp), set()).add(int(v))
    pp = pc = cc = 0
    portal_bridged: set[int] = set()
    central_bridged: set[int] = set()
    for comp in set(comps_p) | set(comps_c):
        ports, cvs = comps_p.get(comp, set()), comps_c.get(comp, set())
        if len(ports) + len(cvs) < 2:
            continue
        portal_bridged |= ports
        central_bridged |= cvs
        pp += max(len(ports) - 1, 0)
        cc += max(len(cvs) - 1, 0)
        pc += len(cvs) if ports else 0
    return {"portal_portal": pp, "portal_central": pc, "central_central": cc,
            "portal_tracts_bridged": len(portal_bridged), "central_veins_bridged": len(central_bridged)}


def nodules(geom: Geometry, stain: np.ndarray, min_sites: int = 20) -> tuple[int, float]:
    """(count, fraction of parenchyma) of parenchymal islands fully ringed by scar.

    An island counts if it is smaller than 3 lobules and does not touch the field edge (an open
    region at the edge cannot be known to be closed)."""
    return _nodules(geom, as_read(stain), min_sites)


def _nodules(geom: Geometry, seen: np.ndarray, min_sites: int = 20) -> tuple[int, float]:
    sizes = _nodule_sizes(geom, seen, min_sites)
    return int(sizes.size), float(sizes.sum() / max(np.count_nonzero(geom.parenchyma), 1))


def _nodule_sizes(geom: Geometry, seen: np.ndarray, min_sites: int = 20) -> np.ndarray:
    # sites of each nodule (closed parenchymal island) of the read stain
    lab, n = ndimage.label(geom.parenchyma & ~seen)
    if n == 0:
        return np.zeros(0, np.int64)
    sizes = np.bincount(lab.ravel())
    edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    lobule_sites = 1.5 * np.sqrt(3) * geom.lobule_radius**2
    ok = (sizes >= min_sites) & (sizes < 3 * lobule_sites)
    ok[0] = False
    ok[edge] = False
    return sizes[ok]


def nodule_diameters_mm(geom: Geometry, stain: np.ndarray, min_sites: int = 20) -> np.ndarray:
    """Equivalent-circle diameter (mm) of each nodule of the stain (gaps closed as for `nodules`).

    Micronodules are < 3 mm, macronodules >= 3 mm (https://doi.org/10.1136/jcp.31.5.395). Islands of three
    lobules or more do not count as nodules, so on the default lobule (radius 550 um) every nodule is
    below 1.8 mm: this model makes micronodules only."""
    return _diameters_mm(geom, _nodule_sizes(geom, as_read(stain), min_sites))


def _diameters_mm(geom: Geometry, sizes: np.ndarray) -> np.ndarray:
    return 2.0 * np.sqrt(sizes / np.pi) * geom.site_um / 1000.0


def skeleton_length(skeleton: np.ndarray) -> float:
    """Length (sites) of a one-site-wide, 8-connected skeleton: orthogonal links count 1, diagonal links
    sqrt(2); a diagonal link whose ends an orthogonal step already joins is not counted twice."""
    p = np.pad(skeleton.astype(bool), 1)
    c = p[1:-1, 1:-1]
    right, down = p[1:-1, 2:], p[2:, 1:-1]
    orth = np.count_nonzero(c & right) + np.count_nonzero(c & down)
    diag = (np.count_nonzero(c & p[2:, 2:] & ~right & ~down)
            + np.count_nonzero(c & p[2:, :-2] & ~p[1:-1, :-2] & ~down))
    return float(orth + np.sqrt(2.0) * diag)


def septal_width_um(geom: Geometry, septa: np.ndarray, min_length: float = 10.0) -> float | None:
    """Mean width (um) of the septa in the mask `septa`: their area over the length of their skeleton
    (None when the skeleton is shorter than `min_length` sites). Exact for straight septa along the lattice
    axes; up to 8% low at other angles, where the skeleton's staircase is counted longer than the line."""
    length = skeleton_length(skeletonize(septa))
    if length < min_length:
        return None
    return float(np.count_nonzero(septa) / length * geom.site_um)


def stage_from_pattern(portal_expansion: float, septa_fraction: float, bridged_fraction: float,
                       nodule_fraction: float) -> int:
    """METAVIR-like stage 0-4 from the pattern (thresholds documented in docs/tissue.md).

    `bridged_fraction`: share of vessels (portal tracts and central veins) bridged to another vessel."""
    if nodule_fraction >= 0.05 and bridged_fraction >= 0.5:
        return 4
    if bridged_fraction >= 0.5:
        return 3
    if septa_fraction >= 0.01 or bridged_fraction >= 0.1:
        return 2
    if portal_expansion >= 1.5:
        return 1
    return 0


def measure_all(geom: Geometry, state, params: dict[str, float], collagen_total: np.ndarray | None = None) -> dict:
    """CPA, septa, bridging, nodules and stage of a field."""
    ctot = collagen_total if collagen_total is not None else state.collagen[0] + state.collagen[1]
    stain = stained(ctot, params["C_stain"])
    sep = septa_mask(geom, stain)
    n_par = max(np.count_nonzero(geom.parenchyma), 1)
    seen = as_read(stain)
    br = _bridging(geom, seen)
    nod = _nodule_sizes(geom, seen)
    n_nod, f_nod = int(nod.size), float(nod.sum() / n_par)
    basal = (geom.structure == PORTAL_STROMA) | (geom.structure == CV_WALL)
    near_portal = (ndimage.distance_transform_edt(geom.structure != PORTAL_STROMA) <= 3) & geom.tissue
    portal_expansion = float(np.count_nonzero(stain & near_portal) / max(np.count_nonzero(basal & near_portal), 1))
    septa_fraction = float(np.count_nonzero(sep) / n_par)
    bridged_fraction = br["portal_tracts_bridged"] / max(geom.n_portal, 1)
    n_vessels = max(geom.n_portal + geom.n_central, 1)
    vessels_bridged = (br["portal_tracts_bridged"] + br["central_veins_bridged"]) / n_vessels
    hep = state.cell & 3
    return {
        "CPA": cpa(geom, ctot, params["C_stain"]),
        "septa_fraction": septa_fraction,
        "septa_width_um": septal_width_um(geom, septa_mask(geom, seen)),
        "portal_expansion": portal_expansion,
        **br,
        "bridged_fraction": bridged_fraction,
        "vessels_bridged_fraction": vessels_bridged,
        "nodules": n_nod,
        "nodule_fraction": f_nod,
        "nodule_diameter_mm": float(np.median(_diameters_mm(geom, nod))) if nod.size else None,
        "stage": stage_from_pattern(portal_expansion, septa_fraction, vessels_bridged, f_nod),
        "hepatocyte_fraction": float(np.count_nonzero((hep != kn.HEP_EMPTY) & geom.parenchyma) / n_par),
    }


def zonal_damage(geom: Geometry, cell: np.ndarray) -> dict[int, float]:
    """Fraction of parenchymal sites per zone (1, 2, 3) whose hepatocyte is injured or lost."""
    zone = geom.zone()
    hep = cell & 3
    bad = (hep == kn.HEP_INJURED) | (hep == kn.HEP_EMPTY)
    return {z: float(np.count_nonzero(bad & (zone == z)) / max(np.count_nonzero(zone == z), 1)) for z in (1, 2, 3)}
