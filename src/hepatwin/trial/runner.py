"""Run virtual trials: screen a virtual population, randomise, simulate, observe, record events.

Randomness is explicit, named and independent of batching (see :mod:`hepatwin.streams`): every
purpose draws from its own stream ``stream(seed, *keys, name=...)`` derived from the root seed by
its name, so adding a new draw (a new event, a new lab) leaves every existing draw unchanged.

* screening: the pool of a trial with N subjects comes from the population seed drawn from stream
  "screening" with keys (N,); replicate r takes the next N accepted candidates in id order;
* randomisation of replicate r: stream "randomisation", keys (N, r);
* subject j of replicate r, keys (N, r, j): "visit window", "dropout", "event threshold: <event>"
  for each of `EVENT_THRESHOLDS`, "assay noise: <lab>" for each lab, and "adverse event: <key>" for
  each of `INFUSION_AES` (one uniform per infusion, in infusion order).

So replicate 0 of a power run is the trial `hepatwin trial run` gives for the same seed and size,
and the results do not depend on the chunk size or the number of threads.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..clinical import meld
from ..clinical.panel import lab_scores
from ..engine.batched import STATUS_NAMES
from ..engine.codegen import compile_model
from ..engine.solver import check_engine, solve_patients
from ..limits import RunTooLargeError
from ..model import build_model
from ..model.catalog import EVENTS, VITALS
from ..plan import derived_in_force, plan_restart
from ..population.config import PopulationConfig
from ..population.generate import ScreeningError, generate
from ..progress import ProgressCallback, notify
from ..streams import seed_sequence, stream
from .protocol import LAB_VARIABLES, MIN_PER_ARM, SCORE_VARIABLES, Protocol

YEAR = 365.25
#: subjects one run keeps in memory (about 45 kB each, measured: 72,000 subjects peaked at 3.3 GB)
MAX_SUBJECTS = 200_000
#: model outputs needed on the daily grid (labs at visits, grades for scores, MELD for listing)
#: events the engine fires, timed by the state that counts them
COUNTED_EVENTS = {name: e.counter for name, e in EVENTS.items() if e.counter}
#: events timed by the onset of a clinical sign on the patient's course: variable, level
ONSET_EVENTS = {name: e.onset for name, e in EVENTS.items() if e.onset}
_GRID_VARS = tuple(dict.fromkeys((*LAB_VARIABLES, *VITALS, "Bil_mgdl", "Cr_mgdl", "ascites_grade", "he_grade",
                                  "CH_death", "CH_decomp", *COUNTED_EVENTS.values(),
                                  *(v for v, _ in ONSET_EVENTS.values()))))
#: How a subject left the study, over one period: baseline to the end of follow-up (`follow_up_days`).
#: Every enrolled subject has exactly one (its `end_reason`), so the counts partition the enrolled
#: subjects; CONSORT counts and the DS table are both made from it. end_reason -> (column key, words
#: for people, CDISC disposition term).
DISPOSITIONS = {
    "end of follow-up": ("completed", "Completed follow-up", "COMPLETED"),
    "death": ("died", "Died", "DEATH"),
    "transplant": ("transplanted", "Liver transplant", "LIVER TRANSPLANTATION"),
    "dropout": ("dropped_out", "Withdrew (dropout)", "LOST TO FOLLOW-UP"),
    "solver failure": ("solver_failure", "Not simulated (solver failure)", "OTHER"),
}
#: clinical events timed by an Exp(1) threshold on a cumulative hazard, one random stream each
#: ("event threshold: <event>"); a new event added here gets its own stream and changes no other draw
EVENT_THRESHOLDS = tuple(name for name, e in EVENTS.items() if e.threshold)
#: infusion-related adverse events, one uniform per infusion each from stream "adverse event: <key>":
#: key -> (term, grade, serious)
INFUSION_AES = {
    "grade 1-2 infusion reaction": ("infusion-related reaction (fever)", 1, False),
    "serious infusion-related event": ("serious infusion-related event", 3, True),
}
DISPOSITION_KEYS = tuple(v[0] for v in DISPOSITIONS.values())
DISPOSITION_LABELS = {v[0]: v[1] for v in DISPOSITIONS.values()}


def disposition_period(protocol: Protocol) -> str:
    """The period the disposition counts cover, in words."""
    return f"from randomisation to the end of follow-up (day {protocol.follow_up_days:g})"


def disposition_counts(subjects: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    """Per replicate and arm (in protocol order): randomised and how many left the study each way.

    The disposition columns add up to `randomised` in every row (each subject has one disposition).
    """
    arms = pd.Index([a.name for a in protocol.arm], name="arm")
    reps = pd.Index(sorted(pd.unique(subjects["replicate"])), name="replicate")
    full = pd.MultiIndex.from_product([reps, arms])
    counts = (subjects.groupby(["replicate", "arm", "disposition"]).size().unstack("disposition", fill_value=0)
              .reindex(index=full, columns=list(DISPOSITION_KEYS), fill_value=0))
    out = counts.reset_index()
    out.insert(2, "label", out["arm"].map({a.name: a.display for a in protocol.arm}))
    out.insert(3, "randomised", counts.sum(axis=1).to_numpy())
    out.columns.name = None
    return out


@dataclass
class TrialResult:
    """Subjects, observations and events of one or more replicate trials (column `replicate`)."""

    protocol: Protocol
    population: PopulationConfig
    seed: int
    subjects: pd.DataFrame
    labs: pd.DataFrame
    adverse_events: pd.DataFrame
    exposure: pd.DataFrame
    consort: pd.DataFrame
    screening: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    engine: str = "numba"     # the engine the subjects were solved on

    @property
    def replicates(self) -> int:
        return int(self.consort.shape[0])

    @property
    def disposition(self) -> pd.DataFrame:
        """CONSORT disposition per replicate and arm, from the subjects' one disposition each."""
        return disposition_counts(self.subjects, self.protocol)

    def replicate(self, r: int) -> TrialResult:
        """The tables of replicate `r` only."""
        def pick(df):
            return (df[df["replicate"] == r].reset_index(drop=True))
        return TrialResult(self.protocol, self.population, self.seed, pick(self.subjects), pick(self.labs),
                           pick(self.adverse_events), pick(self.exposure), pick(self.consort),
                           pick(self.screening), self.timings, self.engine)


