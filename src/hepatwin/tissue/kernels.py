"""The fused tissue step: every field and every cell slot of a site updated in one pass (numba).

Per site the kernel reads the old fields, cell byte and anatomy, and writes new fields and a new
cell byte to separate buffers so the
result does not depend on the order in which rows are visited. Random numbers come from a
counter-based hash of (seed, step, site): the same seed gives bit-identical arrays on any thread count.
Per-row partial sums (collagen budget, means of signals) are returned for the next step and reduced in
a fixed order.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .diffusion import fe_update
from .geometry import CV_WALL, PARENCHYMA, PORTAL_STROMA
from .rules import SIGNALS, B

# field planes
TGFB, CYT, HGF, MMP, O2, MSF, MSC = range(7)
N_FIELDS = 7
N_DIFFUSING = 6
FIELD_NAMES = ("tgfb", "cytokines", "hgf", "mmp", "oxygen", "msc_factors", "msc")

# cell byte: bits 0-1 hepatocyte, 2-3 stellate, 4-5 macrophage, 6 endothelium, 7 stellate niche
HEP_EMPTY, HEP_HEALTHY, HEP_INJURED, HEP_DIVIDING = 0, 1, 2, 3
HSC_NONE, HSC_Q, HSC_A, HSC_I = 0, 1, 2, 3
MAC_NONE, MAC_M1, MAC_M2 = 0, 1, 2

# scalar vector `pp` (per step)
(P_DT, P_INJ, P_AREL, P_DEGR, P_EIM, P_EAF, P_ERG, P_EMC, P_EACD, P_INFL, P_STIM, P_SC, P_CBASAL, P_KDEG, P_KX,
 P_KDX, P_CSAT, P_MU0, P_O2Z, P_MSCD, P_VMAX, P_FBG, P_KCYC, P_FCAP) = range(24)
P_OMEGA = 24          # 6 pseudo-time steps, one per diffusing field
P_L2 = 30             # 6 squared diffusion lengths (sites^2)
P_B0 = 36             # healthy mean basal weight
N_PP = 37

# sums (per row, then reduced): budget and means for the next step
(S_AW, S_BW, S_MUCS, S_CS, S_MUCX, S_CX, S_MSF, S_TISSUE, S_HEP, S_HSCA, S_MSC, S_M1, S_M2, S_PAR, S_W) = range(15)
N_SUMS = 15

N_SIG = len(SIGNALS)
MSC_FLUSH = np.float32(1e-6)
_SIG = {name: k for k, name in enumerate(SIGNALS)}
SG_COLLAGEN, SG_EMPTY = _SIG["collagen"], _SIG["empty_neighbors"]
SG_EIM, SG_EAF, SG_ERG, SG_EMC, SG_EACD = (_SIG[k] for k in ("msc_immunomodulation", "msc_antifibrosis",
                                                               "msc_regeneration", "msc_microcirculation",
                                                               "msc_anti_cell_death"))
SG_INFL, SG_STIM, SG_WINJ = _SIG["inflammation"], _SIG["activation_stimulus"], _SIG["injury_weight"]

(HEP_INJURY, HEP_DEATH, HEP_RECOVERY, HEP_DIVISION, HEP_CYT, HEP_TGF) = (
    B("hepatocyte", b) for b in ("injury", "death", "recovery", "division", "cytokine_secretion", "tgfb_secretion"))
(HSC_ACT, HSC_INACT, HSC_REACT, HSC_APOP, HSC_PROL, HSC_DEP, HSC_TGF, HSC_HGF, HSC_MMP, HSC_REQ, HSC_REPL) = (
    B("stellate", b) for b in ("activation", "inactivation", "reactivation", "apoptosis", "proliferation",
                               "collagen_deposition", "tgfb_secretion", "hgf_secretion", "mmp_secretion",
                               "requiescence", "replenishment"))
(MAC_REC, MAC_TO_M2, MAC_TO_M1, MAC_DEP, MAC_CYT, MAC_TGF, MAC_MMP) = (
    B("macrophage", b) for b in ("recruitment", "m2_polarization", "m1_polarization", "departure",
                                 "cytokine_secretion", "tgfb_secretion", "mmp_secretion"))
END_LOSS, END_REPAIR, END_O2 = (B("endothelium", b) for b in ("loss", "repair", "oxygen_supply"))
MSC_SEC, MSC_CLEAR, MSC_HOME = (B("msc", b) for b in ("factor_secretion", "clearance", "homing"))
N_BEHAVIOURS = MSC_HOME + 1

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_G = np.uint64(0x9E3779B97F4A7C15)
_INV32 = 1.0 / 4294967296.0


@nb.njit(inline="always", cache=True)
def mix64(z):
    """splitmix64 finaliser: a counter-based generator (hash of the counter, no state)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@nb.njit(inline="always", cache=True)
