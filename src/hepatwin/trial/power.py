"""Power by simulation: K replicate trials per sample size, the fraction that reach significance.

All replicates of one sample size go through the engine as one batch (parallel over patients);
replicate r is reproducible from the seed alone (see `hepatwin.trial.runner`).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import stats

from .analysis import ancova, logrank, reference_arm
from .runner import run_trial
from .tables import TTE_PARAMS, build_tables


def replicate_tests(tables: dict[str, pd.DataFrame], protocol) -> pd.DataFrame:
    """p-values of every endpoint test in every replicate: arm vs comparator (ANCOVA), within-arm change
    from baseline (one-sample t), and the log-rank test for time-to-event endpoints."""
    ref = reference_arm(protocol)
    rows = []
    adlb_all, adtte_all = tables["adlb"], tables["adtte"]
    for r, adlb in adlb_all.groupby("REPLICATE", sort=True):
        adtte = adtte_all[adtte_all["REPLICATE"] == r]
        for e in protocol.endpoint:
            if e.kind == "time_to_event":
                lr = logrank(adtte, TTE_PARAMS[e.event][0])
                rows.append((r, e.name, "log-rank across arms", lr["p"], np.nan, e.alpha))
                continue
            visit = e.visit_day if e.visit_day is not None else protocol.visits.days[-1]
            on = "CHG" if e.kind == "change" else "AVAL"
            for c in ancova(adlb, e.variable, visit, ref, on=on).itertuples():
                rows.append((r, e.name, f"{c.arm} vs {ref}", c.p, c.estimate, e.alpha))
            if e.kind == "change":
                d = adlb[(adlb["PARAM"] == e.variable) & (adlb["AVISIT"] == visit)]
                for arm, g in d.groupby("TRTP", sort=False):
                    x = g["CHG"].dropna().to_numpy(float)
                    p = float(stats.ttest_1samp(x, 0.0).pvalue) if x.size > 1 and np.ptp(x) > 0 else np.nan
                    rows.append((r, e.name, f"{arm}: change from baseline", p, float(np.mean(x)) if x.size else
                                 np.nan, e.alpha))
    return pd.DataFrame(rows, columns=["replicate", "endpoint", "comparison", "p", "estimate", "alpha"])


def power_analysis(protocol, population, replicates: int, n_per_arm: list[int], *, seed: int | None = None,
                   progress=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Power (fraction of replicates with p < alpha, a missing p counting as not significant) per endpoint,
    comparison and n per arm, with its Monte-Carlo standard error; and the per-replicate p-values."""
    per_rep = []
    for k, n in enumerate(n_per_arm):
        t0 = time.perf_counter()
        res = run_trial(protocol, population, seed=seed, replicates=replicates, n_per_arm=n,
                        progress=(lambda stage, done, total, k=k: progress(k, stage, done, total))
                        if progress else None)
        tests = replicate_tests(build_tables(res), protocol)
        tests.insert(0, "n_per_arm", n)
        tests["seconds"] = time.perf_counter() - t0
        per_rep.append(tests)
    tests = pd.concat(per_rep, ignore_index=True)
    sig = (tests["p"] < tests["alpha"]).astype(float)
    summary = (tests.assign(significant=sig).groupby(["endpoint", "comparison", "n_per_arm"], sort=False)
               .agg(power=("significant", "mean"), replicates=("significant", "size"),
                    median_p=("p", "median"), mean_estimate=("estimate", "mean")).reset_index())
    summary["mcse"] = np.sqrt(summary["power"] * (1 - summary["power"]) / summary["replicates"])
    return summary, tests


def plot_power(summary: pd.DataFrame, path) -> None:
    """Power curves (one panel per endpoint) as PNG, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io.atomic import atomic_path

    endpoints = list(dict.fromkeys(summary["endpoint"]))
    fig, axes = plt.subplots(1, len(endpoints), figsize=(4.5 * len(endpoints), 3.6), squeeze=False)
    for ax, e in zip(axes.flat, endpoints, strict=True):
        for comp, g in summary[summary["endpoint"] == e].groupby("comparison", sort=False):
            ax.errorbar(g["n_per_arm"], g["power"], yerr=1.96 * g["mcse"], marker="o", capsize=3, label=comp)
        ax.axhline(0.8, color="grey", ls="--", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("subjects per arm")
        ax.set_ylabel("power")
        ax.set_title(e, fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