def pool_seed(seed: int, n_total: int) -> int:
    """Population seed of the screening pool for trials of `n_total` subjects."""
    return int(seed_sequence(seed, n_total, name="screening").generate_state(1)[0])


def trial_sizes(protocol: Protocol, n_per_arm: int | None = None) -> list[int]:
    """Subjects per arm (every arm `n_per_arm` if given, else the protocol's sizes)."""
    if n_per_arm is not None and n_per_arm < MIN_PER_ARM:
        raise ValueError(f"n_per_arm = {n_per_arm}: an arm needs at least {MIN_PER_ARM} subjects for its statistics")
    return [a.n if n_per_arm is None else n_per_arm for a in protocol.arm]


def pool_config(protocol: Protocol, population: PopulationConfig, seed: int, n_total: int) -> PopulationConfig:
    """The population screened for trials of `n_total` subjects: the population's and the protocol's criteria,
    no targets, the pool's own seed."""
    return population.model_copy(update={
        "seed": pool_seed(seed, n_total), "targets": {},
        "criteria": [*population.criteria, *protocol.inclusion],
    })


def screen_pool(protocol: Protocol, population: PopulationConfig, *, seed: int | None = None, replicates: int = 1,
                n_per_arm: int | None = None, progress: ProgressCallback | None = None, engine: str = "numba",
                executor=None) -> pd.DataFrame:
    """The screened candidates (in id order) from which replicates 0..`replicates`-1 enrol, one after another.

    A pool screened for more replicates starts with the pool of fewer, so replicate r's subjects do not depend
    on how many replicates are run or how they are split into tasks. The burn-ins go through `executor` (serial
    by default)."""
    seed = protocol.seed if seed is None else seed
    n_total = sum(trial_sizes(protocol, n_per_arm))
    _check_size(n_total, replicates)
    cfg = pool_config(protocol, population, seed, n_total)
    pool = generate(cfg, n_total * replicates, chunk=min(2000, max(200, 2 * n_total)), progress=progress,
                    engine=engine, executor=executor)
    if int(pool.candidates["accepted"].sum()) < n_total * replicates:
        raise ScreeningError(f"screening found only {int(pool.candidates['accepted'].sum())} eligible patients "
                             f"among {len(pool.candidates)} candidates; {n_total * replicates} needed "
                             f"(raise max_candidates_per_patient or relax the criteria)")
    return pool.candidates


