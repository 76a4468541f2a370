"""Plausibility checks of the patient model, run through the public `simulate` entry point.

Each check states what a hepatologist would expect, runs the scenarios that test it and
reports PASS/FAIL with the numbers behind the verdict (`hepatwin model check`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from .scenario import parse_scenario
from .simulate import simulate

YEAR = 365.25

#: knock-out -> (marker variable, direction of the MSC effect on it, meaning)
MECHANISM_MARKERS = {
    "msc_immunomodulation": ("IL8", -1, "IL-8 lowered"),
    "msc_antifibrosis": ("MMP", +1, "collagenolytic MMP activity raised"),
    # the trophic signal itself: the proliferation modifier also rises when immunomodulation lowers TGF-beta, and
    # with the 2026-12-02 fit (Emax_rg 0.13) that share is the larger one
    "msc_regeneration": ("e_rg", +1, "trophic proliferative signal raised"),
    "msc_microcirculation": ("E", +1, "endothelial function raised"),
    "msc_anti_cell_death": ("death_inj", -1, "injury-driven hepatocyte death lowered"),
}


@dataclass
class CheckResult:
    """Outcome of one plausibility check."""

    name: str
    expectation: str
    passed: bool
    numbers: dict[str, float | str] = field(default_factory=dict)


def decompensated_hbv(msc_dose: float | None = None, end_day: float = 169.0, knockouts=(),
                      output_days=None, antiviral_start_day: float = -730) -> dict:
    """Scenario dictionary of the demo patient (HBV decompensated cirrhosis on antivirals since
    `antiviral_start_day`)."""
    scen = {
        "name": "HBV decompensated cirrhosis" + (f", UC-MSC {msc_dose:.2g} x3 IV" if msc_dose else ", standard care"),
        "patient": {"etiology": "HBV", "sex": "male", "weight_kg": 65,
                    "history": {"years": 30, "injury_scale": 1.8}},
        "therapy": [{"kind": "antiviral", "start_day": antiviral_start_day}],
        "simulation": {"end_day": end_day, "output_step_days": 1.0, "knockouts": list(knockouts)},
    }
    if output_days is not None:
        del scen["simulation"]["output_step_days"]
        scen["simulation"]["output_days"] = list(output_days)
    if msc_dose:
        scen["regimen"] = [{"cell_source": "umbilical_cord", "dose": msc_dose, "dose_unit": "cells",
                            "route": "peripheral_iv", "days": [1, 8, 15], "volume_ml": 100}]
    return scen


def _run(scen: dict):
    res = simulate(parse_scenario(copy.deepcopy(scen), scen.get("name", "check")))
    if not res.ok:
        raise RuntimeError(f"check scenario {scen.get('name')!r} failed: {res.message}")
    return res


def _first_time(ds, mask) -> float:
    idx = np.flatnonzero(mask)
    return float(ds["time"].values[idx[0]]) if idx.size else float("nan")


def _states_ok(results) -> tuple[bool, float]:
    """Finite everywhere, and never below zero by more than 1e-6 of the state's typical magnitude."""
    from .model import build_model

    states = build_model().states
    worst = np.inf
    for r in results:
        ds = r.dataset
        for name in ds.data_vars:
            if ds[name].attrs.get("kind") == "state":
                v = ds[name].values
                if not np.all(np.isfinite(v)):
                    return False, float("nan")
                worst = min(worst, float(v.min()) / states[name].typical)
    return worst >= -1e-6, worst


