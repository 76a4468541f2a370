"""Hexagonal lobules on a square lattice: central veins, portal triads at the corners, zones 1-3.

One lattice site holds about one hepatocyte (`site_um` micrometres). Lobules are the Voronoi cells
of a triangular lattice of central veins; portal triads sit at the hexagon corners, so sinusoids
run radially from the corners (zone 1) to the centre (zone 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from ..model.catalog import INJURY_ZONE

#: site structure codes (uint8)
PARENCHYMA, CV_LUMEN, PORTAL_VEIN, HEP_ARTERY, BILE_DUCT, PORTAL_STROMA, CV_WALL = range(7)
STRUCTURE_NAMES = ("parenchyma", "central vein", "portal vein", "hepatic artery", "bile duct",
                   "portal stroma", "central vein wall")
LUMENS = (CV_LUMEN, PORTAL_VEIN, HEP_ARTERY, BILE_DUCT)

#: etiologies whose injury is periportal / interface (zone 1) vs pericentral (zone 3), from the model's catalog
ZONE1_ETIOLOGIES = tuple(e for e, z in INJURY_ZONE.items() if z == 1)
ZONE3_ETIOLOGIES = tuple(e for e, z in INJURY_ZONE.items() if z == 3)


@dataclass(frozen=True)
class Geometry:
    """Static anatomy of the field; arrays are (ny, nx)."""

    ny: int
    nx: int
    site_um: float
    lobule_radius: float          # CV to portal-triad distance, sites
    structure: np.ndarray         # uint8 codes above
    zeta: np.ndarray              # float32 zonal coordinate: 0 at portal tracts, 1 at central veins
    d_portal: np.ndarray          # float32 distance to the nearest portal-triad centre, sites
    d_central: np.ndarray         # float32 distance to the nearest central vein centre, sites
    d_edge: np.ndarray            # float32 distance to the lobule boundary (portal-portal line), sites
    d_spoke: np.ndarray           # float32 distance to the nearest portal-central axis, sites
    portal_id: np.ndarray         # int32 label of the portal tract a site belongs to (-1: none)
    central_id: np.ndarray        # int32 label of the central vein (+wall) a site belongs to (-1: none)
    n_portal: int
    n_central: int
    spoke_id: np.ndarray          # int64 label of the nearest portal-central axis (lobule * 6 + corner)
    d_cc: np.ndarray              # float32 distance to the nearest central-central axis, sites
    cc_id: np.ndarray             # int64 label of that axis (the same on both sides of the shared edge)
    cv_offset: np.ndarray         # float32 (2, ny, nx): site centre minus its lobule's central-vein centre (dy, dx)
    seed: int = 0

    @property
    def tissue(self) -> np.ndarray:
        """Sites that are tissue (not a vessel or duct lumen)."""
        return ~np.isin(self.structure, LUMENS)

    @property
    def parenchyma(self) -> np.ndarray:
        return self.structure == PARENCHYMA

    def zone(self) -> np.ndarray:
        """Zone 1, 2 or 3 of each site (0 for non-parenchyma)."""
        z = np.where(self.zeta < 1 / 3, 1, np.where(self.zeta < 2 / 3, 2, 3)).astype(np.int8)
        z[~self.parenchyma] = 0
        return z


def build_geometry(ny: int, nx: int | None = None, *, lobule_radius_um: float = 550.0, site_um: float = 25.0,
                   cv_radius_um: float = 40.0, cv_wall_um: float = 25.0, portal_radius_um: float = 75.0,
                   seed: int = 0) -> Geometry:
    """Build a field of `ny` x `nx` sites tiled with hexagonal lobules (pointy-top hexagons)."""
    nx = ny if nx is None else nx
    if ny < 16 or nx < 16:
        raise ValueError(f"field {ny} x {nx} is too small; at least 16 x 16 sites")
    if not (site_um > 0 and lobule_radius_um > 4 * site_um):
        raise ValueError("lobule radius must exceed four sites")
    R = lobule_radius_um / site_um
    rng = np.random.default_rng(seed)
    # Triangular lattice of central veins, offset by a random phase so fields differ by seed.
    a1 = np.array([np.sqrt(3) * R, 0.0])
    a2 = np.array([np.sqrt(3) * R / 2, 1.5 * R])
    phase = rng.uniform(0, 1, 2) @ np.array([a1, a2])
    kmax = int(max(nx, ny) / R) + 3
    ii, jj = np.meshgrid(np.arange(-kmax, kmax + 1), np.arange(-kmax, kmax + 1), indexing="ij")
    centres = ii.reshape(-1, 1) * a1 + jj.reshape(-1, 1) * a2 + phase
    keep = ((centres[:, 0] > -2 * R) & (centres[:, 0] < nx + 2 * R) & (centres[:, 1] > -2 * R)
            & (centres[:, 1] < ny + 2 * R))
    centres = centres[keep]
    ang = np.deg2rad(90 + 60 * np.arange(6))
    corners = (centres[:, None, :] + R * np.stack([np.cos(ang), np.sin(ang)], axis=1)[None]).reshape(-1, 2)
    corners = np.unique(np.round(corners, 3), axis=0)
    # remove duplicates left by rounding noise
    tree_c = cKDTree(corners)
    pairs = tree_c.query_pairs(0.25)
    drop = {max(p) for p in pairs}
    corners = np.delete(corners, sorted(drop), axis=0)

    yy, xx = np.mgrid[0:ny, 0:nx]
    pts = np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], axis=1)
    tree_cv = cKDTree(centres)
    dc, ic = tree_cv.query(pts, k=2)
    dp, ip = cKDTree(corners).query(pts, k=1)
    d1, d2 = dc[:, 0], dc[:, 1]
    c1, c2 = centres[ic[:, 0]], centres[ic[:, 1]]
    sep = np.linalg.norm(c2 - c1, axis=1)
    d_edge = (d2**2 - d1**2) / (2 * sep)
    # angular distance to the nearest corner direction, seen from the lobule's central vein
    rel = pts - c1
    theta = np.degrees(np.arctan2(rel[:, 1], rel[:, 0])) - 90.0
    dth = np.deg2rad(np.abs((theta + 30.0) % 60.0 - 30.0))
    corner = np.round(theta / 60.0).astype(np.int64) % 6
    spoke_id = ic[:, 0].astype(np.int64) * 6 + corner
    d_spoke = np.where(np.cos(dth) > 0, d1 * np.sin(dth), d1)
    # central-central axes point between corners, to the neighbouring lobules' central veins
    dcc = np.deg2rad(np.abs(theta % 60.0 - 30.0))
    d_cc = d1 * np.sin(dcc)
    sector = np.floor(theta / 60.0).astype(np.int64) % 6
    nb_dir = np.deg2rad(120.0 + 60.0 * np.arange(6))
    nb_pos = centres[:, None, :] + np.sqrt(3) * R * np.stack([np.cos(nb_dir), np.sin(nb_dir)], axis=1)[None]
    dn, nb = tree_cv.query(nb_pos.reshape(-1, 2))
    n_c = len(centres)
    # a neighbour outside the kept lattice gets a label of its own (the axis leaves the field anyway)
    nb = np.where(dn < 0.1 * R, nb, n_c + np.arange(nb.size)).reshape(n_c, 6)
    own_c = ic[:, 0].astype(np.int64)
    other = nb[own_c, sector]
    cc_id = np.minimum(own_c, other) * (n_c + 6 * n_c) + np.maximum(own_c, other)

    r_cv, r_wall, r_pt = cv_radius_um / site_um, (cv_radius_um + cv_wall_um) / site_um, portal_radius_um / site_um
    structure = np.full(pts.shape[0], PARENCHYMA, np.uint8)
    structure[d1 < r_wall] = CV_WALL
    structure[d1 < r_cv] = CV_LUMEN
    in_pt = dp < r_pt
    structure[in_pt] = PORTAL_STROMA
    # vessels of the triad: portal vein at the centre, artery and duct beside it at random angles
    r_pv, r_ha, r_bd = max(0.9, 0.45 * r_pt), max(0.6, 0.18 * r_pt), max(0.6, 0.2 * r_pt)
    phi = rng.uniform(0, 2 * np.pi, len(corners))
    off = 0.62 * r_pt
    ha_pos = corners + off * np.stack([np.cos(phi), np.sin(phi)], axis=1)
    bd_pos = corners + off * np.stack([np.cos(phi + 2.2), np.sin(phi + 2.2)], axis=1)
    own = corners[ip]
    structure[in_pt & (np.linalg.norm(pts - own, axis=1) < r_pv)] = PORTAL_VEIN
    structure[in_pt & (np.linalg.norm(pts - ha_pos[ip], axis=1) < r_ha)] = HEP_ARTERY
    structure[in_pt & (np.linalg.norm(pts - bd_pos[ip], axis=1) < r_bd)] = BILE_DUCT

    a = np.maximum(dp - r_pt, 0.0)
    b = np.maximum(d1 - r_wall, 0.0)
    zeta = np.where(a + b > 0, a / np.maximum(a + b, 1e-9), 0.0)
    portal_id = np.where(in_pt, ip, -1).astype(np.int32)
    central_id = np.where(d1 < r_wall, ic[:, 0], -1).astype(np.int32)
    _, portal_id_c = np.unique(portal_id, return_inverse=True)
    _, central_id_c = np.unique(central_id, return_inverse=True)
    has_neg_p = (portal_id < 0).any()
    has_neg_c = (central_id < 0).any()
    portal_id = (portal_id_c - (1 if has_neg_p else 0)).astype(np.int32)
    central_id = (central_id_c - (1 if has_neg_c else 0)).astype(np.int32)

    def f(x, dt=np.float32):
        return np.ascontiguousarray(x.reshape(ny, nx), dtype=dt)

    return Geometry(ny=ny, nx=nx, site_um=site_um, lobule_radius=R, structure=f(structure, np.uint8),
                    zeta=f(zeta), d_portal=f(dp), d_central=f(d1), d_edge=f(d_edge), d_spoke=f(d_spoke),
                    portal_id=f(portal_id, np.int32), central_id=f(central_id, np.int32),
                    n_portal=int(portal_id.max()) + 1, n_central=int(central_id.max()) + 1,
                    spoke_id=spoke_id.reshape(ny, nx), d_cc=f(d_cc), cc_id=cc_id.reshape(ny, nx),
                    cv_offset=np.ascontiguousarray(np.stack([f(rel[:, 1]), f(rel[:, 0])])), seed=seed)


def _preferred(ids: np.ndarray, seed: list[int], fraction: float) -> np.ndarray:
    """1 on a seeded `fraction` of the axes in `ids`, 0.1 on the rest (bridging is patchy)."""
    uniq = np.unique(ids)
    pick = np.random.default_rng(seed).random(uniq.size) < fraction
    return np.where(pick, 1.0, 0.1)[np.searchsorted(uniq, ids)]


def injury_weight(geom: Geometry, etiology: str, *, zone_length: float = 0.22, septal_gain: float = 2.0,
                  septal_width: float = 1.5, zone1_axis_fraction: float = 0.25, zone3_axis_fraction: float = 0.35,
                  zone3_axis_weight: float = 1.25) -> np.ndarray:
    """Relative hepatocyte injury by site for an etiology, mean 1 over parenchyma.

    Zone 1 (periportal, interface) for viral and autoimmune/biliary disease, zone 3 (pericentral) for
    alcohol and MASLD. Injury is also raised along the lobule's vascular axes where bridging necrosis
    and septa form: portal-portal lines and a seeded share of the portal-central axes for zone-1
    disease; a seeded share of the portal-central and central-central axes for zone-3 disease, whose
    septa link central veins to portal tracts and to each other into micronodules.
    """
    if etiology not in ZONE1_ETIOLOGIES + ZONE3_ETIOLOGIES:
        known = ", ".join(ZONE1_ETIOLOGIES + ZONE3_ETIOLOGIES)
        raise ValueError(f"unknown etiology {etiology!r}; expected one of {known}")
    zone1 = etiology in ZONE1_ETIOLOGIES
    edge = np.exp(-(geom.d_edge / septal_width) ** 2)
    spoke = _preferred(geom.spoke_id, [geom.seed, 7919], zone1_axis_fraction if zone1 else zone3_axis_fraction) \
        * np.exp(-(geom.d_spoke / septal_width) ** 2)
    if zone1:
        # interface hepatitis spreads from portal tracts along the portal-portal lines first
        w = np.exp(-geom.zeta / zone_length) * (1.0 + septal_gain * (edge + spoke))
        w = w + septal_gain * (0.4 * edge + 0.7 * spoke)
    else:
        # central-central lines fade out in the pericentral zone, where every axis converges on the vein
        # and the zonal term already holds the injury (otherwise they would take most of the budget there)
        cc = _preferred(geom.cc_id, [geom.seed, 7927], zone3_axis_fraction) \
            * np.exp(-(geom.d_cc / septal_width) ** 2) * (1.0 - np.exp(-4.0 * (1.0 - geom.zeta) / zone_length))
        # pericentral necrosis bridges to portal tracts and neighbouring veins; portal-portal septa come late
        w = np.exp(-(1.0 - geom.zeta) / zone_length) * (1.0 + septal_gain * spoke)
        w = w + septal_gain * (zone3_axis_weight * (spoke + cc) + 0.15 * edge)
    par = geom.parenchyma
    w = np.where(par, w, 0.0)
    return np.ascontiguousarray(w / w[par].mean(), dtype=np.float32)