def replicate_pool(pool: pd.DataFrame, n_total: int, first: int, last: int) -> pd.DataFrame:
    """The candidates of `pool` screened for replicates `first`..`last`-1: from the one after replicate
    `first`-1's last enrolled subject to replicate `last`-1's last."""
    acc_pos = np.flatnonzero(pool["accepted"].to_numpy())
    start = 0 if first == 0 else acc_pos[first * n_total - 1] + 1
    return pool.iloc[start:acc_pos[last * n_total - 1] + 1]


def _check_size(n_total: int, replicates: int) -> None:
    if n_total * replicates > MAX_SUBJECTS:
        raise RunTooLargeError(f"{n_total * replicates:,} subjects ({n_total:,} x {replicates} replicates) exceed "
                               f"what one trial run holds in memory ({MAX_SUBJECTS:,}); use fewer subjects or "
                               "replicates, or `hepatwin population simulate` (chunked to disk) for population-scale "
                               "runs")


def run_trial(protocol: Protocol, population: PopulationConfig, *, seed: int | None = None, replicates: int = 1,
              n_per_arm: int | None = None, chunk: int = 1000, parameters: dict[str, float] | None = None,
              progress: ProgressCallback | None = None, engine: str = "numba", first_replicate: int = 0,
              pool: pd.DataFrame | None = None, executor=None) -> TrialResult:
    """Screen, randomise, simulate and observe `replicates` independent trials of the protocol.

    `n_per_arm` overrides every arm's size (power analysis); `parameters` overrides model parameter
    values for every subject from day 0 (screening uses the model's own values).
    `progress(stage, done, total)` is called as work proceeds. Every subject is solved on `engine` ("numba",
    or the reference "scipy"; `hepatwin.engine.solver`).

    Replicates are numbered from `first_replicate`, and replicate r is the same trial however the replicates
    are split between calls: a power analysis runs blocks of replicates as separate tasks. `pool` holds the
    screened candidates of these replicates (`replicate_pool` of a `screen_pool`); screened here when not given.
    The screening's burn-ins and the subjects' chunks go through `executor` (`hepatwin.run`; serial by default);
    the result does not depend on it.
    """
    check_engine(engine)
    seed = protocol.seed if seed is None else seed
    known = build_model().parameters
    for name in parameters or {}:
        if name not in known:
            raise ValueError(f"unknown parameter {name!r} in parameter overrides")
    sizes = trial_sizes(protocol, n_per_arm)
    n_total = sum(sizes)
    _check_size(n_total, replicates)
    last_replicate = first_replicate + replicates
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    cfg = pool_config(protocol, population, seed, n_total)
    if pool is None:
        pool = replicate_pool(screen_pool(protocol, population, seed=seed, replicates=last_replicate,
                                          n_per_arm=n_per_arm, progress=progress, engine=engine,
                                          executor=executor),
                              n_total, first_replicate, last_replicate)
    elif int(pool["accepted"].sum()) != n_total * replicates:
        raise ValueError(f"the screening pool holds {int(pool['accepted'].sum())} eligible patients; "
                         f"{replicates} replicates of {n_total} need {n_total * replicates}")
    timings["screening_s"] = time.perf_counter() - t0

    cand = pool
    acc_pos = np.flatnonzero(cand["accepted"].to_numpy())
    consort_rows, screening_rows, enrolled = [], [], []
    rules = {c.name: c.describe() for c in cfg.criteria}
    for r in range(first_replicate, last_replicate):
        k = r - first_replicate
        first = 0 if k == 0 else acc_pos[k * n_total - 1] + 1
        last = acc_pos[(k + 1) * n_total - 1]
        block = cand.iloc[first:last + 1]
        rej = block.loc[~block["accepted"], "rejected_by"].value_counts()
        for reason, count in rej.items():
            screening_rows.append({"replicate": r, "reason": reason, "rule": rules.get(reason, reason),
                                   "n": int(count)})
        part = block[block["accepted"]].copy()
        part["replicate"] = r
        part["subject_index"] = np.arange(n_total)
        part["arm_index"] = randomise(sizes, protocol.randomisation, stream(seed, n_total, r, name="randomisation"))
        enrolled.append(part)
        consort_rows.append({"replicate": r, "screened": len(block), "excluded": int((~block["accepted"]).sum()),
                             "enrolled": n_total})
    subjects = pd.concat(enrolled, ignore_index=True)

    t1 = time.perf_counter()
    outcome = _simulate(protocol, cfg, subjects, seed, n_total, chunk, parameters or {}, progress, engine,
                        executor)
    timings["simulation_s"] = time.perf_counter() - t1
    subjects, labs, ae, ex = outcome
    consort = pd.DataFrame(consort_rows)
    consort["follow_up_days"] = float(protocol.follow_up_days)  # the period of the disposition counts
    by_arm = disposition_counts(subjects, protocol)
    totals = by_arm.groupby("replicate")[list(DISPOSITION_KEYS)].sum().reindex(consort["replicate"])
    for key in DISPOSITION_KEYS:
        consort[key] = totals[key].to_numpy()
    for arm in protocol.arm:
        consort[f"arm_{arm.name}"] = (by_arm[by_arm["arm"] == arm.name].set_index("replicate")["randomised"]
                                      .reindex(consort["replicate"], fill_value=0).to_numpy())
    timings["total_s"] = time.perf_counter() - t0
    return TrialResult(protocol, population, seed, subjects, labs, ae, ex, consort,
                       pd.DataFrame(screening_rows, columns=["replicate", "reason", "rule", "n"]), timings, engine)


