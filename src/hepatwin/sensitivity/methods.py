"""Sampling and analysis by SALib: Morris screening, Sobol (Saltelli/Jansen sampling) and eFAST, with SALib's
bootstrap confidence intervals, a convergence check for Sobol, and warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import InputError
from .problem import Problem

METHODS = ("sobol", "morris", "efast")


def check_n(method: str, n: int, d: int) -> None:
    """An InputError for an N the method cannot use."""
    if method not in METHODS:
        raise InputError(f"--method {method!r}: expected one of {', '.join(METHODS)}")
    if n < 2:
        raise InputError(f"--n {n}: expected at least 2")
    if method == "sobol" and n & (n - 1):
        raise InputError(f"--n {n}: Sobol sampling needs a power of two (e.g. {1 << (n.bit_length() - 1)} or "
                         f"{1 << n.bit_length()})")
    if method == "efast" and n < 65:
        raise InputError(f"--n {n}: eFAST needs at least 65 samples per parameter")


def sample(method: str, problem: Problem, n: int, seed: int) -> np.ndarray:
    """Samples in the sampling space: Sobol N(2D + 2) rows, Morris N(D + 1), eFAST N D."""
    from SALib.sample import fast_sampler, morris
    from SALib.sample import sobol as sobol_sampler

    check_n(method, n, len(problem.names))
    p = problem.salib
    if method == "sobol":
        return sobol_sampler.sample(p, n, calc_second_order=True, scramble=True, seed=seed)
    if method == "morris":
        return morris.sample(p, n, num_levels=4, seed=seed)
    return fast_sampler.sample(p, n, seed=seed)


def analyze(method: str, problem: Problem, x: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Indices of one output: a tidy table (parameter, index, value, conf) with the method's indices."""
    from SALib.analyze import fast, morris
    from SALib.analyze import sobol as sobol_analyzer

    p = problem.salib
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sobol":
            res = sobol_analyzer.analyze(p, y, calc_second_order=True, seed=seed)
            cols = [("S1", "S1_conf"), ("ST", "ST_conf")]
        elif method == "morris":
            res = morris.analyze(p, x, y, num_levels=4, seed=seed)
            cols = [("mu_star", "mu_star_conf"), ("sigma", None), ("mu", None)]
        else:
            res = fast.analyze(p, y, seed=seed)
            cols = [("S1", "S1_conf"), ("ST", "ST_conf")]
    rows = []
    for j, name in enumerate(problem.names):
        for idx, conf in cols:
            rows.append({"parameter": name, "index": idx, "value": float(res[idx][j]),
                         "conf": float(res[conf][j]) if conf else float("nan")})
    return pd.DataFrame(rows)


def sobol_convergence(problem: Problem, y: np.ndarray, n: int, seed: int) -> pd.DataFrame:
    """Total-order indices on the first N/4, N/2 and N base samples (the sampler's rows come in blocks of 2D + 2
    per base sample, so a prefix is itself a Sobol design)."""
    d = len(problem.names)
    out = []
    for k in sorted({max(2, n // 4), max(2, n // 2), n}):
        tab = analyze("sobol", problem, np.empty(0), y[:k * (2 * d + 2)], seed)
        tab = tab[tab["index"] == "ST"].assign(n=k)
        out.append(tab)
    return pd.concat(out, ignore_index=True)


def warnings_of(method: str, table: pd.DataFrame, convergence: pd.DataFrame | None) -> list[str]:
    """Indices negative beyond their interval, and Sobol total indices that moved between N/2 and N by more
    than their interval."""
    notes = []
    if method in ("sobol", "efast"):
        neg = table[(table["index"].isin(["S1", "ST"])) & (table["value"] + table["conf"] < 0)]
        for r in neg.itertuples():
            notes.append(f"{r.output}: {r.index} of {r.parameter} is {r.value:.3g} +- {r.conf:.3g}, negative beyond "
                         f"its interval: more samples needed")
    if convergence is not None and not convergence.empty:
        for (out, par), g in convergence.groupby(["output", "parameter"]):
            g = g.sort_values("n")
            if len(g) >= 2:
                last, prev = g.iloc[-1], g.iloc[-2]
                if abs(last["value"] - prev["value"]) > max(last["conf"], 0.05):
                    notes.append(f"{out}: ST of {par} moved {prev['value']:.3g} -> {last['value']:.3g} from N = "
                                 f"{int(prev['n'])} to {int(last['n'])}: not converged")
    return notes
