"""A straightforward NumPy implementation of the fused tissue step (whole-array operations).

Same rules, same counter-based random numbers, same result as `kernels.tissue_step` up to float
rounding; it exists as the speed reference of bench/tissue.py and as an independent check of the
kernel in the tests. Written as whole-array operations without any of the kernel's row blocking.
"""

from __future__ import annotations

import numpy as np

from . import kernels as kn
from .geometry import CV_LUMEN, CV_WALL, PARENCHYMA, PORTAL_STROMA

_F = np.float32


def _hash(seed: np.uint64, step: np.uint64, site: np.ndarray) -> np.ndarray:
    def mix(z):
        z = (z ^ (z >> np.uint64(30))) * kn._M1
        z = (z ^ (z >> np.uint64(27))) * kn._M2
        return z ^ (z >> np.uint64(31))

    with np.errstate(over="ignore"):
        return mix(seed ^ mix(step * kn._G + site))


def _mod(b, sig, r_start, r_sig, r_up, r_fold, r_kpow, r_pow, shape):
    m = np.ones(shape, _F)
    for r in range(r_start[b], r_start[b + 1]):
        x = sig[r_sig[r]]
        x = np.broadcast_to(np.asarray(x, _F), shape)
        p = r_pow[r]
        xn = x if p == 1.0 else (x * x if p == 2.0 else x ** p)
        h = np.where(x > 0, xn / (r_kpow[r] + xn), _F(0)).astype(_F)
        m = m * ((1 + (r_fold[r] - 1) * h) if r_up[r] else (1 - (1 - r_fold[r]) * h))
    return m.astype(_F)


def _choose(u, r1, r2, dt):
    tot = (r1 + r2) * dt
    pt = tot / (1 + tot)
    with np.errstate(invalid="ignore", divide="ignore"):
        first = u * (r1 + r2) < r1 * pt
    return np.where(u >= pt, 0, np.where(first, 1, 2))


def _compete(new, where, u, r1, r2, dt, to1, to2):
    """Competing events at the sites `where`: rate r1 leads to state to1, r2 to to2; returns the event codes."""
    ev = _choose(u, r1, r2, dt)
    new[where & (ev == 1)] = to1
    new[where & (ev == 2)] = to2
    return ev