def site_hash(seed, step, site):
    return mix64(seed ^ mix64(step * _G + site))


@nb.njit(inline="always", cache=True)
def _hill_mod(b, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow):
    m = np.float32(1.0)
    for r in range(r_start[b], r_start[b + 1]):
        x = sig[r_sig[r]]
        if x > 0:
            p = r_pow[r]
            if p == 1.0:
                xn = x
            elif p == 2.0:
                xn = x * x
            else:
                xn = x ** p
            h = xn / (r_kpow[r] + xn)
        else:
            h = np.float32(0.0)
        if r_up[r]:
            m *= 1 + (r_fold[r] - 1) * h
        else:
            m *= 1 - (1 - r_fold[r]) * h
    return m


@nb.njit(inline="always", cache=True)
def _p(rate, dt):
    # probability of an event at `rate` within dt (Pade form of 1 - exp(-rate dt): cheap, exact to O(dt^2))
    x = rate * dt
    return x / (1 + x)


@nb.njit(inline="always", cache=True)
def _choose(u, r1, r2, dt):
    # which of two competing events happens within dt (0: none), from one uniform number
    tot = (r1 + r2) * dt
    pt = tot / (1 + tot)
    if u >= pt:
        return 0
    return 1 if u * (r1 + r2) < r1 * pt else 2


@nb.njit(inline="always", cache=True)
def _is_par(s):
    return s == PARENCHYMA


@nb.njit(inline="always", cache=True)
def _is_lumen(s):
    return s >= 1 and s <= 4


@nb.njit(parallel=True, cache=True)
def tissue_step(cell, cell_out, fld, fld_out, col, col_out, structure, zeta, winj, att, base, pp, sums_prev, rowsums,
                r_start, r_sig, r_up, r_fold, r_kpow, r_pow, r_max, seed, step):
    """Advance the tissue by one step of pp[P_DT] days (fields: one relaxation sweep each)."""
    ny = cell.shape[0]
    for i in nb.prange(ny):
        _update_row(i, cell, cell_out, fld, fld_out, col, col_out, structure, zeta, winj, att, base, pp, sums_prev,
                    rowsums, r_start, r_sig, r_up, r_fold, r_kpow, r_pow, r_max, seed, step)


