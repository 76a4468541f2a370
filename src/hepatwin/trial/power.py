"""Power by simulation: K replicate trials per sample size, the fraction that reach significance.

Each sample size's screening pool is screened once (its burn-ins in blocks of candidates), then blocks of
replicate trials are tasks of an executor (`hepatwin.run`: serial, local processes or Dask); replicate r is
reproducible from the seed alone, however the replicates are split (see `hepatwin.trial.runner`).
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..engine.solver import check_engine
from ..progress import ProgressCallback, prefixed
from ..run import SerialExecutor
from .analysis import ancova, logrank, reference_arm
from .runner import replicate_pool, run_trial, screen_pool, trial_sizes
from .tables import TTE_PARAMS, build_tables


def replicate_tests(tables: dict[str, pd.DataFrame], protocol) -> pd.DataFrame:
    """p-values of every endpoint test in every replicate: arm vs comparator (ANCOVA), within-arm change
    from baseline (one-sample t), and the log-rank test for time-to-event endpoints.

    Every replicate has a row for every test, also when the data cannot support it: then p and the
    estimate are NaN and `note` says "not estimable: " and why."""
    ref = reference_arm(protocol)
    names = [a.name for a in protocol.arm]
    rows = []
    adlb_all, adtte_all = tables["adlb"], tables["adtte"]
    for r in sorted(pd.unique(tables["adsl"]["REPLICATE"])):
        adlb = adlb_all[adlb_all["REPLICATE"] == r]
        adtte = adtte_all[adtte_all["REPLICATE"] == r]
        for e in protocol.endpoint:
            if e.kind == "time_to_event":
                lr = logrank(adtte, TTE_PARAMS[e.event][0])
                rows.append((r, e.name, "log-rank across arms", lr["p"], np.nan, e.alpha, lr["note"]))
                continue
            visit = e.visit_day if e.visit_day is not None else protocol.visits.days[-1]
            on = "CHG" if e.kind == "change" else "AVAL"
            for c in ancova(adlb, e.variable, visit, ref, on=on, arms=names).itertuples():
                rows.append((r, e.name, f"{c.arm} vs {ref}", c.p, c.estimate, e.alpha, c.note))
            if e.kind == "change":
                d = adlb[(adlb["PARAM"] == e.variable) & (adlb["AVISIT"] == visit)]
                for arm in names:
                    x = d.loc[d["TRTP"] == arm, "CHG"].dropna().to_numpy(float)
                    p, note = np.nan, ""
                    if x.size < 2:
                        note = (f"not estimable: {x.size} subject{'' if x.size == 1 else 's'} with data in arm "
                                f"{arm} at day {visit:g} (2 needed)")
                    elif np.ptp(x) == 0:
                        note = f"not estimable: no spread in the change in arm {arm} at day {visit:g}"
                    else:
                        p = float(stats.ttest_1samp(x, 0.0).pvalue)
                    rows.append((r, e.name, f"{arm}: change from baseline", p, float(np.mean(x)) if x.size else
                                 np.nan, e.alpha, note))
    return pd.DataFrame(rows, columns=["replicate", "endpoint", "comparison", "p", "estimate", "alpha", "note"])


def _summary_note(g: pd.DataFrame) -> str:
    """Why some or all replicates of one test have no p-value (the most common reason)."""
    missing = g[g["p"].isna()]
    if missing.empty:
        return ""
    notes = missing["note"].replace("", "not estimable").value_counts()
    why = notes.index[0].removeprefix("not estimable: ")
    if len(missing) == len(g):
        return f"not estimable: no replicate gave a p-value; most often {why}"
    return f"{len(missing)} of {len(g)} replicates not estimable, counted as not significant; most often {why}"


#: subjects one replicate-trial task simulates, at most (a task holds at least one replicate)
TASK_SUBJECTS = 2000


@dataclass(frozen=True)
class ReplicateTask:
    """Replicates `first`..`first + count - 1` of the trials with `n_per_arm` subjects per arm, with the
    screened candidates they enrol from: one task, the same whichever process runs it."""

    protocol: object
    population: object
    n_per_arm: int
    first: int
    count: int
    seed: int | None
    engine: str
    pool: pd.DataFrame


def replicate_block_tests(task: ReplicateTask) -> pd.DataFrame:
    """`replicate_tests` of one task's replicate trials, with n_per_arm and the task's wall time."""
    t0 = time.perf_counter()
    res = run_trial(task.protocol, task.population, seed=task.seed, replicates=task.count, n_per_arm=task.n_per_arm,
                    first_replicate=task.first, pool=task.pool, engine=task.engine)
    tests = replicate_tests(build_tables(res), task.protocol)
    tests.insert(0, "n_per_arm", task.n_per_arm)
    tests["seconds"] = time.perf_counter() - t0
    return tests


def power_analysis(protocol, population, replicates: int, n_per_arm: list[int], *, seed: int | None = None,
                   progress: ProgressCallback | None = None, executor=None,
                   engine: str = "numba") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Power (fraction of replicates with p < alpha, a missing p counting as not significant) per endpoint,
    comparison and n per arm, with its Monte-Carlo standard error; and the per-replicate p-values.

    `estimable` counts the replicates that gave a p-value; when none did, power, its standard error
    and the median p are NaN (not 0) and `note` says why; when some did not, `note` says how many.

    Work goes through `executor` (`hepatwin.run`; serial by default) in two steps: the screening pool of each
    size (its burn-ins in blocks of candidates), then blocks of replicate trials of at most `TASK_SUBJECTS`
    subjects. Replicate r of a size is the same trial whatever the executor, worker count or split, so the
    tables do not depend on them (except the `seconds` column, the wall time of the replicate's task).
    `progress(stage, done, total)` reports each size's screening, then the tasks done. Subjects are solved on
    `engine` ("numba" or the reference "scipy")."""
    check_engine(engine)
    seed = protocol.seed if seed is None else seed
    with nullcontext(executor) if executor is not None else SerialExecutor() as ex:
        tasks = []
        for n in n_per_arm:
            n_total = sum(trial_sizes(protocol, n))
            pool = screen_pool(protocol, population, seed=seed, replicates=replicates, n_per_arm=n, engine=engine,
                               executor=ex, progress=prefixed(progress, f"n/arm {n}: "))
            step = max(1, TASK_SUBJECTS // n_total)
            for first in range(0, replicates, step):
                count = min(step, replicates - first)
                tasks.append(ReplicateTask(protocol, population, n, first, count, seed, engine,
                                           replicate_pool(pool, n_total, first, first + count)))
        # the biggest tasks first, so no worker waits alone for a big one at the end
        order = sorted(range(len(tasks)), key=lambda i: -tasks[i].count * tasks[i].n_per_arm)
        per_task: list = [None] * len(tasks)
        for i, tests in ex.map_chunks(replicate_block_tests, [tasks[i] for i in order], progress=progress,
                                      stage="replicate trials (tasks)"):
            per_task[order[i]] = tests
    tests = pd.concat(per_task, ignore_index=True)
    sig = (tests["p"] < tests["alpha"]).astype(float)
    keys = ["endpoint", "comparison", "n_per_arm"]
    grouped = tests.assign(significant=sig).groupby(keys, sort=False)
    summary = grouped.agg(power=("significant", "mean"), replicates=("significant", "size"),
                          estimable=("p", "count"), median_p=("p", "median"),
                          mean_estimate=("estimate", "mean")).reset_index()
    summary["mcse"] = np.sqrt(summary["power"] * (1 - summary["power"]) / summary["replicates"])
    none = summary["estimable"] == 0
    summary.loc[none, ["power", "mcse"]] = np.nan
    notes = grouped[["p", "note"]].apply(_summary_note)
    summary["note"] = [notes.loc[tuple(k)] for k in summary[keys].itertuples(index=False)]
    return summary, tests


def plot_power(summary: pd.DataFrame, path) -> None:
    """Power curves as PNG, written atomically (see `power_figure`)."""
    import matplotlib.pyplot as plt

    from ..io.atomic import atomic_path

    fig = power_figure(summary)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def power_figure(summary: pd.DataFrame):
    """One panel per endpoint, at most three a row (10 x 3.2 inches a row): power against subjects per arm
    with 95% Monte-Carlo intervals, x ticks at the sizes run, the legend of each panel below it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    endpoints = list(dict.fromkeys(summary["endpoint"]))
    sizes = sorted({int(n) for n in summary["n_per_arm"]})
    cols = min(3, len(endpoints))
    rows = -(-len(endpoints) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(10, 3.4 * rows), squeeze=False, layout="constrained")
    for ax, e in zip(axes.flat, endpoints, strict=False):
        comps = list(summary[summary["endpoint"] == e].groupby("comparison", sort=False))
        for j, (comp, g) in enumerate(comps):
            # comparisons nudged apart along x so their intervals do not hide each other
            dodge = 2 ** (0.04 * (j - (len(comps) - 1) / 2))
            ax.errorbar(g["n_per_arm"] * dodge, g["power"], yerr=1.96 * g["mcse"], marker="o", ms=4, capsize=2,
                        label=comp)
        ax.axhline(0.8, color="grey", ls="--", lw=0.8)
        ax.set_xscale("log", base=2)
        # ticks at the sizes run, as plain numbers (a log axis would label 2^3, 2^4 and skip the others)
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.minorticks_off()
        if len(sizes) == 1:
            ax.set_xlim(sizes[0] / 1.5, sizes[0] * 1.5)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("subjects per arm")
        ax.set_ylabel("power")
        ax.set_title(e, fontsize=10)
        # below the panel, not over the curves
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.28), frameon=False)
    for ax in list(axes.flat)[len(endpoints):]:
        ax.axis("off")
    fig.suptitle("Power by simulation (dashed: 80%; bars: 95% Monte-Carlo interval)", fontsize=10)
    return fig
