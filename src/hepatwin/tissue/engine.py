"""The tissue simulation: state, automatic time step, the driven run loop."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ..progress import ProgressCallback, notify
from . import kernels as kn
from .coupling import Drivers
from .diffusion import choose_dt
from .geometry import (
    CV_WALL,
    HEP_ARTERY,
    PARENCHYMA,
    PORTAL_STROMA,
    PORTAL_VEIN,
    Geometry,
    build_geometry,
    injury_weight,
)
from .params import param_values
from .rules import RuleSet, load_rules

FIELD_SAFETY = 0.9
HISTORY_DT_MAX = 2.0
#: MSC numbers in the field are in units of this many cells in the whole liver
MSC_UNIT_CELLS = 1e7


@dataclass
class TissueState:
    """All per-site arrays (C-contiguous)."""

    cell: np.ndarray          # uint8 (ny, nx), packed cell slots (see kernels)
    fields: np.ndarray        # float32 (7, ny, nx)
    collagen: np.ndarray      # float32 (2, ny, nx): young, cross-linked (mg/g)
    step: int = 0
    t: float = 0.0

    def copy(self) -> TissueState:
        return TissueState(self.cell.copy(), self.fields.copy(), self.collagen.copy(), self.step, self.t)

    def nbytes(self) -> int:
        return self.cell.nbytes + self.fields.nbytes + self.collagen.nbytes


@dataclass
class Snapshot:
    day: float
    cell: np.ndarray
    collagen: np.ndarray      # total collagen (mg/g), float32
    fields: dict[str, np.ndarray] = field(default_factory=dict)


class Tissue:
    """A lobule field driven by patient time series."""

    def __init__(self, geometry: Geometry, drivers: Drivers, *, params: dict[str, float] | None = None,
                 rules: RuleSet | None = None, seed: int = 0, route: str | None = None):
        self.geom = geometry
        self.drivers = drivers
        self.p = param_values(params)
        self.rules = rules or load_rules()
        self.seed = np.uint64(seed)
        self.route = route or drivers.route
        self.winj = injury_weight(geometry, drivers.etiology, zone_length=self.p["zone_length"],
                                  septal_gain=self.p["septal_gain"],
                                  zone1_axis_fraction=self.p["zone1_axis_fraction"],
                                  zone3_axis_fraction=self.p["zone3_axis_fraction"],
                                  zone3_axis_weight=self.p["zone3_axis_weight"])
        self.zeta = np.ascontiguousarray(geometry.zeta, dtype=np.float32)
        self.structure = np.ascontiguousarray(geometry.structure)
        ny, nx = geometry.ny, geometry.nx
        self._cell_out = np.empty((ny, nx), np.uint8)
        self._fld_out = np.empty((kn.N_FIELDS, ny, nx), np.float32)
        self._col_out = np.empty((2, ny, nx), np.float32)
        self._att = np.zeros((ny, nx), np.float32)
        self._msc_arrived = False
        self._rowsums = np.zeros((ny, kn.N_SUMS), np.float64)
        self.sums = np.zeros(kn.N_SUMS, np.float64)
        self._arrival_w = self._arrival_weights()
        L = np.array([self.p[k] for k in ("L_tgfb_um", "L_cyt_um", "L_hgf_um", "L_mmp_um", "L_o2_um", "L_msf_um")])
        self.L2 = (L / geometry.site_um) ** 2
        # pseudo-time step of each field's relaxation sweep: the positivity limit of the explicit scheme
        self.omega = FIELD_SAFETY / (4.0 * self.L2 + 1.0)
        self.state = self._initial_state()

    # ------------------------------------------------------------------ setup
    def _arrival_weights(self) -> np.ndarray:
        g, p = self.geom, self.p
        ell = p["msc_entry_um"] / g.site_um
        tissue = g.tissue

        def near(code):
            d = ndimage.distance_transform_edt(g.structure != code)
            # arrest within a few entry lengths; beyond that no cell arrives (keeps the MSC region compact)
            w = np.where(tissue & (d <= 4 * ell), np.exp(-d / ell), 0.0)
            return w / max(w.sum(), 1e-30)

        if self.route == "hepatic_artery":
            w = near(HEP_ARTERY)
        elif self.route == "portal_vein":
            w = near(PORTAL_VEIN)
        elif self.route == "peripheral_iv":
            f = p["ha_fraction_iv"]
            w = f * near(HEP_ARTERY) + (1 - f) * near(PORTAL_VEIN)
        else:
            raise ValueError(f"unknown route {self.route!r}; expected peripheral_iv, hepatic_artery or portal_vein")
        return np.ascontiguousarray(w, dtype=np.float64)

    def _initial_state(self) -> TissueState:
        g, p = self.geom, self.p
        ny, nx = g.ny, g.nx
        idx = np.arange(ny * nx, dtype=np.uint64).reshape(ny, nx)
        with np.errstate(over="ignore"):
            u = _np_hash(self.seed ^ np.uint64(0xA5A5A5A5), idx) / 2.0**64
            v = _np_hash(self.seed ^ np.uint64(0x5A5A5A5A), idx) / 2.0**64
        par = g.parenchyma
        tissue = g.tissue
        cell = np.zeros((ny, nx), np.uint16)
        cell |= np.where(par, kn.HEP_HEALTHY, 0).astype(np.uint16)
        niche = par & (u < p["hsc_density"])
        cell |= np.where(niche, (kn.HSC_Q << 2) | 128, 0).astype(np.uint16)
        mac = tissue & (v < p["mac_density"])
        m1 = v < p["mac_density"] / 2
        cell |= np.where(mac, np.where(m1, kn.MAC_M1, kn.MAC_M2) << 4, 0).astype(np.uint16)
        cell |= np.where(par, 1 << 6, 0).astype(np.uint16)
        fields = np.zeros((kn.N_FIELDS, ny, nx), np.float32)
        fields[kn.O2] = np.where(tissue, 1.0 - p["o2_zonation"] * g.zeta, 0.0)
        d0 = self.drivers.at(self.drivers.t_start)
        basal = (g.structure == PORTAL_STROMA) | (g.structure == CV_WALL)
        scale = tissue.sum() / max(basal.sum(), 1)
        col = np.zeros((2, ny, nx), np.float32)
        col[0][basal] = d0["Cs"] * scale
        col[1][basal] = d0["Cx"] * scale
        st = TissueState(np.ascontiguousarray(cell.astype(np.uint8)), fields, col, 0, self.drivers.t_start)
        self.state = st
        self._init_sums()
        for _ in range(60):  # let the signals settle before anything happens
            self._kernel(0.0, d0, advance=False)
        return st

    def _init_sums(self) -> None:
        g, st = self.geom, self.state
        tissue = g.tissue
        basal = (g.structure == PORTAL_STROMA) | (g.structure == CV_WALL)
        mu = st.fields[kn.MMP] + self.p["mu0"]
        s = np.zeros(kn.N_SUMS)
        ctot = st.collagen[0] + st.collagen[1]
        s[kn.S_BW] = (basal * np.clip(1 - ctot / self.p["C_sat"], 0, None)).sum()
        self.b0 = s[kn.S_BW] / max(tissue.sum(), 1)
        # at the start only basal structures hold matrix: weight c_basal / b0 per unit basal weight
        s[kn.S_W] = self.drivers.params["c_basal"] / self.b0 * s[kn.S_BW] if self.b0 > 0 else 0.0
        s[kn.S_TISSUE] = tissue.sum()
        s[kn.S_CS] = st.collagen[0].sum(dtype=np.float64)
        s[kn.S_CX] = st.collagen[1].sum(dtype=np.float64)
        s[kn.S_MUCS] = (mu * st.collagen[0]).sum(dtype=np.float64)
        s[kn.S_MUCX] = (mu * st.collagen[1]).sum(dtype=np.float64)
        self.sums = s

    # ------------------------------------------------------------------ stepping
    def base_rates(self, d: dict[str, float]) -> np.ndarray:
        """Base rate of every behaviour for the current drivers (the rules table then scales them)."""
        p = self.p
        b = np.zeros(kn.N_BEHAVIOURS, np.float32)
        stim = min(max(d["stim"], 0.0), 1.0)
        k_rec = p["mac_density"] / (1 - p["mac_density"]) * p["k_mdep"]
        b[kn.HEP_INJURY] = p["k_turn"]
        b[kn.HEP_DEATH] = p["k_die"]
        b[kn.HEP_RECOVERY] = p["k_recover"]
        b[kn.HEP_DIVISION] = p["k_div"]
        b[kn.HEP_CYT] = p["s_cyt_hep"]
        b[kn.HEP_TGF] = p["s_tgfb_hep"]
        b[kn.HSC_ACT] = p["ka_t"] * stim
        b[kn.HSC_INACT] = p["kin_t"] * (1 - stim)
        b[kn.HSC_REACT] = p["kre_t"] * stim
        b[kn.HSC_APOP] = p["kap_t"]
        b[kn.HSC_PROL] = p["kpa_t"] * stim
        b[kn.HSC_DEP] = 1.0
        b[kn.HSC_TGF] = p["s_tgfb_hsc"]
        b[kn.HSC_HGF] = p["s_hgf"]
        b[kn.HSC_MMP] = p["s_mmp_hsc"]
        b[kn.HSC_REQ] = p["krev_t"]
        b[kn.HSC_REPL] = p["kq_t"]
        b[kn.MAC_REC] = k_rec * max(d["M1"], 0.0)
        b[kn.MAC_TO_M2] = p["k_mpol"]
        b[kn.MAC_TO_M1] = p["k_mpol"]
        b[kn.MAC_DEP] = p["k_mdep"]
        b[kn.MAC_CYT] = p["s_cyt_m1"]
        b[kn.MAC_TGF] = p["s_tgfb_mac"]
        b[kn.MAC_MMP] = p["s_mmp_m2"]
        b[kn.END_LOSS] = p["k_eloss"]
        b[kn.END_REPAIR] = p["k_erep"]
        b[kn.END_O2] = max(d["perf"], 0.0)
        b[kn.MSC_SEC] = p["s_msf"]
        b[kn.MSC_CLEAR] = self.drivers.params["kc_liver"]
        b[kn.MSC_HOME] = p["msc_chi"]
        return b

    def scalars(self, dt: float, d: dict[str, float]) -> np.ndarray:
        p, dp = self.p, self.drivers.params
        pp = np.zeros(kn.N_PP, np.float32)
        pp[kn.P_DT] = dt
        pp[kn.P_INJ] = p["inj_gain"] * max(d["inj"], 0.0)
        pp[kn.P_AREL] = max(d["A"], 0.0) / dp["A_ref"]
        pp[kn.P_DEGR] = max(d["degr"], 0.0)
        for key, name in ((kn.P_EIM, "e_im"), (kn.P_EAF, "e_af"), (kn.P_ERG, "e_rg"), (kn.P_EMC, "e_mc"),
                          (kn.P_EACD, "e_acd")):
            pp[key] = min(max(d[name], 0.0), 1.0)
        pp[kn.P_INFL] = max(d["M1"], 0.0)
        pp[kn.P_STIM] = min(max(d["stim"], 0.0), 1.0)
        pp[kn.P_SC] = dp["sC"]
        pp[kn.P_CBASAL] = dp["c_basal"]
        pp[kn.P_KDEG] = dp["kdeg"]
        pp[kn.P_KX] = dp["kx"]
        pp[kn.P_KDX] = dp["kdx"]
        pp[kn.P_CSAT] = p["C_sat"]
        pp[kn.P_MU0] = p["mu0"]
        pp[kn.P_O2Z] = p["o2_zonation"]
        pp[kn.P_MSCD] = p["msc_D"]
        pp[kn.P_VMAX] = p["msc_vmax"]
        pp[kn.P_FBG] = p["F_bg"]
        pp[kn.P_KCYC] = p["k_cycle"]
        pp[kn.P_FCAP] = 0.4
        pp[kn.P_OMEGA:kn.P_OMEGA + 6] = self.omega
        pp[kn.P_L2:kn.P_L2 + 6] = self.L2
        pp[kn.P_B0] = self.b0
        return pp

    def dt_limit(self) -> float:
        """Largest stable cell step (days): explicit MSC transport and clearance keep densities positive."""
        p = self.p
        rate = 4 * p["msc_D"] + 4 * p["msc_vmax"] + self.drivers.params["kc_liver"]
        return FIELD_SAFETY / rate

    def _kernel(self, dt: float, d: dict[str, float], advance: bool = True) -> None:
        st = self.state
        r = self.rules
        if self.sums[kn.S_MSC] > 0 or self._msc_arrived:
            kn.attraction_plane(st.fields, self._att, *r.arrays()[:6])
        kn.tissue_step(st.cell, self._cell_out, st.fields, self._fld_out, st.collagen, self._col_out, self.structure,
                       self.zeta, self.winj, self._att, self.base_rates(d), self.scalars(dt, d), self.sums,
                       self._rowsums, *r.arrays(), self.seed, np.uint64(st.step))
        st.cell, self._cell_out = self._cell_out, st.cell
        st.fields, self._fld_out = self._fld_out, st.fields
        st.collagen, self._col_out = self._col_out, st.collagen
        self.sums = self._rowsums.sum(axis=0)
        if advance:
            st.step += 1
            st.t += dt

    def step(self, dt: float) -> None:
        """One step of `dt` days at the current time (MSC arrivals first, then the fused kernel)."""
        st = self.state
        d = self.drivers.at(st.t + 0.5 * dt)
        arrivals = self.drivers.msc_arrivals(st.t, st.t + dt) if self.drivers.values["Mliver"].any() else 0.0
        self._msc_arrived = arrivals > 0
        if arrivals > 0:
            n_tissue = max(self.sums[kn.S_TISSUE], 1.0)
            kn.add_msc(st.fields, self._arrival_w, arrivals / MSC_UNIT_CELLS * n_tissue)
        self._kernel(dt, d)

    # ------------------------------------------------------------------ running
    def run(self, t_end: float | None = None, *, dt: float | None = 0.25, dt_history: float | None = 2.0,
            snapshot_days: list[float] | tuple = (), record_every_days: float = 7.0, strict: bool = False,
            progress: ProgressCallback | None = None, measure: bool = True) -> TissueResult:
        """Advance to `t_end` (default: end of the drivers), recording measures and snapshots;
        `progress("tissue day D", days done, days)` after each step."""
        from .measures import measure_all, quick_measures

        t_end = self.drivers.t_end if t_end is None else float(t_end)
        limit = self.dt_limit()
        dt = choose_dt(dt, limit, strict=strict, what="tissue step (days)")
        # No MSCs before baseline, so only cell events bound the history step: at 2 days no event of
        # the table (fastest: division completing at ~1/day) has a per-step probability above 2/3.
        dt_history = choose_dt(dt_history, HISTORY_DT_MAX, strict=strict, what="history step (days)")
        snaps_left = sorted(float(s) for s in snapshot_days)
        records: list[dict] = []
        snapshots: list[Snapshot] = []
        next_rec = t_first = self.state.t
        t_wall = time.perf_counter()
        n_steps = 0
        while True:
            st = self.state
            while snaps_left and snaps_left[0] <= st.t + 1e-9:
                snapshots.append(self.snapshot(snaps_left.pop(0)))
            if st.t >= next_rec - 1e-9 or st.t >= t_end - 1e-9:
                rec = {"day": st.t, **quick_measures(self)}
                drv = self.drivers.at(st.t)
                rec.update({"patient_CPA": drv["CPA"], "patient_stage": drv["stage"], "patient_H": drv["H"]})
                records.append(rec)
                next_rec = st.t + record_every_days
            if st.t >= t_end - 1e-9:
                break
            h = dt_history if st.t < 0 else dt
            h = min(h, t_end - st.t, (-st.t if st.t < 0 else math.inf))
            if snaps_left:
                h = min(h, max(snaps_left[0] - st.t, 1e-6))
            self.step(h)
            n_steps += 1
            notify(progress, f"tissue day {self.state.t:,.0f}", self.state.t - t_first, t_end - t_first)
        seconds = time.perf_counter() - t_wall
        final = measure_all(self.geom, self.state, self.p) if measure else {}
        return TissueResult(self, records, snapshots, final, {"run_s": seconds, "steps": n_steps,
                                                               "dt": dt, "dt_history": dt_history})

    def snapshot(self, day: float) -> Snapshot:
        st = self.state
        return Snapshot(day, st.cell.copy(), (st.collagen[0] + st.collagen[1]).astype(np.float32),
                        {n: st.fields[k].copy() for k, n in enumerate(kn.FIELD_NAMES)})


@dataclass
class TissueResult:
    tissue: Tissue
    records: list[dict]
    snapshots: list[Snapshot]
    final: dict
    timings: dict

    def timeseries(self):
        import pandas as pd

        return pd.DataFrame.from_records(self.records)


def _np_hash(seed: np.uint64, idx: np.ndarray) -> np.ndarray:
    """Vectorised splitmix64 of (seed, idx) (same family as the kernel's generator)."""
    m1, m2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
    z = idx * np.uint64(0x9E3779B97F4A7C15) + seed
    z = (z ^ (z >> np.uint64(30))) * m1
    z = (z ^ (z >> np.uint64(27))) * m2
    return (z ^ (z >> np.uint64(31))).astype(np.float64)


def new_tissue(drivers: Drivers, size: int = 256, *, seed: int = 0, params: dict[str, float] | None = None,
               rules: RuleSet | None = None, nx: int | None = None) -> Tissue:
    """Geometry from the tissue parameters, then a Tissue on it."""
    p = param_values(params)
    if size < 16:
        raise ValueError(f"field size {size} must be at least 16 sites")
    geom = build_geometry(size, nx, lobule_radius_um=p["lobule_radius_um"], site_um=p["site_um"],
                          cv_radius_um=p["cv_radius_um"], cv_wall_um=p["cv_wall_um"],
                          portal_radius_um=p["portal_radius_um"], seed=seed)
    return Tissue(geom, drivers, params=params, rules=rules, seed=seed)


__all__ = ["PARENCHYMA", "Snapshot", "Tissue", "TissueResult", "TissueState", "new_tissue"]