def randomise(sizes: list[int], method: str, rng: np.random.Generator) -> np.ndarray:
    """Arm index per enrolment position with exactly `sizes[k]` subjects in arm k.

    "block": permuted blocks in the allocation ratio (sizes divided by their gcd), the last block
    truncated to the sizes; "simple": a random permutation of the whole allocation list.
    """
    sizes = [int(s) for s in sizes]
    if method == "simple":
        return rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    g = math.gcd(*sizes)
    ratio = [s // g for s in sizes]
    out: list[int] = []
    left = list(sizes)
    while sum(left):
        block = np.repeat(np.arange(len(sizes)), [min(r, lft) for r, lft in zip(ratio, left, strict=True)])
        block = rng.permutation(block)
        for k in block:
            left[k] -= 1
        out.extend(block.tolist())
    return np.asarray(out, dtype=np.int64)


@dataclass(frozen=True)
class _SubjectChunk:
    """A chunk of enrolled subjects to simulate and observe: one task, a pure function of its fields."""

    protocol: Protocol
    cfg: PopulationConfig
    part: pd.DataFrame
    seed: int
    n_total: int
    overrides: dict
    engine: str


def _simulate_subjects(job: _SubjectChunk):
    """Simulate one chunk of subjects from day 0 and observe them as the protocol says."""
    protocol, cfg, part = job.protocol, job.cfg, job.part
    spec = build_model()
    model = compile_model(spec)
    t_out = np.arange(0.0, math.floor(float(protocol.follow_up_days)) + 1.0)
    state_idx = {n: i for i, n in enumerate(model.state_names)}
    derived_idx = {n: i for i, n in enumerate(model.derived_names)}
    draws = [_subject_draws(protocol, job.seed, job.n_total, int(r), int(j))
             for r, j in zip(part["replicate"], part["subject_index"], strict=True)]
    plan = plan_restart(cfg, part, spec, model, control_on=any(t.start_day <= 0 for t in cfg.therapy),
                        therapy_days=sorted(t.start_day for t in cfg.therapy if t.start_day > 0),
                        overrides=job.overrides, regimens=[protocol.arm[int(a)].regimen for a in part["arm_index"]],
                        label="start background therapy",
                        event_keys=(job.seed, [(job.n_total, int(r), int(j)) for r, j in
                                               zip(part["replicate"], part["subject_index"], strict=True)]))
    P = plan.params
    sol = solve_patients(spec, plan.y0, P, plan.t_start, t_out, plan.events, engine=job.engine)
    ys = np.transpose(sol.y, (1, 0, 2))
    ok = np.all(np.isfinite(ys), axis=(0, 2))
    derived = derived_in_force(model, np.nan_to_num(ys), P, plan.events, t_out)
    grid = {v: (ys[state_idx[v]] if v in state_idx else derived[derived_idx[v]]) for v in _GRID_VARS}
    grid_meld = np.asarray(meld(grid["Bil_mgdl"], grid["INR"], grid["Cr_mgdl"]), dtype=float)
    st = [STATUS_NAMES[int(x)] if ok[j] else "non_finite" for j, x in enumerate(sol.status)]
    return _observe(protocol, part, draws, grid, grid_meld, t_out, st)


def _simulate(protocol: Protocol, cfg: PopulationConfig, subjects: pd.DataFrame, seed: int, n_total: int,
              chunk: int, overrides: dict[str, float], progress, engine: str = "numba", executor=None):
    """Every enrolled subject, in chunks of `chunk` through `executor` (serial by default); the tables come
    back in subject order whatever ran them."""
    from ..run import SerialExecutor

    jobs = [_SubjectChunk(protocol, cfg, subjects.iloc[start:start + chunk], seed, n_total, dict(overrides), engine)
            for start in range(0, len(subjects), chunk)]
    parts: list = [None] * len(jobs)
    done = 0
    ex = executor if executor is not None else SerialExecutor()
    for i, out in ex.map_chunks(_simulate_subjects, jobs):
        parts[i] = out
        done += len(jobs[i].part)
        notify(progress, "simulating", done, len(subjects))
    subj_rows, lab_frames, ae_rows, ex_rows = [], [], [], []
    for subj, labs, aes, exs in parts:
        subj_rows += subj
        lab_frames.append(labs)
        ae_rows += aes
        ex_rows += exs
    subj = pd.DataFrame(subj_rows)
    labs = pd.concat(lab_frames, ignore_index=True) if lab_frames else pd.DataFrame()
    ae = pd.DataFrame(ae_rows, columns=["replicate", "usubjid", "arm", "term", "grade", "serious", "related",
                                        "day"])
    ex = pd.DataFrame(ex_rows, columns=["replicate", "usubjid", "arm", "treatment", "dose_cells", "dose_unit",
                                        "route", "day", "volume_ml"])
    return subj, labs, ae, ex


def _onset(t: np.ndarray, values: np.ndarray, level: float, end: float) -> float:
    """The first output day after baseline with values >= level (within follow-up), for a patient below the level
    at baseline; NaN if none or if the sign was present at baseline."""
    if not values[0] < level:
        return math.nan
    hit = np.flatnonzero((values >= level) & (t <= end))
    return float(t[hit[0]]) if hit.size else math.nan


def _first_count(t: np.ndarray, count: np.ndarray, end: float) -> float:
    """The first output day with count >= 1 (within follow-up), NaN if none."""
    hit = np.flatnonzero((count >= 1.0) & (t <= end))
    return float(t[hit[0]]) if hit.size else math.nan


@dataclass
class _Draws:
    """One subject's random draws, each purpose from its own named stream (see the module docstring)."""

    visit_offsets: np.ndarray          # per visit, integer days within the window (0 at baseline)
    noise: dict[str, np.ndarray]       # lab -> per visit, standard normal
    thresholds: dict[str, float]       # event -> Exp(1) threshold on its cumulative hazard
    t_dropout: float                   # days, exponential at the protocol's dropout rate (inf without dropout)
    u_ae: dict[str, np.ndarray]        # key of INFUSION_AES -> per infusion, uniform on [0, 1)


def _subject_draws(protocol: Protocol, seed: int, n_total: int, r: int, j: int, *,
                   events: tuple[str, ...] = EVENT_THRESHOLDS, labs: tuple[str, ...] = LAB_VARIABLES,
                   aes: tuple[str, ...] = tuple(INFUSION_AES)) -> _Draws:
    """Subject j of replicate r: every purpose from its own stream, keys (n_total, r, j)."""
    def rng(name: str) -> np.random.Generator:
        return stream(seed, n_total, r, j, name=name)

    n_vis = len(protocol.visits.days)
    w = protocol.visits.window_days
    offsets = rng("visit window").integers(-w, w + 1, size=n_vis) if w else np.zeros(n_vis, dtype=np.int64)
    offsets[0] = 0
    noise = {lab: rng(f"assay noise: {lab}").standard_normal(n_vis) for lab in labs}
    thresholds = {ev: float(rng(f"event threshold: {ev}").exponential(1.0)) for ev in events}
    rate = protocol.dropout_per_year.value / YEAR
    t_drop = float(rng("dropout").exponential(1.0 / rate)) if rate > 0 else math.inf
    n_inf = max((sum(len(reg.days) for reg in a.regimen) for a in protocol.arm), default=0)
    u_ae = {key: rng(f"adverse event: {key}").random(n_inf) for key in aes}
    return _Draws(offsets, noise, thresholds, t_drop, u_ae)


def _first_crossing(t: np.ndarray, cum: np.ndarray, level: float) -> float:
    """First time the non-decreasing cumulative hazard reaches `level` (linear in between), else inf."""
    k = int(np.searchsorted(cum, level, side="left"))
    if k >= cum.size:
        return math.inf
    if k == 0:
        return float(t[0])
    c0, c1 = cum[k - 1], cum[k]
    return float(t[k - 1] + (t[k] - t[k - 1]) * (level - c0) / max(c1 - c0, 1e-300))


def _observe(protocol: Protocol, part: pd.DataFrame, draws: list[_Draws], grid: dict, grid_meld: np.ndarray,
             t: np.ndarray, status: list[str]):
    """Event times, disposition, observed labs at visits, exposure and adverse events of a chunk."""
    fu = float(protocol.follow_up_days)
    last_visit = protocol.visits.days[-1]
    tx_rate = protocol.transplant.rate_per_year.value / YEAR
    listed = grid_meld >= protocol.transplant.meld_threshold
    if protocol.transplant.list_hcc:   # HCC is an indication of its own, whatever the MELD
        listed |= grid["N_hcc"] >= 1
    cum_tx = np.concatenate([np.zeros((len(part), 1)), np.cumsum(listed[:, :-1] * tx_rate * np.diff(t), axis=1)],
                            axis=1)
    m = len(part)
    subjects = []
    for j in range(m):
        row = part.iloc[j]
        d = draws[j]
        r = int(row["replicate"])
        arm = protocol.arm[int(row["arm_index"])]
        t_death = _first_crossing(t, np.maximum.accumulate(grid["CH_death"][j]), d.thresholds["death"])
        t_decomp = _first_crossing(t, np.maximum.accumulate(grid["CH_decomp"][j]), d.thresholds["decompensation"])
        t_tx = _first_crossing(t, cum_tx[j], d.thresholds["transplant"]) if tx_rate > 0 else math.inf
        end = 0.0 if status[j] != "ok" else min(t_death, t_tx, d.t_dropout, fu)
        reason = ("solver failure" if status[j] != "ok" else "death" if end == t_death else
                  "transplant" if end == t_tx else "dropout" if end == d.t_dropout else "end of follow-up")
        subjects.append({
            "replicate": r, "usubjid": f"R{r:04d}-{int(row['subject_index']) + 1:04d}",
            "subject_index": int(row["subject_index"]), "patient_id": int(row["patient_id"]),
            "arm_index": int(row["arm_index"]), "arm": arm.name, "control": arm.control,
            "age": float(row["age_years"]), "sex": "F" if bool(row["female"]) else "M",
            "weight_kg": float(row["weight_kg"]), "engine_status": status[j], "end_day": end, "end_reason": reason,
            "died_in_follow_up": reason == "death",
            "death_day": t_death if reason == "death" else math.nan,
            "decompensation_day": t_decomp if t_decomp <= end else math.nan,
            "transplanted": reason == "transplant", "transplant_day": t_tx if reason == "transplant" else math.nan,
            # events the engine fired: the first output day on which the counter shows it (fired in the day before)
            **{f"{name}_day": _first_count(t, grid[counter][j], end) for name, counter in COUNTED_EVENTS.items()},
            **{f"{name}_day": _onset(t, grid[var][j], level, end) for name, (var, level) in ONSET_EVENTS.items()},
            "dropped_out": reason == "dropout",
            # one disposition per subject over one period (to the end of follow-up): see DISPOSITIONS
            "disposition": DISPOSITIONS[reason][0], "completed": reason == "end of follow-up",
        })
    labs = _visit_labs(protocol, part, draws, grid, subjects)
    ae, ex = [], []
    p_ae = {"grade 1-2 infusion reaction": protocol.adverse_events.grade12_per_infusion.value,
            "serious infusion-related event": protocol.adverse_events.serious_per_infusion.value}
    for j, s in enumerate(subjects):
        arm = protocol.arm[s["arm_index"]]
        key = (s["replicate"], s["usubjid"], arm.name)
        k = 0
        for reg in arm.regimen:
            cells = reg.dose * (s["weight_kg"] if reg.dose_unit == "cells/kg" else 1.0)
            for day in reg.days:
                if day > s["end_day"]:  # only infusions given while in the study
                    break
                ex.append((*key, f"{reg.cell_source} MSC", cells, "cells", reg.route, float(day),
                           reg.volume_ml or math.nan))
                for name, (term, grade, serious) in INFUSION_AES.items():
                    if draws[j].u_ae[name][k] < p_ae[name]:
                        ae.append((*key, term, grade, serious, True, float(day)))
                k += 1
        # disease-related serious events during the visit period
        if s["decompensation_day"] <= last_visit:
            ae.append((*key, "hepatic decompensation", 3, True, False, s["decompensation_day"]))
        if s["died_in_follow_up"] and s["death_day"] <= last_visit:
            ae.append((*key, "death", 5, True, False, s["death_day"]))
    return subjects, labs, ae, ex


def _visit_labs(protocol: Protocol, part: pd.DataFrame, draws: list[_Draws], grid: dict,
                subjects: list[dict]) -> pd.DataFrame:
    """Labs at each attended visit with multiplicative log-normal noise; scores from the observed labs."""
    fu = math.floor(float(protocol.follow_up_days))
    nominal = np.asarray(protocol.visits.days, dtype=float)
    m, n_vis = len(part), nominal.size
    days = np.empty((m, n_vis))
    for j, d in enumerate(draws):  # nominal day + window offset, kept inside (previous visit, follow-up]
        prev = -1.0
        for v in range(n_vis):
            prev = days[j, v] = min(max(nominal[v] + d.visit_offsets[v], prev + 1), fu)
    end = np.array([s["end_day"] for s in subjects])
    full = np.array([s["end_reason"] == "end of follow-up" for s in subjects])
    attended = (days < end[:, None]) | ((days == end[:, None]) & full[:, None])
    attended = np.cumprod(attended, axis=1).astype(bool)  # no visit after a missed one (left the study)
    rows_j, rows_v = np.nonzero(attended)
    k = days[rows_j, rows_v].astype(np.int64)
    obs, true = {}, {}
    for lab in LAB_VARIABLES:
        noise = np.stack([d.noise[lab] for d in draws])[rows_j, rows_v] if m else np.empty(0)
        true[lab] = grid[lab][rows_j, k]
        sigma = math.sqrt(math.log1p(protocol.assay_cv[lab].value ** 2))
        obs[lab] = true[lab] * np.exp(sigma * noise - 0.5 * sigma * sigma)
    female = part["female"].to_numpy(dtype=bool)[rows_j]
    age = part["age_years"].to_numpy(dtype=float)[rows_j]
    asc = grid["ascites_grade"][rows_j, k].astype(int)
    he = grid["he_grade"][rows_j, k].astype(int)
    for vital in VITALS:   # measured at the bedside: no assay error
        obs[vital] = true[vital] = grid[vital][rows_j, k]
    for src in (obs, true):
        if rows_j.size == 0:
            for name in SCORE_VARIABLES:
                src[name] = np.empty(0)
            continue
        scores = lab_scores(src, female=female, age_years=age, ascites_grade=asc, he_grade=he)
        src.update({name: scores[name] for name in SCORE_VARIABLES})
    names = (*LAB_VARIABLES, *SCORE_VARIABLES)
    n_rows, n_names = rows_j.size, len(names)
    usub = np.array([s["usubjid"] for s in subjects], dtype=object)
    arms = np.array([s["arm"] for s in subjects], dtype=object)
    reps = np.array([s["replicate"] for s in subjects])
    return pd.DataFrame({
        "replicate": np.repeat(reps[rows_j], n_names), "usubjid": np.repeat(usub[rows_j], n_names),
        "arm": np.repeat(arms[rows_j], n_names), "visit": np.repeat(rows_v, n_names),
        "visit_day": np.repeat(nominal[rows_v], n_names), "day": np.repeat(days[rows_j, rows_v], n_names),
        "variable": np.tile(np.array(names, dtype=object), n_rows),
        "value": np.stack([obs[nm] for nm in names], axis=1).reshape(-1) if n_rows else np.empty(0),
        "true_value": np.stack([true[nm] for nm in names], axis=1).reshape(-1) if n_rows else np.empty(0),
    })
