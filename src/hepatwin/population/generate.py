"""Virtual-population generation: sample, burn in to baseline, accept, select to targets.

Randomness: patient i draws everything from ``SeedSequence(seed, spawn_key=(i,))``, so the same
patients come out for any chunk size or thread count. Selection to target baseline
distributions follows Allen, Rieger & Musante 2016 (doi:10.1002/psp4.12063): inclusion
probability proportional to target density / density of the plausible population (Gaussian KDE),
with the scaling factor chosen to maximise the mean Kolmogorov-Smirnov p-value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..engine.batched import STATUS_NAMES
from ..engine.codegen import compile_model
from ..engine.solver import check_engine, solve_patients
from ..errors import InputError
from ..model import build_model
from ..progress import ProgressCallback, notify
from ..results import SCORES
from .config import PopulationConfig

YEAR = 365.25
#: fewest selected patients a scaling factor must give for selection to targets to count
MIN_SELECTED = 10


class ScreeningError(InputError):
    """Screening gave no usable population (no candidate accepted, too few to select); meant for the user."""


@dataclass
class PopulationResult:
    """All candidates (accepted or not, with reasons), the selected virtual population, diagnostics."""

    candidates: pd.DataFrame
    acceptance_rate: float
    rejections: dict[str, int]
    ks: dict[str, dict[str, float]] = field(default_factory=dict)
    scaling_factor: float | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def accepted(self) -> pd.DataFrame:
        return self.candidates[self.candidates["accepted"]]

    @property
    def selected(self) -> pd.DataFrame:
        return self.candidates[self.candidates["selected"]]


def _variables(cfg: PopulationConfig) -> list[str]:
    return ["years", "injury_scale", *sorted(cfg.covariates), *sorted(cfg.parameters)]


def sample(cfg: PopulationConfig, ids: np.ndarray) -> pd.DataFrame:
    """Sampled histories, covariates and parameters for candidate ids (independent of batching)."""
    spec = build_model()
    names = _variables(cfg)
    dists = {"years": cfg.history.years, "injury_scale": cfg.history.injury_scale, **cfg.covariates,
             **cfg.parameters}
    chol = None
    corr_idx = []
    if cfg.correlation is not None:
        chol = np.linalg.cholesky(np.asarray(cfg.correlation.matrix))
        corr_idx = [names.index(n) for n in cfg.correlation.names]
    n = len(ids)
    Z = np.empty((n, len(names)))
    U = np.empty((n, 2))
    for k, i in enumerate(ids):  # one independent stream per patient id
        rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(int(i),)))
        Z[k] = rng.standard_normal(len(names))
        U[k] = rng.random(2)
    if chol is not None:
        Z[:, corr_idx] = Z[:, corr_idx] @ chol.T
    u = stats.norm.cdf(Z)
    df = pd.DataFrame({"patient_id": np.asarray(ids, dtype=np.int64), "female": U[:, 0] < cfg.female_fraction,
                       "u_select": U[:, 1]})
    for k, name in enumerate(names):
        default = spec.parameters[name].value if name in spec.parameters else None
        df[name] = dists[name].ppf(u[:, k], default)
    for col, default in (("age_years", 50.0), ("weight_kg", 70.0)):
        if col not in df:
            df[col] = default
    return df


def simulate_baseline(cfg: PopulationConfig, cand: pd.DataFrame, rtol: float = 1e-6, *,
                      engine: str = "numba") -> pd.DataFrame:
    """Burn each candidate's disease history in (on `engine`, see `hepatwin.engine.solver`) and return its
    day-0 states, observables and scores."""
    import xarray as xr

    from ..plan import params_in_force, plan_history
    from ..results import add_scores

    spec = build_model()
    model = compile_model(spec)
    plan = plan_history(cfg, cand, spec, model)
    P = plan.params
    sol = solve_patients(spec, plan.y0, P, plan.t_start, np.array([0.0]), plan.events, engine=engine, rtol=rtol,
                         atol=1e-9)
    y = sol.y[:, :, 0].T  # states x patients
    ok = sol.status == 0
    # the outputs at day 0 with the parameters in force then (a cause control started before baseline)
    derived = model.derived(np.where(ok, y, 0.0), params_in_force(model, P, plan.events, 0.0).T)
    out = pd.DataFrame(dict(zip(model.state_names, y, strict=True))
                       | dict(zip(model.derived_names, derived, strict=True)))
    female = cand["female"].to_numpy()
    for is_female in (True, False):
        rows = np.flatnonzero(ok & (female == is_female))
        if rows.size:
            part = xr.Dataset({k: ("time", out[k].to_numpy()[rows]) for k in out.columns})
            add_scores(part, female=is_female, age_years=cand["age_years"].to_numpy()[rows])
            for s in SCORES:
                out.loc[rows, s] = np.asarray(part[s].values)
    out.insert(0, "engine_status", [STATUS_NAMES[int(s)] for s in sol.status])
    return out


def screen_block(job: tuple) -> pd.DataFrame:
    """Candidates `ids` of `cfg` sampled, burnt in on `engine` and checked against every criterion, with
    `accepted` and `rejected_by` (the first failed check): one task, `job` = (cfg, ids, engine)."""
    cfg, ids, engine = job
    cand = sample(cfg, ids)
    baseline = simulate_baseline(cfg, cand, engine=engine)
    df = pd.concat([cand, baseline.set_index(cand.index)], axis=1)
    reason = np.full(len(df), "", dtype=object)
    passed = df["engine_status"].to_numpy() == "ok"
    reason[~passed] = "solver: " + df["engine_status"][~passed]
    for crit in cfg.criteria:
        if crit.variable not in df:
            raise ValueError(f"criterion {crit.name!r}: unknown baseline variable {crit.variable!r}")
        vals = pd.to_numeric(df[crit.variable], errors="coerce").to_numpy(dtype=float)
        holds = crit.holds(vals) & np.isfinite(vals)
        newly = passed & ~holds
        reason[newly] = crit.name
        passed &= holds
    df["accepted"] = passed
    df["rejected_by"] = reason
    return df


def generate(cfg: PopulationConfig, n: int, chunk: int = 2000, progress: ProgressCallback | None = None, *,
             engine: str = "numba", executor=None) -> PopulationResult:
    """Sample candidates in id order until `n` pass every criterion, then select to targets.

    The burn-ins run on `engine`, in blocks of `chunk` candidates through `executor` (`hepatwin.run`, serial by
    default; a parallel executor screens a wave of blocks at once, and blocks beyond the n-th accepted
    candidate are dropped, so the result is the same). `progress("screening (K candidates)", accepted, n)`
    after each wave."""
    from ..run import SerialExecutor

    check_engine(engine)
    t0 = time.perf_counter()
    ex = executor if executor is not None else SerialExecutor()
    wave = 1 if ex.kind == "serial" else ex.workers * ex.in_flight
    frames = []
    n_acc = 0
    next_id = 0
    limit = n * cfg.max_candidates_per_patient
    while n_acc < n and next_id < limit:
        jobs = []
        while len(jobs) < wave and next_id < limit:
            ids = np.arange(next_id, min(next_id + chunk, limit))
            next_id = int(ids[-1]) + 1
            jobs.append((cfg, ids, engine))
        for df in ex.map(screen_block, jobs):
            frames.append(df)
            n_acc += int(df["accepted"].sum())
        notify(progress, f"screening ({next_id:,} candidates)", min(n_acc, n), n)
    cand = pd.concat(frames, ignore_index=True)
    if n_acc == 0:
        raise ScreeningError(f"no candidate met the acceptance criteria: {len(cand)} candidates screened (the limit, "
                             f"max_candidates_per_patient = {cfg.max_candidates_per_patient} for each of the {n} "
                             f"patients asked for), 0 accepted{_most_rejected(cand)}; relax the criteria")
    # keep exactly the first n accepted (by id), so results do not depend on the chunk size
    acc_idx = np.flatnonzero(cand["accepted"].to_numpy())
    if acc_idx.size > n:
        cand = cand.iloc[: acc_idx[n - 1] + 1].copy()
    rejections = {c.name: int((cand["rejected_by"] == c.name).sum()) for c in cfg.criteria}
    solver_fail = int(cand["rejected_by"].astype(str).str.startswith("solver").sum())
    if solver_fail:
        rejections["solver failure"] = solver_fail
    result = PopulationResult(cand, float(cand["accepted"].mean()), rejections)
    cand["selected"] = cand["accepted"]
    if cfg.targets:
        _select(cfg, result, n)
    result.timings["total_s"] = time.perf_counter() - t0
    return result


def _most_rejected(cand: pd.DataFrame) -> str:
    """', most rejected by <criterion> (k of n)' from the first failed check of each candidate."""
    counts = cand["rejected_by"].astype(str).value_counts()
    counts = counts[counts.index != ""]
    if counts.empty:
        return ""
    return f"; most were rejected by {counts.index[0]!r} ({int(counts.iloc[0])} of {len(cand)})"


def _select(cfg: PopulationConfig, result: PopulationResult, n: int) -> None:
    cand = result.candidates
    acc = cand["accepted"].to_numpy()
    names = sorted(cfg.targets)
    X = cand.loc[acc, names].to_numpy(dtype=float)
    if len(X) < MIN_SELECTED:
        fix = f"ask for at least {MIN_SELECTED} patients" if n < MIN_SELECTED else "relax the criteria"
        raise ScreeningError(f"selection to [targets] needs at least {MIN_SELECTED} accepted patients; {len(X)} of "
                             f"{len(cand)} candidates screened were accepted ({n} asked for); {fix}")
    target = np.ones(len(X))
    for j, name in enumerate(names):
        target *= cfg.targets[name].frozen().pdf(X[:, j])
    try:
        kde = stats.gaussian_kde(X.T)
    except np.linalg.LinAlgError:
        # e.g. a target on a variable that is the same for every accepted patient
        raise ScreeningError(f"selection to [targets] ({', '.join(names)}): the accepted patients do not vary "
                             f"in every target variable, so their density cannot be estimated; drop the "
                             f"target of a fixed variable") from None
    ratio = target / np.maximum(kde(X.T), 1e-300)
    ratio /= ratio.max()
    u = cand.loc[acc, "u_select"].to_numpy()
    best = (-1.0, None, None)
    for sf in np.logspace(0, 3, 31):
        chosen = u < np.minimum(1.0, sf * ratio)
        if chosen.sum() < MIN_SELECTED:
            continue
        pvals = [stats.kstest(X[chosen, j], cfg.targets[n].frozen().cdf).pvalue for j, n in enumerate(names)]
        score = float(np.mean(pvals))
        if score > best[0]:
            best = (score, sf, chosen)
    if best[1] is None:
        raise ScreeningError(f"selection to [targets] ({', '.join(names)}) chose fewer than {MIN_SELECTED} of the "
                             f"{len(X)} accepted patients at every scaling factor; the targets are far from the "
                             f"accepted population, or more patients are needed")
    sel = np.zeros(len(cand), dtype=bool)
    sel[np.flatnonzero(acc)[best[2]]] = True
    cand["selected"] = sel
    result.scaling_factor = float(best[1])
    for j, n in enumerate(names):
        dist = cfg.targets[n].frozen()
        before = stats.kstest(X[:, j], dist.cdf)
        after = stats.kstest(X[best[2], j], dist.cdf)
        result.ks[n] = {"ks_plausible": float(before.statistic), "ks_selected": float(after.statistic),
                        "p_selected": float(after.pvalue), "n_selected": int(best[2].sum())}