def run_checks() -> list[CheckResult]:
    """All plausibility checks, in a fixed order."""
    out: list[CheckResult] = []
    runs = []

    healthy = _run({"name": "healthy", "patient": {"etiology": "HBV", "history": {"years": 0, "injury_scale": 0}},
                    "simulation": {"end_day": 10 * YEAR, "output_step_days": 30}})
    runs.append(healthy)
    ds = healthy.dataset
    rel = {v: float(np.max(np.abs(ds[v].values / ds[v].values[0] - 1))) for v in ("H", "Alb", "CPA", "HVPG", "PTA")}
    out.append(CheckResult(
        "healthy_stays_healthy", "a healthy liver stays healthy for 10 years (H, albumin, CPA, HVPG, PTA within 1%)",
        all(x < 0.01 for x in rel.values()),
        {f"max_rel_change_{k}": round(v, 6) for k, v in rel.items()} | {"final_stage": float(ds["stage"].values[-1])}))

    prog = _run({"name": "progression", "patient": {"etiology": "HBV", "history": {"years": 0, "injury_scale": 1.3}},
                 "simulation": {"end_day": 50 * YEAR, "output_step_days": 30}})
    runs.append(prog)
    ds = prog.dataset
    t_f2 = _first_time(ds, ds["stage"].values >= 2) / YEAR
    t_f4 = _first_time(ds, ds["stage"].values >= 4) / YEAR
    t_dec = _first_time(ds, ds["ascites_grade"].values >= 2) / YEAR
    out.append(CheckResult(
        "progression_to_cirrhosis", "continued HBV injury: F2 after >= 1 year, cirrhosis (F4) after 5-40 years, "
        "decompensation (ascites grade >= 2) later than F4 and within 50 years",
        bool(t_f2 >= 1 and 5 <= t_f4 <= 40 and t_f4 < t_dec <= 50),
        {"years_to_F2": round(t_f2, 1), "years_to_F4": round(t_f4, 1), "years_to_decompensation": round(t_dec, 1),
         "CPA_at_50y": round(float(ds["CPA"].values[-1]), 1)}))

    reg = _run({"name": "regression", "patient": {"etiology": "HBV", "history": {"years": 20, "injury_scale": 1.3}},
                "therapy": [{"kind": "antiviral", "start_day": 0}],
                "simulation": {"end_day": 5 * YEAR, "output_days": [0, 7, 30, 365, 2 * YEAR, 5 * YEAR]}})
    runs.append(reg)
    cpa = reg.dataset["CPA"].values
    drop = {lab: 1 - c / cpa[0] for lab, c in zip(("1w", "1m", "1y", "2y", "5y"), cpa[1:], strict=True)}
    out.append(CheckResult(
        "regression_after_cause_removal", "after antivirals CPA regresses over months to years, not days: "
        "< 3% relative fall in 1 week, > 5% by 2 years, still falling from 2 to 5 years",
        bool(drop["1w"] < 0.03 and drop["2y"] > 0.05 and cpa[5] < cpa[4]),
        {"CPA_baseline": round(float(cpa[0]), 2)} | {f"rel_fall_{k}": round(float(v), 4) for k, v in drop.items()}))

    # recompensation on antivirals is real and, with the regenerative capacity of an exhausted liver, takes
    # years: one year into treatment the demo patient still improves (MELD-Na 20 -> 17 over the next 6 months);
    # two years into it (the demo patient) it has mostly settled
    base = _run(decompensated_hbv(None, end_day=365))
    runs.append(base)
    b0, b6 = base.at(0), base.at(169)
    out.append(CheckResult(
        "untreated_no_spontaneous_improvement", "decompensated HBV cirrhosis two years into antiviral therapy, "
        "without MSCs, improves at most slightly over 6 months (slow recompensation on antivirals is real, a "
        "marked gain would be an artefact): albumin gain < 1 g/L, MELD-Na fall < 2, Child-Pugh fall < 2",
        bool(b6["Alb"] - b0["Alb"] < 1.0 and b0["meld_na"] - b6["meld_na"] < 2
             and b0["child_pugh_points"] - b6["child_pugh_points"] < 2),
        {"albumin_day0": round(b0["Alb"], 2), "albumin_day169": round(b6["Alb"], 2),
         "meld_na_day0": b0["meld_na"], "meld_na_day169": b6["meld_na"],
         "child_pugh_day0": b0["child_pugh_points"], "child_pugh_day169": b6["child_pugh_points"]}))

    msc = _run(decompensated_hbv(1e8, end_day=365))
    runs.append(msc)
    t = msc.dataset["time"].values
    d_alb = msc.dataset["Alb"].values - base.dataset["Alb"].values
    d_pta = msc.dataset["PTA"].values - base.dataset["PTA"].values
    peak = float(d_alb.max())
    t_peak = float(t[d_alb.argmax()])
    above = t[d_alb > 0.5 * peak]
    duration = float(above[-1] - above[0]) if above.size else 0.0
    out.append(CheckResult(
        "msc_raises_albumin_and_pta", "a peripheral-IV UC-MSC course (1e8 x3) raises albumin for weeks to a few "
        "months (peak gain >= 1 g/L between days 20 and 120, above half-peak for 3-30 weeks, waning by day 365) "
        "and improves PTA (>= +2 points at day 29)",
        bool(peak >= 1.0 and 20 <= t_peak <= 120 and 21 <= duration <= 210 and d_alb[-1] < 0.5 * peak
             and d_pta[t == 29][0] >= 2.0),
        {"albumin_peak_gain_g_L": round(peak, 2), "peak_day": t_peak, "days_above_half_peak": duration,
         "albumin_gain_day365": round(float(d_alb[-1]), 2), "PTA_gain_day29": round(float(d_pta[t == 29][0]), 2)}))

    full_benefit = float(np.trapezoid(d_alb[t <= 169], t[t <= 169]))
    for ko, (marker, sign, meaning) in MECHANISM_MARKERS.items():
        r = _run(decompensated_hbv(1e8, end_day=365, knockouts=[ko]))
        runs.append(r)
        d_ko = r.dataset["Alb"].values - base.dataset["Alb"].values
        benefit_ko = float(np.trapezoid(d_ko[t <= 169], t[t <= 169]))
        m_full = sign * float(np.mean((msc.dataset[marker].values - base.dataset[marker].values)[(t >= 8) & (t <= 57)]))
        m_ko = sign * float(np.mean((r.dataset[marker].values - base.dataset[marker].values)[(t >= 8) & (t <= 57)]))
        out.append(CheckResult(
            f"knockout_{ko}", f"knocking out {ko} removes part of the albumin benefit and most of its own pathway "
            f"effect ({meaning})",
            bool(benefit_ko < full_benefit and m_full > 0 and m_ko < 0.5 * m_full),
            {"albumin_benefit_full_gL_day": round(full_benefit, 1),
             "albumin_benefit_knockout_gL_day": round(benefit_ko, 1),
             f"{marker}_effect_full": float(f"{m_full:.4g}"), f"{marker}_effect_knockout": float(f"{m_ko:.4g}")}))

    ok, worst = _states_ok(runs)
    out.append(CheckResult("states_finite_nonnegative", "all states stay finite and non-negative (to 1e-6 of their "
                           "typical magnitude) in every run above",
                           ok, {"runs": len(runs), "smallest_state_over_scale": float(f"{worst:.3g}")}))
    return out