@nb.njit(cache=True)
def _update_row(i, cell, cell_out, fld, fld_out, col, col_out, structure, zeta, winj, att, base, pp, sums_prev,
                rowsums, r_start, r_sig, r_up, r_fold, r_kpow, r_pow, r_max, seed, step):
    ny, nx = cell.shape
    dt = pp[P_DT]
    ntis = max(sums_prev[S_TISSUE], 1.0)
    aw_mean = sums_prev[S_AW] / ntis
    mu_s = sums_prev[S_MUCS] / sums_prev[S_CS] if sums_prev[S_CS] > 0 else 1.0
    mu_x = sums_prev[S_MUCX] / sums_prev[S_CX] if sums_prev[S_CX] > 0 else 1.0
    f_mean = sums_prev[S_MSF] / ntis
    fbg = pp[P_FBG]
    f_norm = np.float32(1.0 / (f_mean + fbg)) if f_mean + fbg > 0 else np.float32(0.0)
    csat = pp[P_CSAT]
    inv_csat = np.float32(1.0 / csat)
    # The patient's synthesis budget, shared out by weight: basal structures (portal tracts, vein walls)
    # by c_basal, myofibroblast sites by A/A_ref. Weights of the previous step normalise, so the mean
    # deposition equals the patient's synthesis whatever the pattern.
    w_mean = sums_prev[S_W] / ntis
    b0 = pp[P_B0]
    wb = np.float32(pp[P_CBASAL] / b0) if b0 > 0 else np.float32(0.0)
    wa = np.float32(pp[P_AREL] / aw_mean) if aw_mean > 0 else np.float32(0.0)
    syn = np.float32(dt * pp[P_SC] * (pp[P_CBASAL] + pp[P_AREL]) / w_mean) if w_mean > 0 else np.float32(0.0)
    deg_s = np.float32(pp[P_KDEG] * pp[P_DEGR] / mu_s)
    deg_x = np.float32(pp[P_KDX] * pp[P_DEGR] / mu_x)
    kx = pp[P_KX]
    o2z = pp[P_O2Z]
    sig = np.zeros(N_SIG, np.float32)
    srow = np.zeros((N_DIFFUSING, nx), np.float32)  # secretion sources of this row
    acc = np.zeros(N_SUMS, np.float64)  # small; stays in L1
    im = i - 1 if i > 0 else 0
    ip = i + 1 if i < ny - 1 else ny - 1
    for j in range(nx):
        jm = j - 1 if j > 0 else 0
        jp = j + 1 if j < nx - 1 else nx - 1
        s = structure[i, j]
        if _is_lumen(s):
            for f in range(N_FIELDS):
                fld_out[f, i, j] = 0.0
            col_out[0, i, j] = 0.0
            col_out[1, i, j] = 0.0
            # blood in portal vessels is the oxygen source; the central vein drains
            fld_out[O2, i, j] = 1.0 if s != 1 else 1.0 - o2z
            cell_out[i, j] = 0
            continue
        c = cell[i, j]
        hep = c & 3
        hsc = (c >> 2) & 3
        hsc_old = hsc
        mac = (c >> 4) & 3
        endo = (c >> 6) & 1
        niche = c & 128
        cn, cs_, cw, ce = cell[im, j], cell[ip, j], cell[i, jm], cell[i, jp]
        sn, ss, sw, se = structure[im, j], structure[ip, j], structure[i, jm], structure[i, jp]
        n_empty = 0
        n_div = 0
        n_act = 0
        n_hsc = 0
        for cc, sc in ((cn, sn), (cs_, ss), (cw, sw), (ce, se)):
            if _is_par(sc):
                h4 = cc & 3
                if h4 == HEP_EMPTY:
                    n_empty += 1
                elif h4 == HEP_DIVIDING:
                    n_div += 1
            g4 = (cc >> 2) & 3
            if g4 == HSC_A:
                n_act += 1
            if g4 != HSC_NONE:
                n_hsc += 1
        cs = col[0, i, j]
        cx = col[1, i, j]
        ctot = cs + cx
        for f in range(N_DIFFUSING):
            sig[f] = fld[f, i, j]
        # scar density around the site: fronts of existing septa attract new matrix
        c_nb = (col[0, im, j] + col[1, im, j] + col[0, ip, j] + col[1, ip, j] + col[0, i, jm] + col[1, i, jm]
                + col[0, i, jp] + col[1, i, jp])
        sig[SG_COLLAGEN] = (np.float32(0.5) * ctot + np.float32(0.125) * c_nb) * inv_csat
        sig[SG_EMPTY] = n_empty * np.float32(0.25)
        fl = (fld[MSF, i, j] + fbg) * f_norm
        sig[SG_EIM] = min(np.float32(1.0), pp[P_EIM] * fl)
        sig[SG_EAF] = min(np.float32(1.0), pp[P_EAF] * fl)
        sig[SG_ERG] = min(np.float32(1.0), pp[P_ERG] * fl)
        sig[SG_EMC] = min(np.float32(1.0), pp[P_EMC] * fl)
        sig[SG_EACD] = min(np.float32(1.0), pp[P_EACD] * fl)
        sig[SG_INFL] = pp[P_INFL]
        sig[SG_STIM] = pp[P_STIM]
        sig[SG_WINJ] = winj[i, j]
        site = np.uint64(i * nx + j)
        h1 = site_hash(seed, step, site)
        h2 = mix64(h1 ^ _G)
        u_hep = np.float32((h1 & np.uint64(0xFFFFFFFF)) * _INV32)
        u_hsc = np.float32((h1 >> np.uint64(32)) * _INV32)
        u_mac = np.float32((h2 & np.uint64(0xFFFFFFFF)) * _INV32)
        u_end = np.float32((h2 >> np.uint64(32)) * _INV32)
        par = _is_par(s)
        satf = max(np.float32(0.0), 1 - ctot * inv_csat)

        # ---- hepatocyte. Rare events are thinned: with u above the largest possible probability
        # (every 'increases' rule saturated) nothing can happen, so the rules need not be evaluated.
        if par:
            if hep == HEP_HEALTHY:
                r1 = base[HEP_INJURY] + pp[P_INJ] * winj[i, j]
                r2 = base[HEP_DIVISION] if n_empty > 0 else np.float32(0.0)
                rm = (r1 * r_max[HEP_INJURY] + r2 * r_max[HEP_DIVISION]) * dt
                if u_hep * (1 + rm) < rm:  # u < rm / (1 + rm) without a division
                    r1 *= _hill_mod(HEP_INJURY, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                    if r2 > 0:
                        r2 *= _hill_mod(HEP_DIVISION, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                    ev = _choose(u_hep, r1, r2, dt)
                    if ev == 1:
                        hep = HEP_INJURED
                    elif ev == 2:
                        hep = HEP_DIVIDING
            elif hep == HEP_INJURED:
                r1 = base[HEP_DEATH] * _hill_mod(HEP_DEATH, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                r2 = base[HEP_RECOVERY] * _hill_mod(HEP_RECOVERY, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                ev = _choose(u_hep, r1, r2, dt)
                if ev == 1:
                    hep = HEP_EMPTY
                elif ev == 2:
                    hep = HEP_HEALTHY
                else:
                    srow[CYT, j] += base[HEP_CYT] * _hill_mod(HEP_CYT, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                    srow[TGFB, j] += base[HEP_TGF] * _hill_mod(HEP_TGF, sig, r_start, r_sig, r_up, r_fold, r_kpow,
                                                           r_pow)
            elif hep == HEP_DIVIDING:
                if u_hep < _p(pp[P_KCYC], dt):
                    hep = HEP_HEALTHY
            elif n_div > 0 and u_hep < _p(pp[P_KCYC] * n_div * np.float32(0.5), dt) * satf:
                # a dividing neighbour's daughter fills the gap unless scar has taken it
                hep = HEP_HEALTHY

        # ---- stellate cells (parenchyma only)
        if par:
            if hsc == HSC_NONE:
                r1 = base[HSC_PROL] * n_act * np.float32(0.25) if n_hsc < 2 else np.float32(0.0)
                r2 = base[HSC_REPL] if niche else np.float32(0.0)
                rm = (r1 * r_max[HSC_PROL] + r2 * r_max[HSC_REPL]) * dt
                if u_hsc * (1 + rm) < rm:  # u < rm / (1 + rm) without a division
                    if r1 > 0:
                        r1 *= _hill_mod(HSC_PROL, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                    if r2 > 0:
                        r2 *= _hill_mod(HSC_REPL, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                    ev = _choose(u_hsc, r1, r2, dt)
                    if ev == 1:
                        hsc = HSC_A
                    elif ev == 2:
                        hsc = HSC_Q
            elif hsc == HSC_Q:
                rm = base[HSC_ACT] * r_max[HSC_ACT] * dt
                if u_hsc * (1 + rm) < rm:  # u < rm / (1 + rm) without a division
                    r1 = base[HSC_ACT] * _hill_mod(HSC_ACT, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                    if _choose(u_hsc, r1, np.float32(0.0), dt) == 1:
                        hsc = HSC_A
                srow[HGF, j] += base[HSC_HGF] * _hill_mod(HSC_HGF, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
            elif hsc == HSC_A:
                r1 = base[HSC_INACT]
                r2 = base[HSC_APOP]
                rm = (r1 * r_max[HSC_INACT] + r2 * r_max[HSC_APOP]) * dt
                if u_hsc * (1 + rm) < rm:  # u < rm / (1 + rm) without a division
                    r1 *= _hill_mod(HSC_INACT, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                    r2 *= _hill_mod(HSC_APOP, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                    ev = _choose(u_hsc, r1, r2, dt)
                    if ev == 1:
                        hsc = HSC_I
                    elif ev == 2:
                        hsc = HSC_NONE
                srow[TGFB, j] += base[HSC_TGF] * _hill_mod(HSC_TGF, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                srow[MMP, j] += base[HSC_MMP] * _hill_mod(HSC_MMP, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
            else:
                r1 = base[HSC_REACT]
                r2 = base[HSC_REQ]
                rm = (r1 * r_max[HSC_REACT] + r2 * r_max[HSC_REQ]) * dt
                if u_hsc * (1 + rm) < rm:  # u < rm / (1 + rm) without a division
                    r1 *= _hill_mod(HSC_REACT, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                    r2 *= _hill_mod(HSC_REQ, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                    ev = _choose(u_hsc, r1, r2, dt)
                    if ev == 1:
                        hsc = HSC_A
                    elif ev == 2:
                        hsc = HSC_Q
                srow[HGF, j] += base[HSC_HGF] * _hill_mod(HSC_HGF, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)

        # ---- macrophages (all tissue sites)
        if mac == MAC_NONE:
            rm = base[MAC_REC] * r_max[MAC_REC] * dt
            if u_mac * (1 + rm) < rm:  # u < rm / (1 + rm) without a division
                r1 = base[MAC_REC] * _hill_mod(MAC_REC, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                if _choose(u_mac, r1, np.float32(0.0), dt) == 1:
                    mac = MAC_M1
        else:
            bpol = MAC_TO_M2 if mac == MAC_M1 else MAC_TO_M1
            r1 = base[bpol]
            r2 = base[MAC_DEP]
            rm = (r1 * r_max[bpol] + r2 * r_max[MAC_DEP]) * dt
            if mac == MAC_M1:
                srow[CYT, j] += base[MAC_CYT] * _hill_mod(MAC_CYT, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
            else:
                srow[MMP, j] += base[MAC_MMP] * _hill_mod(MAC_MMP, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
            srow[TGFB, j] += base[MAC_TGF] * _hill_mod(MAC_TGF, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
            if u_mac * (1 + rm) < rm:  # u < rm / (1 + rm) without a division
                r1 *= _hill_mod(bpol, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                r2 *= _hill_mod(MAC_DEP, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                ev = _choose(u_mac, r1, r2, dt)
                if ev == 1:
                    mac = MAC_M2 if mac == MAC_M1 else MAC_M1
                elif ev == 2:
                    mac = MAC_NONE

        # ---- sinusoidal endothelium and oxygen supply
        if par:
            be = END_LOSS if endo == 1 else END_REPAIR
            rm = base[be] * r_max[be] * dt
            if u_end * (1 + rm) < rm:  # u < rm / (1 + rm) without a division
                r1 = base[be] * _hill_mod(be, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
                if _choose(u_end, r1, np.float32(0.0), dt) == 1:
                    endo = 1 - endo
            o = base[END_O2] * _hill_mod(END_O2, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
            srow[O2, j] = o * (1 - o2z * zeta[i, j]) * (np.float32(1.0) if endo == 1 else pp[P_FCAP])
        elif s == PORTAL_STROMA:
            srow[O2, j] = 1.0
        else:
            srow[O2, j] = 1.0 - o2z

        # ---- MSCs: random motility, homing up the attraction gradient, clearance, factor release
        m = fld[MSC, i, j]
        mn, ms, mw, me = fld[MSC, im, j], fld[MSC, ip, j], fld[MSC, i, jm], fld[MSC, i, jp]
        if m > 0 or mn > 0 or ms > 0 or mw > 0 or me > 0:
            ac = att[i, j]
            chi = base[MSC_HOME]
            vmax = pp[P_VMAX]
            d_m = pp[P_MSCD]
            flux = _msc_flux(att, structure, im, j, mn, m, ac, chi, vmax, d_m)
            flux += _msc_flux(att, structure, ip, j, ms, m, ac, chi, vmax, d_m)
            flux += _msc_flux(att, structure, i, jm, mw, m, ac, chi, vmax, d_m)
            flux += _msc_flux(att, structure, i, jp, me, m, ac, chi, vmax, d_m)
            kc = base[MSC_CLEAR] * _hill_mod(MSC_CLEAR, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
            m_new = m + dt * (flux - kc * m)
            fld_out[MSC, i, j] = max(np.float32(0.0), m_new)
            srow[MSF, j] = m * base[MSC_SEC] * _hill_mod(MSC_SEC, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
        else:
            fld_out[MSC, i, j] = 0.0

        # ---- collagen: patient budget, shared out where myofibroblasts are and where MMPs act
        basal = (s == PORTAL_STROMA) | (s == CV_WALL)
        aw = np.float32(0.0)
        if par:
            a_local = n_act + (2 if hsc_old == HSC_A else 0)
            if a_local > 0:
                aw = a_local * satf * _hill_mod(HSC_DEP, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
        w = wa * aw + (wb * satf if basal else np.float32(0.0))
        dep = syn * w
        mu = fld[MMP, i, j] + pp[P_MU0]
        cs_new = cs + dep - dt * (deg_s * mu + kx) * cs
        cx_new = cx + dt * (kx * cs - deg_x * mu * cx)
        # dense scar cannot take more: the cap guards against overshoot of the explicit update
        cap = np.float32(1.5) * csat
        if cs_new + cx_new > cap:
            f_cap = cap / (cs_new + cx_new)
            cs_new *= f_cap
            cx_new *= f_cap
        col_out[0, i, j] = cs_new
        col_out[1, i, j] = cx_new

        cell_out[i, j] = hep | (hsc << 2) | (mac << 4) | (endo << 6) | niche
        acc[S_AW] += aw
        acc[S_BW] += satf if basal else 0.0
        acc[S_W] += w
        acc[S_MUCS] += mu * cs_new
        acc[S_CS] += cs_new
        acc[S_MUCX] += mu * cx_new
        acc[S_CX] += cx_new
        acc[S_TISSUE] += 1.0
        acc[S_HEP] += 1.0 if (par and hep != HEP_EMPTY) else 0.0
        acc[S_PAR] += 1.0 if par else 0.0
        acc[S_HSCA] += 1.0 if hsc == HSC_A else 0.0
        acc[S_MSC] += fld_out[MSC, i, j]
        acc[S_M1] += 1.0 if mac == MAC_M1 else 0.0
        acc[S_M2] += 1.0 if mac == MAC_M2 else 0.0
    # ---- signals: one relaxation sweep toward the quasi-steady profile (contiguous rows: SIMD)
    for f in range(N_DIFFUSING):
        _relax_row(fld[f, i], fld[f, im], fld[f, ip], srow[f], fld_out[f, i], pp[P_L2 + f], pp[P_OMEGA + f])
    msf = 0.0
    for j in range(nx):
        s = structure[i, j]
        if _is_lumen(s):
            for f in range(N_DIFFUSING):
                fld_out[f, i, j] = 0.0
            # blood in portal vessels is the oxygen source; the central vein drains
            fld_out[O2, i, j] = 1.0 if s != 1 else 1.0 - o2z
        else:
            msf += fld_out[MSF, i, j]
    acc[S_MSF] = msf
    for k in range(N_SUMS):
        rowsums[i, k] = acc[k]




@nb.njit(inline="always", cache=True)
def _relax_row(c, n, so, src, out, l2, om):
    # fe_update along a row with lam = 1; clamped (zero-flux) ends handled outside the vector loop
    nx = c.shape[0]
    out[0] = fe_update(c[0], n[0], so[0], c[0], c[1], l2, np.float32(1.0), src[0], om)
    for j in range(1, nx - 1):
        out[j] = c[j] + om * (l2 * (n[j] + so[j] + c[j - 1] + c[j + 1] - 4.0 * c[j]) - np.float32(1.0) * c[j]
                              + src[j])
    out[nx - 1] = fe_update(c[nx - 1], n[nx - 1], so[nx - 1], c[nx - 2], c[nx - 1], l2, np.float32(1.0),
                            src[nx - 1], om)


@nb.njit(cache=True)
def _attraction(fld, i, j, r_start, r_sig, r_up, r_fold, r_kpow, r_pow):
    # homing attraction from the field signals at (i, j); rules on non-field signals are refused at load
    m = np.float32(1.0)
    for r in range(r_start[MSC_HOME], r_start[MSC_HOME + 1]):
        x = fld[r_sig[r], i, j]
        if x > 0:
            p = r_pow[r]
            xn = x if p == 1.0 else (x * x if p == 2.0 else x ** p)
            h = xn / (r_kpow[r] + xn)
        else:
            h = np.float32(0.0)
        m *= (1 + (r_fold[r] - 1) * h) if r_up[r] else (1 - (1 - r_fold[r]) * h)
    return m


@nb.njit(cache=True)
def _msc_flux(att, structure, ii, jj, mk, m, ac, chi, vmax, d_m):
    # net MSC flow into the site from neighbour (ii, jj): random motility plus upwind chemotaxis
    if _is_lumen(structure[ii, jj]):
        return np.float32(0.0)
    v = chi * (att[ii, jj] - ac)
    v = min(vmax, max(-vmax, v))
    adv = (-v * mk) if v < 0 else (-v * m)
    return adv + d_m * (mk - m)


@nb.njit(parallel=True, cache=True)
def attraction_plane(fld, att, r_start, r_sig, r_up, r_fold, r_kpow, r_pow):
    """MSC homing attraction of every site from the current fields (computed once per step, when MSCs exist)."""
    ny, nx = att.shape
    for i in nb.prange(ny):
        for j in range(nx):
            att[i, j] = _attraction(fld, i, j, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)


@nb.njit(parallel=True, cache=True)
def add_msc(fld, weight, amount):
    """Deposit `amount` x weight MSCs (weights sum to 1) into the MSC plane."""
    ny, nx = weight.shape
    for i in nb.prange(ny):
        for j in range(nx):
            fld[MSC, i, j] += np.float32(amount * weight[i, j])