def numpy_step(cell, cell_out, fld, fld_out, col, col_out, structure, zeta, winj, att, base, pp, sums_prev, rowsums,
               r_start, r_sig, r_up, r_fold, r_kpow, r_pow, r_max, seed, step):
    """Same arguments and outputs as `kernels.tissue_step` (r_max and the attraction plane `att` unused:
    attraction is recomputed here)."""
    ny, nx = cell.shape
    shape = (ny, nx)
    dt = pp[kn.P_DT]
    ntis = max(sums_prev[kn.S_TISSUE], 1.0)
    aw_mean = sums_prev[kn.S_AW] / ntis
    mu_s = sums_prev[kn.S_MUCS] / sums_prev[kn.S_CS] if sums_prev[kn.S_CS] > 0 else 1.0
    mu_x = sums_prev[kn.S_MUCX] / sums_prev[kn.S_CX] if sums_prev[kn.S_CX] > 0 else 1.0
    f_mean = sums_prev[kn.S_MSF] / ntis
    fbg = pp[kn.P_FBG]
    f_norm = _F(1.0 / (f_mean + fbg)) if f_mean + fbg > 0 else _F(0.0)
    csat = pp[kn.P_CSAT]
    inv_csat = _F(1.0 / csat)
    w_mean = sums_prev[kn.S_W] / ntis
    b0 = pp[kn.P_B0]
    wb = _F(pp[kn.P_CBASAL] / b0) if b0 > 0 else _F(0.0)
    wa = _F(pp[kn.P_AREL] / aw_mean) if aw_mean > 0 else _F(0.0)
    syn = _F(dt * pp[kn.P_SC] * (pp[kn.P_CBASAL] + pp[kn.P_AREL]) / w_mean) if w_mean > 0 else _F(0.0)
    deg_s = _F(pp[kn.P_KDEG] * pp[kn.P_DEGR] / mu_s)
    deg_x = _F(pp[kn.P_KDX] * pp[kn.P_DEGR] / mu_x)
    o2z = pp[kn.P_O2Z]

    def nb(a):
        """North, south, west, east neighbours with zero-flux (clamped) edges."""
        p = np.pad(a, [(0, 0)] * (a.ndim - 2) + [(1, 1), (1, 1)], mode="edge")
        return p[..., :-2, 1:-1], p[..., 2:, 1:-1], p[..., 1:-1, :-2], p[..., 1:-1, 2:]

    s = structure
    lumen = (s >= 1) & (s <= 4)
    par = s == PARENCHYMA
    c = cell
    hep, hsc, mac, endo, niche = c & 3, (c >> 2) & 3, (c >> 4) & 3, (c >> 6) & 1, c & 128
    n_empty = np.zeros(shape, np.int64)
    n_div = np.zeros(shape, np.int64)
    n_act = np.zeros(shape, np.int64)
    n_hsc = np.zeros(shape, np.int64)
    for cc, sc in zip(nb(c), nb(s), strict=True):
        p4 = sc == PARENCHYMA
        n_empty += p4 & ((cc & 3) == kn.HEP_EMPTY)
        n_div += p4 & ((cc & 3) == kn.HEP_DIVIDING)
        g4 = (cc >> 2) & 3
        n_act += g4 == kn.HSC_A
        n_hsc += g4 != kn.HSC_NONE
    cs, cx = col[0], col[1]
    ctot = cs + cx
    c_nb = sum(a + b for a, b in zip(nb(cs), nb(cx), strict=True))
    sig = [None] * kn.N_SIG
    for f in range(kn.N_DIFFUSING):
        sig[f] = fld[f]
    sig[kn.SG_COLLAGEN] = ((_F(0.5) * ctot + _F(0.125) * c_nb) * inv_csat).astype(_F)
    sig[kn.SG_EMPTY] = (n_empty * _F(0.25)).astype(_F)
    fl = ((fld[kn.MSF] + fbg) * f_norm).astype(_F)
    for k, key in ((kn.SG_EIM, kn.P_EIM), (kn.SG_EAF, kn.P_EAF), (kn.SG_ERG, kn.P_ERG), (kn.SG_EMC, kn.P_EMC),
                   (kn.SG_EACD, kn.P_EACD)):
        sig[k] = np.minimum(_F(1.0), pp[key] * fl).astype(_F)
    sig[kn.SG_INFL] = pp[kn.P_INFL]
    sig[kn.SG_STIM] = pp[kn.P_STIM]
    sig[kn.SG_WINJ] = winj
    rules = (r_start, r_sig, r_up, r_fold, r_kpow, r_pow, shape)

    def mod(b):
        return _mod(b, sig, *rules)

    site = np.arange(ny * nx, dtype=np.uint64).reshape(shape)
    h1 = _hash(np.uint64(seed), np.uint64(step), site)
    with np.errstate(over="ignore"):
        h2 = _hash(np.uint64(0), np.uint64(0), np.uint64(0)) * 0 + _mix(h1 ^ kn._G)
    mask32 = np.uint64(0xFFFFFFFF)
    u_hep = ((h1 & mask32) * kn._INV32).astype(_F)
    u_hsc = ((h1 >> np.uint64(32)) * kn._INV32).astype(_F)
    u_mac = ((h2 & mask32) * kn._INV32).astype(_F)
    u_end = ((h2 >> np.uint64(32)) * kn._INV32).astype(_F)
    satf = np.maximum(_F(0.0), 1 - ctot * inv_csat).astype(_F)
    src = np.zeros((kn.N_DIFFUSING, ny, nx), _F)

    # hepatocytes
    new_hep = hep.copy()
    r1 = ((base[kn.HEP_INJURY] + pp[kn.P_INJ] * winj) * mod(kn.HEP_INJURY)).astype(_F)
    r2 = np.where(n_empty > 0, base[kn.HEP_DIVISION] * mod(kn.HEP_DIVISION), _F(0)).astype(_F)
    _compete(new_hep, par & (hep == kn.HEP_HEALTHY), u_hep, r1, r2, dt, kn.HEP_INJURED, kn.HEP_DIVIDING)
    r1 = (base[kn.HEP_DEATH] * mod(kn.HEP_DEATH)).astype(_F)
    r2 = (base[kn.HEP_RECOVERY] * mod(kn.HEP_RECOVERY)).astype(_F)
    m = par & (hep == kn.HEP_INJURED)
    ev = _compete(new_hep, m, u_hep, r1, r2, dt, kn.HEP_EMPTY, kn.HEP_HEALTHY)
    stay = m & (ev == 0)
    src[kn.CYT] += np.where(stay, base[kn.HEP_CYT] * mod(kn.HEP_CYT), 0)
    src[kn.TGFB] += np.where(stay, base[kn.HEP_TGF] * mod(kn.HEP_TGF), 0)
    pk = dt * pp[kn.P_KCYC] / (1 + dt * pp[kn.P_KCYC])
    new_hep[par & (hep == kn.HEP_DIVIDING) & (u_hep < pk)] = kn.HEP_HEALTHY
    x = (pp[kn.P_KCYC] * n_div * _F(0.5) * dt).astype(_F)
    fill = par & (hep == kn.HEP_EMPTY) & (n_div > 0) & (u_hep < x / (1 + x) * satf)
    new_hep[fill] = kn.HEP_HEALTHY

    # stellate cells
    new_hsc = hsc.copy()
    r1 = np.where((n_act > 0) & (n_hsc < 2), base[kn.HSC_PROL] * n_act * _F(0.25) * mod(kn.HSC_PROL), 0).astype(_F)
    r2 = np.where(niche > 0, base[kn.HSC_REPL] * mod(kn.HSC_REPL), 0).astype(_F)
    _compete(new_hsc, par & (hsc == kn.HSC_NONE), u_hsc, r1, r2, dt, kn.HSC_A, kn.HSC_Q)
    r1 = (base[kn.HSC_ACT] * mod(kn.HSC_ACT)).astype(_F)
    m = par & (hsc == kn.HSC_Q)
    new_hsc[m & (_choose(u_hsc, r1, _F(0), dt) == 1)] = kn.HSC_A
    quiet = par & ((hsc == kn.HSC_Q) | (hsc == kn.HSC_I))
    src[kn.HGF] += np.where(quiet, base[kn.HSC_HGF] * mod(kn.HSC_HGF), 0)
    r1 = (base[kn.HSC_INACT] * mod(kn.HSC_INACT)).astype(_F)
    r2 = (base[kn.HSC_APOP] * mod(kn.HSC_APOP)).astype(_F)
    m = par & (hsc == kn.HSC_A)
    _compete(new_hsc, m, u_hsc, r1, r2, dt, kn.HSC_I, kn.HSC_NONE)
    src[kn.TGFB] += np.where(m, base[kn.HSC_TGF] * mod(kn.HSC_TGF), 0)
    src[kn.MMP] += np.where(m, base[kn.HSC_MMP] * mod(kn.HSC_MMP), 0)
    r1 = (base[kn.HSC_REACT] * mod(kn.HSC_REACT)).astype(_F)
    r2 = (base[kn.HSC_REQ] * mod(kn.HSC_REQ)).astype(_F)
    _compete(new_hsc, par & (hsc == kn.HSC_I), u_hsc, r1, r2, dt, kn.HSC_A, kn.HSC_Q)

    # macrophages
    tissue = ~lumen
    new_mac = mac.copy()
    r1 = (base[kn.MAC_REC] * mod(kn.MAC_REC)).astype(_F)
    m = tissue & (mac == kn.MAC_NONE)
    new_mac[m & (_choose(u_mac, r1, _F(0), dt) == 1)] = kn.MAC_M1
    m1 = tissue & (mac == kn.MAC_M1)
    m2 = tissue & (mac == kn.MAC_M2)
    src[kn.CYT] += np.where(m1, base[kn.MAC_CYT] * mod(kn.MAC_CYT), 0)
    src[kn.MMP] += np.where(m2, base[kn.MAC_MMP] * mod(kn.MAC_MMP), 0)
    src[kn.TGFB] += np.where(m1 | m2, base[kn.MAC_TGF] * mod(kn.MAC_TGF), 0)
    rdep = (base[kn.MAC_DEP] * mod(kn.MAC_DEP)).astype(_F)
    for mm, bpol, to in ((m1, kn.MAC_TO_M2, kn.MAC_M2), (m2, kn.MAC_TO_M1, kn.MAC_M1)):
        _compete(new_mac, mm, u_mac, (base[bpol] * mod(bpol)).astype(_F), rdep, dt, to, kn.MAC_NONE)

    # endothelium and oxygen supply
    new_endo = endo.copy()
    for state, b in ((1, kn.END_LOSS), (0, kn.END_REPAIR)):
        r1 = (base[b] * mod(b)).astype(_F)
        flip = par & (endo == state) & (_choose(u_end, r1, _F(0), dt) == 1)
        new_endo[flip] = 1 - state
    o = base[kn.END_O2] * mod(kn.END_O2)
    src[kn.O2] = np.where(par, o * (1 - o2z * zeta) * np.where(new_endo == 1, _F(1), pp[kn.P_FCAP]),
                          np.where(s == PORTAL_STROMA, _F(1), _F(1 - o2z)))

    # MSCs
    msc = fld[kn.MSC]

    def attraction(f):
        sig_f = list(sig)
        for k in range(kn.N_DIFFUSING):
            sig_f[k] = f[k]
        return _mod(kn.MSC_HOME, sig_f, *rules)

    ac = attraction(fld)
    flux = np.zeros(shape, _F)
    for fk, mk, sk in zip(zip(*[nb(fld[k]) for k in range(kn.N_DIFFUSING)], strict=True), nb(msc), nb(s),
                          strict=True):
        v = base[kn.MSC_HOME] * (attraction(np.stack(fk)) - ac)
        v = np.clip(v, -pp[kn.P_VMAX], pp[kn.P_VMAX])
        adv = np.where(v < 0, -v * mk, -v * msc)
        ok = ~((sk >= 1) & (sk <= 4))
        flux += np.where(ok, adv + pp[kn.P_MSCD] * (mk - msc), 0)
    kc = base[kn.MSC_CLEAR] * mod(kn.MSC_CLEAR)
    m_new = msc + dt * (flux - kc * msc)
    m_new = np.where(m_new > kn.MSC_FLUSH, m_new, _F(0))
    src[kn.MSF] = msc * base[kn.MSC_SEC] * mod(kn.MSC_SEC)

    # signals: one relaxation sweep
    n_, s_, w_, e_ = nb(fld[: kn.N_DIFFUSING])
    lap = n_ + s_ + w_ + e_ - 4 * fld[: kn.N_DIFFUSING]
    om = pp[kn.P_OMEGA:kn.P_OMEGA + kn.N_DIFFUSING, None, None]
    l2 = pp[kn.P_L2:kn.P_L2 + kn.N_DIFFUSING, None, None]
    fld_out[: kn.N_DIFFUSING] = fld[: kn.N_DIFFUSING] + om * (l2 * lap - fld[: kn.N_DIFFUSING] + src)
    fld_out[kn.MSC] = m_new

    # collagen
    basal = (s == PORTAL_STROMA) | (s == CV_WALL)
    a_local = n_act + np.where(hsc == kn.HSC_A, 2, 0)
    aw = np.where(par & (a_local > 0), a_local * satf * mod(kn.HSC_DEP), 0).astype(_F)
    w = (wa * aw + np.where(basal, wb * satf, 0)).astype(_F)
    dep = syn * w
    mu = fld[kn.MMP] + pp[kn.P_MU0]
    cs_new = cs + dep - dt * (deg_s * mu + pp[kn.P_KX]) * cs
    cx_new = cx + dt * (pp[kn.P_KX] * cs - deg_x * mu * cx)
    cap = _F(1.5) * csat
    tot = cs_new + cx_new
    f_cap = np.where(tot > cap, cap / np.maximum(tot, 1e-30), 1)
    col_out[0] = cs_new * f_cap
    col_out[1] = cx_new * f_cap

    new = new_hep | (new_hsc << 2) | (new_mac << 4) | (new_endo << 6) | niche
    cell_out[...] = np.where(lumen, 0, new)
    for k in range(kn.N_FIELDS):
        fld_out[k][lumen] = 0
    fld_out[kn.O2][lumen] = np.where(s[lumen] != CV_LUMEN, _F(1), _F(1 - o2z))
    col_out[:, lumen] = 0
    t = tissue
    acc = {
        kn.S_AW: aw, kn.S_BW: np.where(basal, satf, 0), kn.S_MUCS: mu * col_out[0], kn.S_CS: col_out[0],
        kn.S_MUCX: mu * col_out[1], kn.S_CX: col_out[1], kn.S_MSF: fld_out[kn.MSF], kn.S_TISSUE: np.ones(shape),
        kn.S_HEP: par & (new_hep != kn.HEP_EMPTY), kn.S_PAR: par, kn.S_HSCA: new_hsc == kn.HSC_A,
        kn.S_MSC: fld_out[kn.MSC], kn.S_M1: new_mac == kn.MAC_M1, kn.S_M2: new_mac == kn.MAC_M2, kn.S_W: w,
    }
    rowsums[...] = 0
    for k, a in acc.items():
        rowsums[:, k] = np.where(t, a, 0).sum(axis=1, dtype=np.float64)


def _mix(z):
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * kn._M1
        z = (z ^ (z >> np.uint64(27))) * kn._M2
        return z ^ (z >> np.uint64(31))
