"""Numba source of the batched stiff solver (variable-order BDF/NDF with Newton iterations,
the algorithm of SciPy's `BDF` (Shampine & Reichelt 1997), restarted at every event).

Two departures from SciPy, both for speed and neither changing the method's order or error
control: the Newton matrix is factored per diagonal block of the Jacobian's block lower-triangular
form (`structure.py`; KLU's BTF idea), and a Newton iteration may stop after its first correction
when the convergence rate carried over from earlier iterations (CVODE's `crate`) already proves
convergence to the same tolerance.

The generated model code (`rhs`) is pasted above this text into one module file so numba can
cache the compiled result on disk. No biology here.
"""

SOLVER_SOURCE = r'''
# ----------------------------------------------------------------------------- solver
STATUS_OK = 0
STATUS_MAX_STEPS = 1
STATUS_NON_FINITE = 2
STATUS_STEP_TOO_SMALL = 3
STATUS_FAILED = 4
STATUS_TRIGGER = -1  # not an end: the segment stopped where a trigger fired (see _bdf_segment)
MAX_FIRINGS_AT_ONCE = 1000

MAX_ORDER = 5
NEWTON_MAXITER = 4
MIN_FACTOR = 0.2
MAX_FACTOR = 10.0
LU_REUSE = 0.3  # refactor I - cJ only when c moved by more than this (CVODE's dgmax)
NEWTON_FIRST_TOL = 0.1  # CVODE-like: one correction is enough when crate * |dy| (scaled) is below this
EPS = np.finfo(np.float64).eps

_KAPPA = np.array([0.0, -0.1850, -1.0 / 9.0, -0.0823, -0.0415, 0.0])
_GAMMA = np.zeros(MAX_ORDER + 1)
for _j in range(1, MAX_ORDER + 1):
    _GAMMA[_j] = _GAMMA[_j - 1] + 1.0 / _j
_ALPHA = (1.0 - _KAPPA) * _GAMMA
_ERROR_CONST = _KAPPA * _GAMMA + 1.0 / np.arange(1, MAX_ORDER + 2)


@njit(cache=True, fastmath=False, error_model="numpy")
def _norm_scaled(x, scale):
    s = 0.0
    for i in range(x.shape[0]):
        v = x[i] / scale[i]
        s += v * v
    return math.sqrt(s / x.shape[0])


@njit(cache=True, error_model="numpy")
def _lu_factor(A, piv):
    n = A.shape[0]
    for k in range(n):
        p = k
        m = abs(A[k, k])
        for i in range(k + 1, n):
            if abs(A[i, k]) > m:
                m = abs(A[i, k])
                p = i
        piv[k] = p
        if p != k:
            for j in range(n):
                tmp = A[k, j]
                A[k, j] = A[p, j]
                A[p, j] = tmp
        if A[k, k] == 0.0:
            return False
        inv = 1.0 / A[k, k]
        for i in range(k + 1, n):
            A[i, k] *= inv
            f = A[i, k]
            if f != 0.0:
                for j in range(k + 1, n):
                    A[i, j] -= f * A[k, j]
    return True


@njit(cache=True, error_model="numpy")
def _btf_factor(A, piv):
    """LU with partial pivoting of each diagonal block of the block lower-triangular matrix A
    (states ordered by _PERM); the off-diagonal blocks are used as they are."""
    for b in range(_STARTS.shape[0] - 1):
        s = _STARTS[b]
        e = _STARTS[b + 1]
        if e - s == 1:
            piv[s] = 0
            if A[s, s] == 0.0:
                return False
        elif not _lu_factor(A[s:e, s:e], piv[s:e]):
            return False
    return True


@njit(cache=True, error_model="numpy")
def _jacobian(t, y, p, f0, J, ytmp, ftmp, threshold, hcol):
    """Forward differences, one right-hand side per group of columns that share no row (the structure's
    column groups): the same numbers as one column at a time, since no row of a group's columns reads the
    others. Entries outside the structure are exact zeros. Returns the right-hand sides evaluated."""
    n = y.shape[0]
    for j in range(n):
        ytmp[j] = y[j]
        for i in range(n):
            J[i, j] = 0.0
    for g in range(_GROUP_START.shape[0] - 1):
        for k in range(_GROUP_START[g], _GROUP_START[g + 1]):
            j = _GROUP_COLS[k]
            h = math.sqrt(EPS) * max(abs(y[j]), threshold[j])
            ytmp[j] = y[j] + h
            hcol[j] = ytmp[j] - y[j]
        rhs(t, ytmp, p, ftmp)
        for k in range(_GROUP_START[g], _GROUP_START[g + 1]):
            j = _GROUP_COLS[k]
            for r in range(_COL_ROW_START[j], _COL_ROW_START[j + 1]):
                i = _COL_ROWS[r]
                J[i, j] = (ftmp[i] - f0[i]) / hcol[j]
            ytmp[j] = y[j]
    return _GROUP_START.shape[0] - 1


@njit(cache=True, error_model="numpy")
def _compute_R(order, factor, M):
    for i in range(order + 1):
        for j in range(order + 1):
            M[i, j] = 0.0
    for j in range(order + 1):
        M[0, j] = 1.0
    for i in range(1, order + 1):
        for j in range(1, order + 1):
            M[i, j] = M[i - 1, j] * (i - 1 - factor * j) / i


@njit(cache=True, error_model="numpy")
def _change_D(D, order, factor, R, U, W):
    """D[:order+1] <- (R U)^T D[:order+1] (SciPy's change_D), with caller-owned workspaces."""
    _compute_R(order, factor, R)
    _compute_R(order, 1.0, U)
    n = D.shape[1]
    for i in range(order + 1):
        for s in range(n):
            W[i, s] = 0.0
        for k in range(order + 1):
            c = 0.0
            for m in range(order + 1):
                c += R[k, m] * U[m, i]
            if c != 0.0:
                for s in range(n):
                    W[i, s] += c * D[k, s]
    for i in range(order + 1):
        for s in range(n):
            D[i, s] = W[i, s]


@njit(cache=True, inline="always", error_model="numpy")
def _interp(D, order, t, h_abs, te, i):
    """State i at te in [t - h_abs, t] from the last step's interpolating polynomial."""
    v = D[0, i]
    prod = 1.0
    for m in range(order):
        prod *= (te - (t - h_abs * m)) / (h_abs * (1 + m))
        v += D[m + 1, i] * prod
    return v


@njit(cache=True, error_model="numpy")
def _fire(q, y, p):
    """Apply trigger q: its state changes and parameter settings, one more occurrence, the next threshold."""
    for i in range(y.shape[0]):
        y[i] += _TRIG_ADD[q, i]
    for s in range(_TRIG_SET_IDX.shape[1]):
        idx = _TRIG_SET_IDX[q, s]
        if idx >= 0:
            p[idx] = _TRIG_SET_VAL[q, s]
    y[_TRIG_COUNT[q]] += 1.0
    p[_TRIG_TH[q]] += _exp_draw(p[_TRIG_SEED[q]], y[_TRIG_COUNT[q]])


@njit(cache=True, error_model="numpy")
def _fire_due(y, p):
    """Fire every trigger whose watched state is already at its threshold; False if that does not end."""
    for q in range(_TRIG_WATCH.shape[0]):
        k = 0
        while y[_TRIG_WATCH[q]] >= p[_TRIG_TH[q]]:
            _fire(q, y, p)
            k += 1
            if k > MAX_FIRINGS_AT_ONCE:
                return False
    return True


@njit(cache=True, error_model="numpy")
def _bdf_segment(t0, t1, y, p, t_eval, out, col0, rtol, atol, counter, max_rhs, trig_out):
    """Integrate y from t0 to t1 in place; write outputs at t_eval (all in (t0, t1]) into
    out[:, col0 + k]. Returns a status code; counter[0] accumulates rhs evaluations.

    If a trigger's watched state reaches its threshold within a step, the crossing is located on the
    step's interpolant (bisection to the last bit of t), outputs up to it are written (pre-event), y is set
    to the state there, trig_out holds (time, trigger) and STATUS_TRIGGER is returned."""
    n = y.shape[0]
    f = np.empty(n)
    ytmp = np.empty(n)
    ftmp = np.empty(n)
    scale = np.empty(n)
    J = np.empty((n, n))
    A = np.empty((n, n))
    piv = np.empty(n, dtype=np.int64)
    D = np.zeros((MAX_ORDER + 3, n))
    Rw = np.zeros((MAX_ORDER + 1, MAX_ORDER + 1))
    Uw = np.zeros((MAX_ORDER + 1, MAX_ORDER + 1))
    Ww = np.zeros((MAX_ORDER + 1, n))
    threshold = np.empty(n)
    hcol = np.empty(n)
    for i in range(n):
        threshold[i] = atol[i] / rtol
    y_predict = np.empty(n)
    psi = np.empty(n)
    ynew = np.empty(n)
    d = np.empty(n)
    dy = np.empty(n)
    wsol = np.empty(n)
    crate = 1.0
    newton_tol = max(10.0 * EPS / rtol, min(0.03, math.sqrt(rtol)))
    # tightens with rtol like SciPy's newton_tol: 0.1 at rtol 1e-6, 0.01 at 1e-8
    first_tol = min(NEWTON_FIRST_TOL, 100.0 * newton_tol)

    rhs(t0, y, p, f)
    counter[0] += 1
    # initial step (SciPy select_initial_step, order 1)
    interval = t1 - t0
    for i in range(n):
        scale[i] = atol[i] + abs(y[i]) * rtol
    d0 = _norm_scaled(y, scale)
    d1 = _norm_scaled(f, scale)
    if d0 < 1e-5 or d1 < 1e-5:
        h0 = 1e-6
    else:
        h0 = 0.01 * d0 / d1
    h0 = min(h0, interval)
    for i in range(n):
        ytmp[i] = y[i] + h0 * f[i]
    rhs(t0 + h0, ytmp, p, ftmp)
    counter[0] += 1
    for i in range(n):
        ytmp[i] = (ftmp[i] - f[i])
    d2 = _norm_scaled(ytmp, scale) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** 0.5
    h_abs = min(100.0 * h0, h1, interval)

    for i in range(n):
        D[0, i] = y[i]
        D[1, i] = f[i] * h_abs
    order = 1
    n_equal_steps = 0
    counter[0] += _jacobian(t0, y, p, f, J, ytmp, ftmp, threshold, hcol)
    counter[3] += 1
    c_lu = 0.0
    have_lu = False
    t = t0
    k_eval = 0
    n_eval = t_eval.shape[0]

    while t < t1:
        min_step = 10.0 * abs(np.nextafter(t, np.inf) - t)
        current_jac = False
        accepted = False
        error_norm = 0.0
        safety = 0.0
        t_new = t
        while not accepted:
            if h_abs < min_step:
                return STATUS_STEP_TOO_SMALL
            h = h_abs
            t_new = t + h
            if t_new > t1:
                t_new = t1
                _change_D(D, order, (t_new - t) / h_abs, Rw, Uw, Ww)
                n_equal_steps = 0
            h = t_new - t
            h_abs = h
            for i in range(n):
                s = 0.0
                for k in range(order + 1):
                    s += D[k, i]
                y_predict[i] = s
                scale[i] = atol[i] + rtol * abs(s)
                s2 = 0.0
                for k in range(1, order + 1):
                    s2 += D[k, i] * _GAMMA[k]
                psi[i] = s2 / _ALPHA[order]
            c = h / _ALPHA[order]
            if have_lu and abs(c / c_lu - 1.0) > LU_REUSE:
                have_lu = False
            converged = False
            n_iter = 0
            while not converged:
                if not have_lu:
                    for i in range(n):
                        pi = _PERM[i]
                        for j in range(n):
                            A[i, j] = -c * J[pi, _PERM[j]]
                        A[i, i] += 1.0
                    if not _btf_factor(A, piv):
                        return STATUS_NON_FINITE
                    have_lu = True
                    c_lu = c
                    crate = 1.0
                    counter[2] += 1
                # Newton iterations (SciPy solve_bdf_system)
                for i in range(n):
                    ynew[i] = y_predict[i]
                    d[i] = 0.0
                dy_norm_old = -1.0
                converged = False
                for k in range(NEWTON_MAXITER):
                    n_iter = k + 1
                    rhs(t_new, ynew, p, ftmp)
                    counter[0] += 1
                    finite = True
                    for i in range(n):
                        if not math.isfinite(ftmp[i]):
                            finite = False
                    if not finite:
                        break
                    for i in range(n):
                        dy[i] = c * ftmp[i] - psi[i] - d[i]
                    _btf_solve(A, piv, dy, wsol)
                    dy_norm = _norm_scaled(dy, scale)
                    rate = -1.0
                    if dy_norm_old >= 0.0:
                        rate = dy_norm / dy_norm_old
                        crate = max(0.3 * crate, rate)
                    elif crate < 1.0 and crate * dy_norm < first_tol:
                        for i in range(n):
                            ynew[i] += dy[i]
                            d[i] += dy[i]
                        converged = True
                        break
                    if rate >= 0.0 and (rate >= 1.0
                                        or rate ** (NEWTON_MAXITER - k) / (1.0 - rate) * dy_norm > newton_tol):
                        break
                    for i in range(n):
                        ynew[i] += dy[i]
                        d[i] += dy[i]
                    if dy_norm == 0.0 or (rate >= 0.0 and rate / (1.0 - rate) * dy_norm < newton_tol):
                        converged = True
                        break
                    dy_norm_old = dy_norm
                if counter[0] > max_rhs:
                    return STATUS_MAX_STEPS
                if not converged:
                    if current_jac:
                        break
                    rhs(t_new, y_predict, p, ftmp)
                    counter[0] += 1
                    for i in range(n):
                        f[i] = ftmp[i]
                    counter[0] += _jacobian(t_new, y_predict, p, f, J, ytmp, ftmp, threshold, hcol)
                    counter[3] += 1
                    have_lu = False
                    current_jac = True
            if not converged:
                h_abs *= 0.5
                _change_D(D, order, 0.5, Rw, Uw, Ww)
                n_equal_steps = 0
                have_lu = False
                continue
            safety = 0.9 * (2 * NEWTON_MAXITER + 1) / (2 * NEWTON_MAXITER + n_iter)
            for i in range(n):
                scale[i] = atol[i] + rtol * abs(ynew[i])
                ytmp[i] = _ERROR_CONST[order] * d[i]
            error_norm = _norm_scaled(ytmp, scale)
            if error_norm > 1.0:
                factor = max(MIN_FACTOR, safety * error_norm ** (-1.0 / (order + 1)))
                h_abs *= factor
                _change_D(D, order, factor, Rw, Uw, Ww)
                n_equal_steps = 0
            else:
                accepted = True

        n_equal_steps += 1
        counter[1] += 1
        t = t_new
        for i in range(n):
            y[i] = ynew[i]
            D[order + 2, i] = d[i] - D[order + 1, i]
            D[order + 1, i] = d[i]
        for k in range(order, -1, -1):
            for i in range(n):
                D[k, i] += D[k + 1, i]

        # state events: the earliest trigger crossing in (t - h_abs, t] ends the segment there
        k_hit = -1
        t_hit = t
        for q in range(_TRIG_WATCH.shape[0]):
            w = _TRIG_WATCH[q]
            level = p[_TRIG_TH[q]]
            if y[w] >= level:
                lo = t - h_abs
                hi = t
                for _it in range(80):
                    mid = 0.5 * (lo + hi)
                    if mid <= lo or mid >= hi:
                        break
                    if _interp(D, order, t, h_abs, mid, w) >= level:
                        hi = mid
                    else:
                        lo = mid
                if k_hit < 0 or hi < t_hit:
                    k_hit = q
                    t_hit = hi
        if k_hit >= 0:
            while k_eval < n_eval and t_eval[k_eval] <= t_hit:
                for i in range(n):
                    out[i, col0 + k_eval] = _interp(D, order, t, h_abs, t_eval[k_eval], i)
                k_eval += 1
            for i in range(n):
                ytmp[i] = _interp(D, order, t, h_abs, t_hit, i)
            for i in range(n):
                y[i] = ytmp[i]
            trig_out[0] = t_hit
            trig_out[1] = k_hit
            return STATUS_TRIGGER

        # dense output at requested times in (t_old, t]
        while k_eval < n_eval and t_eval[k_eval] <= t:
            te = t_eval[k_eval]
            if te == t:
                for i in range(n):
                    out[i, col0 + k_eval] = y[i]
            else:
                for i in range(n):
                    out[i, col0 + k_eval] = D[0, i]
                prod = 1.0
                for m in range(order):
                    prod *= (te - (t - h_abs * m)) / (h_abs * (1 + m))
                    for i in range(n):
                        out[i, col0 + k_eval] += D[m + 1, i] * prod
            k_eval += 1

        if n_equal_steps < order + 1:
            continue
        if order > 1:
            for i in range(n):
                ytmp[i] = _ERROR_CONST[order - 1] * D[order, i]
            error_m_norm = _norm_scaled(ytmp, scale)
        else:
            error_m_norm = np.inf
        if order < MAX_ORDER:
            for i in range(n):
                ytmp[i] = _ERROR_CONST[order + 1] * D[order + 2, i]
            error_p_norm = _norm_scaled(ytmp, scale)
        else:
            error_p_norm = np.inf
        best = -1.0
        delta = 0
        for m, en in enumerate((error_m_norm, error_norm, error_p_norm)):
            fac = np.inf if en == 0.0 else en ** (-1.0 / (order + m))
            if fac > best:
                best = fac
                delta = m - 1
        order += delta
        factor = min(MAX_FACTOR, safety * best)
        h_abs *= factor
        _change_D(D, order, factor, Rw, Uw, Ww)
        n_equal_steps = 0
    return STATUS_OK


@njit(cache=True, error_model="numpy")
def solve_one(y0, p0, t_start, t_out, ev_t, ev_add, ev_set_idx, ev_set_val, rtol, atol, max_rhs, out):
    """One patient: segments between events; outputs at an event time are pre-event."""
    n = y0.shape[0]
    y = y0.copy()
    p = p0.copy()
    counter = np.zeros(4, dtype=np.int64)
    trig_out = np.zeros(2)
    n_out = t_out.shape[0]
    for k in range(n_out):
        if t_out[k] == t_start:
            for i in range(n):
                out[i, k] = y[i]
    t_end = t_out[n_out - 1]
    n_ev = ev_t.shape[0]
    t = t_start
    e = 0
    while e < n_ev and ev_t[e] < t_start:
        e += 1
    while True:
        # apply events at the current time
        while e < n_ev and ev_t[e] == t and t < t_end:
            for i in range(n):
                y[i] += ev_add[e, i]
            for s in range(ev_set_idx.shape[1]):
                idx = ev_set_idx[e, s]
                if idx >= 0:
                    p[idx] = ev_set_val[e, s]
            e += 1
        if not _fire_due(y, p):
            return STATUS_FAILED, counter
        t_next = t_end
        if e < n_ev and ev_t[e] < t_end:
            t_next = ev_t[e]
        # output columns in (t, t_next]
        k0 = 0
        while k0 < n_out and t_out[k0] <= t:
            k0 += 1
        k1 = k0
        while k1 < n_out and t_out[k1] <= t_next:
            k1 += 1
        if t_next > t:
            status = _bdf_segment(t, t_next, y, p, t_out[k0:k1], out, k0, rtol, atol, counter, max_rhs, trig_out)
            if status == STATUS_TRIGGER:   # fired inside (t, t_next]: go on from the crossing
                t = trig_out[0]
                _fire(int(trig_out[1]), y, p)
                continue
            if status != STATUS_OK:
                return status, counter
            for i in range(n):
                if not math.isfinite(y[i]):
                    return STATUS_NON_FINITE, counter
        t = t_next
        if t >= t_end:
            break
    return STATUS_OK, counter


@njit(cache=True, parallel=True, error_model="numpy")
def solve_batch(Y0, P, T0, t_out, EV_T, EV_ADD, EV_SET_IDX, EV_SET_VAL, rtol, atol, max_rhs, OUT, STATUS, NRHS):
    """All patients in parallel; each patient is independent (results do not depend on threads)."""
    for k in prange(Y0.shape[0]):
        st, nr = solve_one(Y0[k], P[k], T0[k], t_out, EV_T[k], EV_ADD[k], EV_SET_IDX[k], EV_SET_VAL[k],
                           rtol, atol, max_rhs, OUT[k])
        STATUS[k] = st
        for j in range(4):
            NRHS[k, j] = nr[j]
'''
