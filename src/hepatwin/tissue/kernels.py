"""The fused tissue step: every field and every cell slot of a row updated in one pass over memory (numba).

A row goes through phases, each a short loop over the row's sites that the compiler can vectorise:
neighbour counts and signals, uniforms, the distinct Hill terms and the modifier of every behaviour,
then the cell rules of each cell type branch-free (every rule evaluated at every site, results
selected by state), MSC transport (only on rows with MSCs nearby), collagen, new cell bytes, the field
sweeps and row sums. Rules on a signal that is zero at every site this step (an MSC mechanism before
the first infusion) are skipped: their factor is exactly 1, so the result is the same. The phases work on
scratch rows that stay in cache; the big arrays are read and written once per step. Old and new
states live in separate buffers, so the result does not depend on the order in which rows are visited.
Random numbers come from a counter-based hash of (seed, step, site): the same seed gives bit-identical
arrays on any thread count. Per-row partial sums (collagen budget, means of signals) are returned for
the next step and reduced in a fixed order. Functions use numba's NumPy error model: a division by
zero would give inf rather than raise, which lets divisions vectorise (every divisor here is positive).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .geometry import BILE_DUCT, CV_LUMEN, CV_WALL, PARENCHYMA, PORTAL_STROMA
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
# the MSC behaviours come last; they are evaluated per site where MSCs are, all others for whole rows
N_ROW_BEHAVIOURS = min(MSC_SEC, MSC_CLEAR, MSC_HOME)
assert {MSC_SEC, MSC_CLEAR, MSC_HOME} == set(range(N_ROW_BEHAVIOURS, N_BEHAVIOURS))

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


_F0 = np.float32(0.0)
_F1 = np.float32(1.0)
_FQ = np.float32(0.25)
_FH = np.float32(0.5)
_F4 = np.float32(4.0)
ROWS_PER_BLOCK = 8
# rows of the per-block work array (float32, one row per site of the image row)
(W_U_HEP, W_U_HSC, W_U_MAC, W_U_END, W_SATF, W_AW, W_W, W_MU, W_KC, W_SEC, W_H) = range(11)
N_WORK = 11
# rows of the per-block count/state array (int32)
(C_EMPTY, C_DIV, C_ACT, C_HSC, C_HEP, C_HSC_NEW, C_MAC, C_ENDO) = range(8)
N_COUNT = 8


@nb.njit(inline="always", cache=True)
def _lumen(s):
    # vessel lumina (central vein, portal vein, hepatic artery, bile duct: consecutive structure codes)
    return (s >= CV_LUMEN) & (s <= BILE_DUCT)


@nb.njit(inline="always", cache=True, error_model="numpy")
def _choose(u, r1, r2, dt):
    # which of two competing events happens within dt (0: none), from one uniform number; Pade form of
    # 1 - exp(-rate dt) (cheap, exact to O(dt^2)); branch-free so that loops over sites vectorise
    r = r1 + r2
    tot = r * dt
    pt = tot / (_F1 + tot)
    return np.int32(0) if u >= pt else (np.int32(1) if u * r < r1 * pt else np.int32(2))


@nb.njit(parallel=True, cache=True, error_model="numpy")
def tissue_step(cell, cell_out, fld, fld_out, col, col_out, structure, zeta, winj, att, base, pp, sums_prev, rowsums,
                r_start, r_sig, r_up, r_fold, r_kpow, r_pow, r_max, seed, step):
    """Advance the tissue by one step of pp[P_DT] days (fields: one relaxation sweep each).

    `r_max` (the largest modifier of each behaviour) is not needed by this branch-free kernel; it stays in
    the signature shared with the NumPy reference and the rule set's `arrays()`.

    Rows are processed in blocks, each with its own scratch rows; every output site is a pure function of
    the inputs, so the result does not depend on the blocking or the thread count."""
    ny, nx = cell.shape
    term, t_sig, t_k, t_p, n_terms = _hill_terms(r_start, r_sig, r_kpow, r_pow)
    t_on, a_start, a_rule = _active_rules(pp, r_start, term, t_sig, n_terms)
    nblk = (ny + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    for b in nb.prange(nblk):
        sg = np.empty((N_SIG, nx), np.float32)
        # the patient-model drivers are the same at every site of this step
        sg[SG_INFL] = pp[P_INFL]
        sg[SG_STIM] = pp[P_STIM]
        # an MSC mechanism whose patient-level effect is 0 has a local signal of exactly 0: set once here,
        # the rows below skip it (before the first infusion and in every control arm)
        for s, k in ((SG_EIM, P_EIM), (SG_EAF, P_EAF), (SG_ERG, P_ERG), (SG_EMC, P_EMC), (SG_EACD, P_EACD)):
            if pp[k] == 0:
                sg[s] = _F0
        hr = np.empty((max(n_terms, 1), nx), np.float32)
        # behaviours without active rules this step keep modifier 1; the others are overwritten row by row
        md = np.ones((N_ROW_BEHAVIOURS, nx), np.float32)
        wk = np.empty((N_WORK, nx), np.float32)
        cnt = np.empty((N_COUNT, nx), np.int32)
        srow = np.empty((N_DIFFUSING, nx), np.float32)
        for i in range(b * ROWS_PER_BLOCK, min(ny, (b + 1) * ROWS_PER_BLOCK)):
            _update_row(i, cell, cell_out, fld, fld_out, col, col_out, structure, zeta, winj, att, base, pp,
                        sums_prev, rowsums, r_start, r_sig, r_up, r_fold, r_kpow, r_pow, seed, step,
                        sg, md, wk, cnt, srow, hr, term, t_sig, t_k, t_p, n_terms, t_on, a_start, a_rule)


@nb.njit(inline="always", cache=True)
def _neighbour(c, s):
    # (empty hepatocyte slot, dividing hepatocyte, activated HSC, any HSC) of one neighbour, as 0/1
    p = np.int32(s == PARENCHYMA)
    h = np.int32(c & 3)
    g = np.int32((c >> 2) & 3)
    return p * np.int32(h == HEP_EMPTY), p * np.int32(h == HEP_DIVIDING), np.int32(g == HSC_A), np.int32(g != 0)


@nb.njit(inline="always", cache=True)
def _count_site(cnt, j, cn, sn, cs, ss, cw, sw, ce, se):
    e1, d1, a1, h1 = _neighbour(cn, sn)
    e2, d2, a2, h2 = _neighbour(cs, ss)
    e3, d3, a3, h3 = _neighbour(cw, sw)
    e4, d4, a4, h4 = _neighbour(ce, se)
    cnt[C_EMPTY, j] = e1 + e2 + e3 + e4
    cnt[C_DIV, j] = d1 + d2 + d3 + d4
    cnt[C_ACT, j] = a1 + a2 + a3 + a4
    cnt[C_HSC, j] = h1 + h2 + h3 + h4


@nb.njit(cache=True, error_model="numpy")
def _count_row(cm, c0, cp, sm, s0, sp, cnt):
    # neighbour counts of a row (zero-flux edges: the clamped neighbour is the site itself)
    nx = c0.shape[0]
    _count_site(cnt, 0, cm[0], sm[0], cp[0], sp[0], c0[0], s0[0], c0[1], s0[1])
    for j in range(1, nx - 1):
        _count_site(cnt, j, cm[j], sm[j], cp[j], sp[j], c0[j - 1], s0[j - 1], c0[j + 1], s0[j + 1])
    k = nx - 1
    _count_site(cnt, k, cm[k], sm[k], cp[k], sp[k], c0[k - 1], s0[k - 1], c0[k], s0[k])


@nb.njit(inline="always", cache=True)
def _collagen_site(out, satf, j, a0, b0, an, bn, as_, bs, aw, bw, ae, be, inv_csat):
    ctot = a0 + b0
    # scar density around the site: fronts of existing septa attract new matrix
    c_nb = an + bn + as_ + bs + aw + bw + ae + be
    out[j] = (_FH * ctot + np.float32(0.125) * c_nb) * inv_csat
    free = _F1 - ctot * inv_csat
    satf[j] = free if free > _F0 else _F0


@nb.njit(cache=True, error_model="numpy")
def _collagen_row(am, a0, ap, bm, b0, bp, out, satf, inv_csat):
    nx = a0.shape[0]
    _collagen_site(out, satf, 0, a0[0], b0[0], am[0], bm[0], ap[0], bp[0], a0[0], b0[0], a0[1], b0[1], inv_csat)
    for j in range(1, nx - 1):
        _collagen_site(out, satf, j, a0[j], b0[j], am[j], bm[j], ap[j], bp[j], a0[j - 1], b0[j - 1], a0[j + 1],
                       b0[j + 1], inv_csat)
    k = nx - 1
    _collagen_site(out, satf, k, a0[k], b0[k], am[k], bm[k], ap[k], bp[k], a0[k - 1], b0[k - 1], a0[k], b0[k],
                   inv_csat)


@nb.njit(cache=True, error_model="numpy")
def _uniform_row(seed, step, i, nx, wk):
    # four uniforms per site from two counter-based hashes of (seed, step, site)
    for j in range(nx):
        h1 = site_hash(seed, step, np.uint64(i * nx + j))
        h2 = mix64(h1 ^ _G)
        wk[W_U_HEP, j] = np.float32((h1 & np.uint64(0xFFFFFFFF)) * _INV32)
        wk[W_U_HSC, j] = np.float32((h1 >> np.uint64(32)) * _INV32)
        wk[W_U_MAC, j] = np.float32((h2 & np.uint64(0xFFFFFFFF)) * _INV32)
        wk[W_U_END, j] = np.float32((h2 >> np.uint64(32)) * _INV32)


@nb.njit(cache=True)
def _hill_terms(r_start, r_sig, r_kpow, r_pow):
    """The distinct Hill terms (signal, K^n, n) of the row-evaluated behaviours; term[r] of each rule.

    Several rules share a term (e.g. every MSC anti-fibrosis rule), so a row computes each once."""
    nr = r_sig.shape[0]
    term = np.full(nr, -1, np.int32)
    t_sig = np.empty(max(nr, 1), np.int32)
    t_k = np.empty(max(nr, 1), np.float32)
    t_p = np.empty(max(nr, 1), np.float32)
    n = 0
    for b in range(N_ROW_BEHAVIOURS):
        for r in range(r_start[b], r_start[b + 1]):
            q = 0
            while q < n and not (t_sig[q] == r_sig[r] and t_k[q] == r_kpow[r] and t_p[q] == r_pow[r]):
                q += 1
            if q == n:
                t_sig[n], t_k[n], t_p[n] = r_sig[r], r_kpow[r], r_pow[r]
                n += 1
            term[r] = q
    return term, t_sig, t_k, t_p, n


@nb.njit(cache=True, error_model="numpy")
def _hill_row(x, k, p, h):
    """h = x^n / (K^n + x^n) for every site of a row (0 where x <= 0)."""
    nx = x.shape[0]
    if p == 1.0:
        for j in range(nx):
            xj = x[j]
            h[j] = xj / (k + xj) if xj > _F0 else _F0
    elif p == 2.0:
        for j in range(nx):
            xj = x[j]
            xn = xj * xj
            h[j] = xn / (k + xn) if xj > _F0 else _F0
    else:
        for j in range(nx):
            xj = x[j]
            xn = xj ** p if xj > _F0 else _F0
            h[j] = xn / (k + xn) if xj > _F0 else _F0


@nb.njit(inline="always", cache=True)
def _fold_a(r, r_up, r_fold):
    # up: 1 + (fold - 1) h; down: 1 - (1 - fold) h, i.e. 1 + (fold - 1) h as well
    return np.float32(r_fold[r] - _F1) if r_up[r] else -np.float32(_F1 - r_fold[r])


@nb.njit(cache=True, error_model="numpy")
def _mod_row(b, hr, term, m, a_start, a_rule, r_up, r_fold):
    """Product of the Hill modifiers of behaviour b's active rules (a_rule[a_start[b]:a_start[b + 1]], at least
    one) for every site of a row. Two rules are multiplied per pass, left to right as a scalar loop over the
    rules would; past the last rule the factor is exactly 1."""
    nx = m.shape[0]
    r0, r1 = a_start[b], a_start[b + 1]
    for r in range(r0, r1, 2):
        a0, h0 = _factor(r, r1, a_rule, term, hr, r_up, r_fold)
        a1, h1 = _factor(r + 1, r1, a_rule, term, hr, r_up, r_fold)
        keep = r > r0
        for j in range(nx):
            prev = m[j] if keep else _F1
            m[j] = prev * (_F1 + a0 * h0[j]) * (_F1 + a1 * h1[j])


@nb.njit(inline="always", cache=True)
def _factor(i, n, a_rule, term, hr, r_up, r_fold):
    # (fold - 1, Hill-term row) of active rule i; past the last one (i >= n) a = 0, i.e. a factor of exactly 1
    q = a_rule[i if i < n else n - 1]
    return (_fold_a(q, r_up, r_fold) if i < n else _F0), hr[term[q]]


@nb.njit(cache=True)
def _active_rules(pp, r_start, term, t_sig, n_terms):
    """The Hill terms and rules that can differ from 'no effect' this step.

    A signal that is zero at every site this step (an MSC mechanism whose patient-level effect is 0, as in
    every control arm and before the first infusion; a patient driver at 0) makes its Hill term 0 and its
    rules' factors exactly 1, so they are skipped: the products, and so the results, are bit-identical.
    Returns (term on, start of each row behaviour's active rules, the active rules in table order)."""
    zero = np.zeros(N_SIG, np.bool_)
    for s, k in ((SG_EIM, P_EIM), (SG_EAF, P_EAF), (SG_ERG, P_ERG), (SG_EMC, P_EMC), (SG_EACD, P_EACD),
                 (SG_INFL, P_INFL), (SG_STIM, P_STIM)):
        zero[s] = pp[k] == 0
    t_on = np.empty(max(n_terms, 1), np.bool_)
    for q in range(n_terms):
        t_on[q] = not zero[t_sig[q]]
    a_start = np.zeros(N_ROW_BEHAVIOURS + 1, np.int32)
    a_rule = np.empty(max(r_start[N_ROW_BEHAVIOURS], 1), np.int32)
    n = 0
    for b in range(N_ROW_BEHAVIOURS):
        for r in range(r_start[b], r_start[b + 1]):
            if t_on[term[r]]:
                a_rule[n] = r
                n += 1
        a_start[b + 1] = n
    return t_on, a_start, a_rule


@nb.njit(cache=True, error_model="numpy")
def _hepatocyte_row(c0, s0, winj, cnt, wk, md, base, pp, dt, srow_cyt, srow_tgf):
    # every quantity is loaded and every candidate computed, then selected: no branches on cell state
    nx = c0.shape[0]
    b_inj, b_div, b_death, b_rec = base[HEP_INJURY], base[HEP_DIVISION], base[HEP_DEATH], base[HEP_RECOVERY]
    b_cyt, b_tgf = base[HEP_CYT], base[HEP_TGF]
    p_inj = pp[P_INJ]
    k_cyc = pp[P_KCYC]
    kc = k_cyc * dt
    pk = kc / (_F1 + kc)
    for j in range(nx):
        hep = np.int32(c0[j] & 3)
        par = s0[j] == PARENCHYMA
        u = wk[W_U_HEP, j]
        satf = wk[W_SATF, j]
        n_empty = cnt[C_EMPTY, j]
        n_div = cnt[C_DIV, j]
        m_inj, m_div, m_death, m_rec = md[HEP_INJURY, j], md[HEP_DIVISION, j], md[HEP_DEATH, j], md[HEP_RECOVERY, j]
        m_cyt, m_tgf = md[HEP_CYT, j], md[HEP_TGF, j]
        healthy = hep == HEP_HEALTHY
        # healthy: injury or division (into an empty neighbour); injured: death or recovery
        r1h = (b_inj + p_inj * winj[j]) * m_inj
        r2h = b_div * m_div if n_empty > 0 else _F0
        r1 = r1h if healthy else b_death * m_death
        r2 = r2h if healthy else b_rec * m_rec
        ev = _choose(u, r1, r2, dt)
        # an empty slot is filled by a dividing neighbour's daughter unless scar has taken it
        x = k_cyc * np.float32(n_div) * _FH * dt
        fill = (n_div > 0) & (u < x / (_F1 + x) * satf)
        new_h = HEP_INJURED if ev == 1 else (HEP_DIVIDING if ev == 2 else HEP_HEALTHY)
        new_i = HEP_EMPTY if ev == 1 else (HEP_HEALTHY if ev == 2 else HEP_INJURED)
        new_d = HEP_HEALTHY if u < pk else HEP_DIVIDING
        new_e = HEP_HEALTHY if fill else HEP_EMPTY
        new = new_h if healthy else (new_i if hep == HEP_INJURED else (new_d if hep == HEP_DIVIDING else new_e))
        cnt[C_HEP, j] = np.int32(new) if par else hep
        stay = par & (hep == HEP_INJURED) & (ev == 0)
        srow_cyt[j] = b_cyt * m_cyt if stay else _F0
        srow_tgf[j] = b_tgf * m_tgf if stay else _F0


@nb.njit(cache=True, error_model="numpy")
def _stellate_row(c0, s0, cnt, wk, md, base, dt, srow_tgf, srow_hgf, srow_mmp):
    nx = c0.shape[0]
    b_prol, b_repl, b_act, b_inact = base[HSC_PROL], base[HSC_REPL], base[HSC_ACT], base[HSC_INACT]
    b_apop, b_react, b_req = base[HSC_APOP], base[HSC_REACT], base[HSC_REQ]
    b_hgf, b_tgf, b_mmp = base[HSC_HGF], base[HSC_TGF], base[HSC_MMP]
    for j in range(nx):
        c = c0[j]
        hsc = np.int32((c >> 2) & 3)
        par = s0[j] == PARENCHYMA
        u = wk[W_U_HSC, j]
        n_act = cnt[C_ACT, j]
        n_hsc = cnt[C_HSC, j]
        m_prol, m_repl, m_act, m_inact = md[HSC_PROL, j], md[HSC_REPL, j], md[HSC_ACT, j], md[HSC_INACT, j]
        m_apop, m_react, m_req = md[HSC_APOP, j], md[HSC_REACT, j], md[HSC_REQ, j]
        m_hgf, m_tgf, m_mmp = md[HSC_HGF, j], md[HSC_TGF, j], md[HSC_MMP, j]
        # none: proliferation of an activated neighbour or replenishment of a niche; quiescent: activation;
        # activated: inactivation or apoptosis; inactivated: reactivation or requiescence
        r1n = b_prol * np.float32(n_act) * _FQ * m_prol if (n_act > 0) & (n_hsc < 2) else _F0
        r2n = b_repl * m_repl if (c & 128) != 0 else _F0
        none, quiescent, active = hsc == HSC_NONE, hsc == HSC_Q, hsc == HSC_A
        r1 = r1n if none else (b_act * m_act if quiescent else (b_inact * m_inact if active else b_react * m_react))
        r2 = r2n if none else (_F0 if quiescent else (b_apop * m_apop if active else b_req * m_req))
        ev = _choose(u, r1, r2, dt)
        new_n = HSC_A if ev == 1 else (HSC_Q if ev == 2 else HSC_NONE)
        new_q = HSC_A if ev == 1 else HSC_Q
        new_a = HSC_I if ev == 1 else (HSC_NONE if ev == 2 else HSC_A)
        new_i = HSC_A if ev == 1 else (HSC_Q if ev == 2 else HSC_I)
        new = new_n if none else (new_q if quiescent else (new_a if active else new_i))
        cnt[C_HSC_NEW, j] = np.int32(new) if par else hsc
        srow_hgf[j] = b_hgf * m_hgf if par & (quiescent | (hsc == HSC_I)) else _F0
        srow_tgf[j] += b_tgf * m_tgf if par & active else _F0
        srow_mmp[j] = b_mmp * m_mmp if par & active else _F0


@nb.njit(cache=True, error_model="numpy")
def _macrophage_row(c0, cnt, wk, md, base, dt, srow_cyt, srow_tgf, srow_mmp):
    nx = c0.shape[0]
    b_rec, b_m2, b_m1, b_dep = base[MAC_REC], base[MAC_TO_M2], base[MAC_TO_M1], base[MAC_DEP]
    b_cyt, b_mmp, b_tgf = base[MAC_CYT], base[MAC_MMP], base[MAC_TGF]
    for j in range(nx):
        mac = np.int32((c0[j] >> 4) & 3)
        u = wk[W_U_MAC, j]
        m_rec, m_m2, m_m1, m_dep = md[MAC_REC, j], md[MAC_TO_M2, j], md[MAC_TO_M1, j], md[MAC_DEP, j]
        m_cyt, m_mmp, m_tgf = md[MAC_CYT, j], md[MAC_MMP, j], md[MAC_TGF, j]
        none, m1 = mac == MAC_NONE, mac == MAC_M1
        # none: recruitment (as M1); M1/M2: polarisation to the other type or departure
        r1 = b_rec * m_rec if none else (b_m2 * m_m2 if m1 else b_m1 * m_m1)
        r2 = _F0 if none else b_dep * m_dep
        ev = _choose(u, r1, r2, dt)
        other = MAC_M2 if m1 else MAC_M1
        new = (MAC_M1 if ev == 1 else MAC_NONE) if none else (other if ev == 1 else (MAC_NONE if ev == 2 else mac))
        cnt[C_MAC, j] = np.int32(new)
        srow_cyt[j] += b_cyt * m_cyt if m1 else _F0
        srow_mmp[j] += b_mmp * m_mmp if mac == MAC_M2 else _F0
        srow_tgf[j] += b_tgf * m_tgf if not none else _F0


@nb.njit(cache=True, error_model="numpy")
def _endothelium_row(c0, s0, zeta, cnt, wk, md, base, pp, dt, srow_o2):
    nx = c0.shape[0]
    o2z = pp[P_O2Z]
    fcap = pp[P_FCAP]
    b_o2 = base[END_O2]
    b_loss, b_rep = base[END_LOSS], base[END_REPAIR]
    o_stroma, o_other = _F1, _F1 - o2z
    for j in range(nx):
        endo = np.int32((c0[j] >> 6) & 1)
        s = s0[j]
        par = s == PARENCHYMA
        m_loss, m_rep, m_o2 = md[END_LOSS, j], md[END_REPAIR, j], md[END_O2, j]
        # intact endothelium is lost (capillarised), capillarised endothelium is repaired
        r1 = b_loss * m_loss if endo == 1 else b_rep * m_rep
        ev = _choose(wk[W_U_END, j], r1, _F0, dt)
        new = (np.int32(1) - endo) if (ev == 1) & par else endo
        cnt[C_ENDO, j] = new
        o = b_o2 * m_o2 * (_F1 - o2z * zeta[j]) * (_F1 if new == 1 else fcap)
        srow_o2[j] = o if par else (o_stroma if s == PORTAL_STROMA else o_other)


@nb.njit(cache=True, error_model="numpy")
def _msc_row(i, fld, fld_out, structure, att, sg, base, pp, dt, srow_msf, wk, r_start, r_sig, r_up, r_fold, r_kpow,
             r_pow):
    # MSCs: random motility, homing up the attraction gradient, clearance, factor release (few rows have any);
    # branch-free: where no MSC is near, every term is 0 and so is the result
    ny, nx = structure.shape
    im = i - 1 if i > 0 else 0
    ip = i + 1 if i < ny - 1 else ny - 1
    kc, sec = wk[W_KC], wk[W_SEC]
    _rules_row(MSC_CLEAR, fld, i, sg, kc, wk[W_H], r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
    _rules_row(MSC_SEC, fld, i, sg, sec, wk[W_H], r_start, r_sig, r_up, r_fold, r_kpow, r_pow)
    m0, mn, ms = fld[MSC, i], fld[MSC, im], fld[MSC, ip]
    a0, an, as_ = att[i], att[im], att[ip]
    s0, sn, ss = structure[i], structure[im], structure[ip]
    out = fld_out[MSC, i]
    c = (base[MSC_HOME], pp[P_VMAX], pp[P_MSCD], base[MSC_CLEAR], base[MSC_SEC], dt)
    k = nx - 1
    _msc_site(out, srow_msf, kc, sec, 0, m0[0], a0[0], s0[0], mn[0], an[0], sn[0], ms[0], as_[0], ss[0],
              m0[0], a0[0], s0[0], m0[1], a0[1], s0[1], c)
    for j in range(1, k):
        _msc_site(out, srow_msf, kc, sec, j, m0[j], a0[j], s0[j], mn[j], an[j], sn[j], ms[j], as_[j], ss[j],
                  m0[j - 1], a0[j - 1], s0[j - 1], m0[j + 1], a0[j + 1], s0[j + 1], c)
    _msc_site(out, srow_msf, kc, sec, k, m0[k], a0[k], s0[k], mn[k], an[k], sn[k], ms[k], as_[k], ss[k],
              m0[k - 1], a0[k - 1], s0[k - 1], m0[k], a0[k], s0[k], c)


@nb.njit(inline="always", cache=True)
def _msc_site(out, msf, kc, sec, j, m, ac, s, mn, an, sn, ms, as_, ss, mw, aw, sw, me, ae, se, c):
    chi, vmax, d_m, k_clear, k_sec, dt = c
    flux = _msc_flux(mn, an, sn, m, ac, chi, vmax, d_m)
    flux += _msc_flux(ms, as_, ss, m, ac, chi, vmax, d_m)
    flux += _msc_flux(mw, aw, sw, m, ac, chi, vmax, d_m)
    flux += _msc_flux(me, ae, se, m, ac, chi, vmax, d_m)
    m_new = m + dt * (flux - k_clear * kc[j] * m)
    # densities below MSC_FLUSH (a few cells in the whole liver) are cleared, as in the reference;
    # vessel lumina hold none
    keep = (m_new > MSC_FLUSH) & (not _lumen(s))
    out[j] = m_new if keep else _F0
    msf[j] = m * k_sec * sec[j]


@nb.njit(inline="always", cache=True)
def _msc_flux(mk, ak, sk, m, ac, chi, vmax, d_m):
    # net MSC flow into the site from a neighbour: random motility plus upwind chemotaxis (none from a lumen)
    v = chi * (ak - ac)
    # clamped with selects: numba's float min/max are not vectorised
    v = -vmax if v < -vmax else v
    v = vmax if v > vmax else v
    adv = (-v * mk) if v < 0 else (-v * m)
    f = adv + d_m * (mk - m)
    return _F0 if _lumen(sk) else f


@nb.njit(cache=True, error_model="numpy")
def _rules_row(b, fld, i, sg, m, h, r_start, r_sig, r_up, r_fold, r_kpow, r_pow):
    """Product of the Hill modifiers of behaviour b along row i (field signals from `fld`, others from `sg`;
    `h` is a scratch row); the rules are applied one after another, as in the NumPy reference."""
    m[:] = _F1
    for r in range(r_start[b], r_start[b + 1]):
        k = r_sig[r]
        _hill_row(fld[k, i] if k < N_DIFFUSING else sg[k], r_kpow[r], r_pow[r], h)
        a = _fold_a(r, r_up, r_fold)
        for j in range(m.shape[0]):
            m[j] *= _F1 + a * h[j]


@nb.njit(cache=True, error_model="numpy")
def _collagen_update_row(a0, b0, mmp, s0, cnt, c0, wk, md, out_a, out_b, dt, syn, wa, wb, deg_s, deg_x, kx, mu0,
                         cap):
    # the patient's synthesis budget shared out where myofibroblasts are (and basal structures), degradation
    # where MMPs act, cross-linking; dense scar cannot take more (the cap guards the explicit update)
    nx = a0.shape[0]
    for j in range(nx):
        s = s0[j]
        satf = wk[W_SATF, j]
        a_local = cnt[C_ACT, j] + (np.int32(2) if ((c0[j] >> 2) & 3) == HSC_A else np.int32(0))
        aw = np.float32(a_local) * satf * md[HSC_DEP, j] if (s == PARENCHYMA) & (a_local > 0) else _F0
        basal = (s == PORTAL_STROMA) | (s == CV_WALL)
        w = wa * aw + (wb * satf if basal else _F0)
        dep = syn * w
        mu = mmp[j] + mu0
        cs = a0[j]
        cx = b0[j]
        cs_new = cs + dep - dt * (deg_s * mu + kx) * cs
        cx_new = cx + dt * (kx * cs - deg_x * mu * cx)
        tot = cs_new + cx_new
        f = cap / tot if tot > cap else _F1
        # vessel lumina hold no matrix (their weights are 0, so they also drop out of the row sums)
        lumen = _lumen(s)
        out_a[j] = _F0 if lumen else cs_new * f
        out_b[j] = _F0 if lumen else cx_new * f
        wk[W_AW, j] = aw
        wk[W_W, j] = w
        wk[W_MU, j] = mu


@nb.njit(cache=True, error_model="numpy")
def _update_row(i, cell, cell_out, fld, fld_out, col, col_out, structure, zeta, winj, att, base, pp, sums_prev,
                rowsums, r_start, r_sig, r_up, r_fold, r_kpow, r_pow, seed, step, sg, md, wk, cnt, srow, hr, term,
                t_sig, t_k, t_p, n_terms, t_on, a_start, a_rule):
    ny, nx = cell.shape
    dt = pp[P_DT]
    ntis = max(sums_prev[S_TISSUE], 1.0)
    aw_mean = sums_prev[S_AW] / ntis
    mu_s = sums_prev[S_MUCS] / sums_prev[S_CS] if sums_prev[S_CS] > 0 else 1.0
    mu_x = sums_prev[S_MUCX] / sums_prev[S_CX] if sums_prev[S_CX] > 0 else 1.0
    f_mean = sums_prev[S_MSF] / ntis
    fbg = pp[P_FBG]
    f_norm = np.float32(1.0 / (f_mean + fbg)) if f_mean + fbg > 0 else _F0
    csat = pp[P_CSAT]
    inv_csat = np.float32(1.0 / csat)
    # The patient's synthesis budget, shared out by weight: basal structures (portal tracts, vein walls)
    # by c_basal, myofibroblast sites by A/A_ref. Weights of the previous step normalise, so the mean
    # deposition equals the patient's synthesis whatever the pattern.
    w_mean = sums_prev[S_W] / ntis
    b0 = pp[P_B0]
    wb = np.float32(pp[P_CBASAL] / b0) if b0 > 0 else _F0
    wa = np.float32(pp[P_AREL] / aw_mean) if aw_mean > 0 else _F0
    syn = np.float32(dt * pp[P_SC] * (pp[P_CBASAL] + pp[P_AREL]) / w_mean) if w_mean > 0 else _F0
    deg_s = np.float32(pp[P_KDEG] * pp[P_DEGR] / mu_s)
    deg_x = np.float32(pp[P_KDX] * pp[P_DEGR] / mu_x)
    o2z = pp[P_O2Z]
    im = i - 1 if i > 0 else 0
    ip = i + 1 if i < ny - 1 else ny - 1
    c0, s0 = cell[i], structure[i]

    # ---- every signal of every site of the row (lumen sites computed too, then overwritten)
    _count_row(cell[im], c0, cell[ip], structure[im], s0, structure[ip], cnt)
    _collagen_row(col[0, im], col[0, i], col[0, ip], col[1, im], col[1, i], col[1, ip], sg[SG_COLLAGEN],
                  wk[W_SATF], inv_csat)
    _signal_rows(fld[MSF, i], cnt[C_EMPTY], winj[i], pp, fbg, f_norm, sg)
    _uniform_row(seed, step, i, nx, wk)
    for q in range(n_terms):
        if t_on[q]:
            k = t_sig[q]
            _hill_row(fld[k, i] if k < N_DIFFUSING else sg[k], t_k[q], t_p[q], hr[q])
    for b in range(N_ROW_BEHAVIOURS):
        if a_start[b + 1] > a_start[b]:
            _mod_row(b, hr, term, md[b], a_start, a_rule, r_up, r_fold)

    # ---- cell rules, branch-free over the row: every rule evaluated at every site (no thinning)
    _hepatocyte_row(c0, s0, winj[i], cnt, wk, md, base, pp, dt, srow[CYT], srow[TGFB])
    _stellate_row(c0, s0, cnt, wk, md, base, dt, srow[TGFB], srow[HGF], srow[MMP])
    _macrophage_row(c0, cnt, wk, md, base, dt, srow[CYT], srow[TGFB], srow[MMP])
    _endothelium_row(c0, s0, zeta[i], cnt, wk, md, base, pp, dt, srow[O2])
    if _row_total(fld[MSC, im]) + _row_total(fld[MSC, i]) + _row_total(fld[MSC, ip]) > 0:
        _msc_row(i, fld, fld_out, structure, att, sg, base, pp, dt, srow[MSF], wk, r_start, r_sig, r_up, r_fold,
                 r_kpow, r_pow)
    else:
        fld_out[MSC, i] = _F0
        srow[MSF] = _F0
    _collagen_update_row(col[0, i], col[1, i], fld[MMP, i], s0, cnt, c0, wk, md, col_out[0, i], col_out[1, i], dt,
                         syn, wa, wb, deg_s, deg_x, pp[P_KX], pp[P_MU0], np.float32(1.5) * csat)

    # ---- new cell bytes and the row's sums over tissue sites (lumen sites get empty values)
    _pack_row(c0, s0, cnt, cell_out[i])
    # ---- signals: one relaxation sweep toward the quasi-steady profile (contiguous rows: SIMD). Vessel
    # lumina hold no signal, except oxygen: blood in the portal vessels is its source, the central vein drains.
    for f in range(N_DIFFUSING):
        v_cv, v_portal = (_F1 - o2z, _F1) if f == O2 else (_F0, _F0)
        _relax_row(fld[f, i], fld[f, im], fld[f, ip], srow[f], fld_out[f, i], pp[P_L2 + f], pp[P_OMEGA + f], s0,
                   v_cv, v_portal)
    acc = np.zeros(N_SUMS, np.float64)
    _sum_row(s0, cnt, wk, col_out[0, i], col_out[1, i], fld_out[MSC, i], fld_out[MSF, i], acc)
    for k in range(N_SUMS):
        rowsums[i, k] = acc[k]


@nb.njit(cache=True, error_model="numpy")
def _pack_row(c0, s0, cnt, out):
    nx = c0.shape[0]
    for j in range(nx):
        lumen = _lumen(s0[j])
        c = cnt[C_HEP, j] | (cnt[C_HSC_NEW, j] << 2) | (cnt[C_MAC, j] << 4) | (cnt[C_ENDO, j] << 6) | (c0[j] & 128)
        out[j] = np.uint8(0) if lumen else np.uint8(c)


@nb.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _sum_row(s0, cnt, wk, col_a, col_b, msc, msf, acc):
    # row sums for the next step; a reassociated (vectorised) float reduction: deterministic for a given
    # row, so the result still does not depend on the thread count
    nx = s0.shape[0]
    aw = bw = w = mucs = cs = mucx = cx = m = f = 0.0
    n_tis = n_par = n_hep = n_hsca = n_m1 = n_m2 = 0
    for j in range(nx):
        s = s0[j]
        tissue = not _lumen(s)
        par = s == PARENCHYMA
        basal = (s == PORTAL_STROMA) | (s == CV_WALL)
        mu = np.float64(wk[W_MU, j])
        a = np.float64(col_a[j])
        b = np.float64(col_b[j])
        aw += wk[W_AW, j]
        bw += wk[W_SATF, j] if basal else _F0
        w += wk[W_W, j]
        mucs += mu * a
        cs += a
        mucx += mu * b
        cx += b
        m += msc[j] if tissue else _F0
        f += msf[j] if tissue else _F0
        n_tis += np.int32(tissue)
        n_par += np.int32(par)
        n_hep += np.int32(par & (cnt[C_HEP, j] != HEP_EMPTY))
        n_hsca += np.int32(tissue & (cnt[C_HSC_NEW, j] == HSC_A))
        n_m1 += np.int32(tissue & (cnt[C_MAC, j] == MAC_M1))
        n_m2 += np.int32(tissue & (cnt[C_MAC, j] == MAC_M2))
    acc[S_AW] = aw
    acc[S_BW] = bw
    acc[S_W] = w
    acc[S_MUCS] = mucs
    acc[S_CS] = cs
    acc[S_MUCX] = mucx
    acc[S_CX] = cx
    acc[S_MSC] = m
    acc[S_MSF] = f
    acc[S_TISSUE] = n_tis
    acc[S_PAR] = n_par
    acc[S_HEP] = n_hep
    acc[S_HSCA] = n_hsca
    acc[S_M1] = n_m1
    acc[S_M2] = n_m2


@nb.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _row_total(x):
    # sum of a non-negative row (> 0 iff any site is positive); a vectorised scan
    s = np.float32(0.0)
    for j in range(x.shape[0]):
        s += x[j]
    return s


@nb.njit(inline="always", cache=True)
def _at_most_1(x):
    # min(1, x) as a select: numba's float min/max stop a loop from vectorising
    return x if x < _F1 else _F1


@nb.njit(cache=True, error_model="numpy")
def _signal_rows(msf, n_empty, winj, pp, fbg, f_norm, sg):
    # local MSC mechanism effects from the factor field (rows of a zero effect are set once per block),
    # empty-neighbour fraction, injury weight
    for s, k in ((SG_EIM, P_EIM), (SG_EAF, P_EAF), (SG_ERG, P_ERG), (SG_EMC, P_EMC), (SG_EACD, P_EACD)):
        if pp[k] != 0:
            _effect_row(msf, pp[k], fbg, f_norm, sg[s])
    for j in range(msf.shape[0]):
        sg[SG_EMPTY, j] = np.float32(n_empty[j]) * _FQ
    sg[SG_WINJ] = winj


@nb.njit(cache=True, error_model="numpy")
def _effect_row(msf, p, fbg, f_norm, out):
    # one MSC mechanism's local effect: its patient-level effect scaled by the local factor level, at most 1
    for j in range(msf.shape[0]):
        out[j] = _at_most_1(p * ((msf[j] + fbg) * f_norm))


@nb.njit(inline="always", cache=True)
def _relax_site(c, n, s, w, e, src, l2, om):
    # the forward-Euler diffusion-decay update of `diffusion.fe_update` (decay 1 in pseudo-time), in float32
    return c + om * (l2 * (n + s + w + e - _F4 * c) - c + src)


@nb.njit(inline="always", cache=True)
def _relax_row(c, n, so, src, out, l2, om, s0, v_cv, v_portal):
    # one sweep along a row; clamped (zero-flux) ends handled outside the vector loop; lumen sites
    # (central vein, portal vessels) take the fixed values v_cv / v_portal
    nx = c.shape[0]
    k = nx - 1
    out[0] = _lumen_or(s0[0], _relax_site(c[0], n[0], so[0], c[0], c[1], src[0], l2, om), v_cv, v_portal)
    for j in range(1, k):
        out[j] = _lumen_or(s0[j], _relax_site(c[j], n[j], so[j], c[j - 1], c[j + 1], src[j], l2, om), v_cv,
                           v_portal)
    out[k] = _lumen_or(s0[k], _relax_site(c[k], n[k], so[k], c[k - 1], c[k], src[k], l2, om), v_cv, v_portal)


@nb.njit(inline="always", cache=True)
def _lumen_or(s, v, v_cv, v_portal):
    return (v_cv if s == CV_LUMEN else v_portal) if _lumen(s) else v


@nb.njit(parallel=True, cache=True, error_model="numpy")
def attraction_plane(fld, att, r_start, r_sig, r_up, r_fold, r_kpow, r_pow):
    """MSC homing attraction of every site from the current fields (computed once per step, when MSCs exist)."""
    ny, nx = att.shape
    for b in nb.prange((ny + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK):
        h = np.empty(nx, np.float32)
        for i in range(b * ROWS_PER_BLOCK, min(ny, (b + 1) * ROWS_PER_BLOCK)):
            # homing follows field signals only (rules on other signals are refused at load): `sg` is not read
            _rules_row(MSC_HOME, fld, i, fld[:, i], att[i], h, r_start, r_sig, r_up, r_fold, r_kpow, r_pow)


@nb.njit(parallel=True, cache=True)
def add_msc(fld, weight, amount):
    """Deposit `amount` x weight MSCs (weights sum to 1) into the MSC plane."""
    ny, nx = weight.shape
    for i in nb.prange(ny):
        for j in range(nx):
            fld[MSC, i, j] += np.float32(amount * weight[i, j])
