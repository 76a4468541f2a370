"""Trial statistics on the ADaM-like tables: visit summaries, ANCOVA, survival, competing-risk cumulative
incidence, adverse events.

Every function takes tables (ADLB, ADTTE, ADSL, AE) rather than model objects, so the same analysis
runs on real trial data shaped the same way.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..model.catalog import EVENTS


def _ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """mean, SD, and the t-based confidence interval of the mean."""
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return np.nan, np.nan, np.nan, np.nan
    mean = float(x.mean())
    if n == 1:
        return mean, np.nan, np.nan, np.nan
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / np.sqrt(n)
    return mean, sd, mean - half, mean + half


def visit_summary(adlb: pd.DataFrame, params: list[str] | None = None) -> pd.DataFrame:
    """Per arm, parameter and visit: n, mean, SD, 95% CI of the value and of its change from baseline,
    and the one-sample t-test p-value of the change (within-arm change from baseline)."""
    df = adlb if params is None else adlb[adlb["PARAM"].isin(params)]
    rows = []
    for (arm, param, visit), g in df.groupby(["TRTP", "PARAM", "AVISIT"], sort=False):
        aval = g["AVAL"].to_numpy(float)
        chg = g["CHG"].to_numpy(float)
        m, sd, lo, hi = _ci(aval)
        cm, csd, clo, chi = _ci(chg)
        ok = chg[np.isfinite(chg)]
        p = float(stats.ttest_1samp(ok, 0.0).pvalue) if visit > 0 and ok.size > 1 and np.ptp(ok) > 0 else np.nan
        rows.append({"arm": arm, "param": param, "visit_day": float(visit), "n": int(np.isfinite(aval).sum()),
                     "mean": m, "sd": sd, "ci_low": lo, "ci_high": hi, "chg_mean": cm, "chg_sd": csd,
                     "chg_ci_low": clo, "chg_ci_high": chi, "chg_p": p})
    return pd.DataFrame(rows).sort_values(["param", "arm", "visit_day"], kind="stable").reset_index(drop=True)


def _subjects(n: int) -> str:
    return f"{n} subject" if n == 1 else f"{n} subjects"


#: columns of the arm-comparison table (also when the protocol has no value/change endpoint)
COMPARISON_COLUMNS = ["param", "visit_day", "arm", "reference", "estimate", "ci_low", "ci_high", "p", "n",
                      "n_reference", "note"]
#: columns of the survival tables (also when the protocol has no time-to-event endpoint)
SURVIVAL_COLUMNS = ["arm", "paramcd", "day", "survival", "ci_low", "ci_high", "at_risk", "events", "note"]
LOGRANK_COLUMNS = ["endpoint", "paramcd", "statistic", "p", "events", "note"]
COX_COLUMNS = ["paramcd", "arm", "reference", "hr", "ci_low", "ci_high", "p", "note"]
#: columns of the cumulative-incidence table (also when no endpoint has a competing event)
CIF_COLUMNS = ["arm", "paramcd", "day", "cif", "ci_low", "ci_high", "one_minus_km", "n_at_risk", "events",
               "competing", "note"]

#: catalog events that end a subject's follow-up: after one of them no other event can be observed
TERMINAL_EVENTS: tuple[str, ...] = tuple(name for name, e in EVENTS.items() if e.terminal)
#: catalog events a terminal event can pre-empt: single events (not composites) that do not end follow-up.
#: For these, 1 - Kaplan-Meier (terminal events censored) estimates the incidence in a world without death
#: or transplant; the Aalen-Johansen cumulative incidence treats death and transplant as competing events.
COMPETED_EVENTS: tuple[str, ...] = tuple(name for name, e in EVENTS.items()
                                         if not e.of and name not in TERMINAL_EVENTS)


def ancova(adlb: pd.DataFrame, param: str, visit_day: float, reference: str, *, on: str = "CHG",
           arms: list[str] | None = None) -> pd.DataFrame:
    """Each arm versus `reference` at one visit: `on ~ arm + BASE` by ordinary least squares (statsmodels).

    Returns estimate (adjusted difference), 95% CI and p-value per arm (`arms`, default: those in
    `adlb`); where the data cannot support the fit (fewer than two subjects with data in the arm or
    the comparator, too few subjects for the model, no variation) the numbers are NaN and `note`
    says "not estimable: " and why.
    """
    import statsmodels.api as sm

    df = adlb[(adlb["PARAM"] == param) & (adlb["AVISIT"] == visit_day)][["TRTP", "BASE", on]].dropna()
    arms = [a for a in (arms if arms is not None else pd.unique(adlb["TRTP"])) if a != reference]
    counts = df["TRTP"].value_counts()
    n_ref = int(counts.get(reference, 0))
    at = f"at day {visit_day:g}"
    out = pd.DataFrame({"param": param, "visit_day": float(visit_day), "arm": arms, "reference": reference,
                        "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan,
                        "n": [int(counts.get(a, 0)) for a in arms], "n_reference": n_ref, "note": ""},
                       columns=COMPARISON_COLUMNS)
    for k, a in enumerate(arms):
        few = [f"{_subjects(int(counts.get(a, 0)))} with data in arm {a}"] if counts.get(a, 0) < 2 else []
        if n_ref < 2:
            few.append(f"{_subjects(n_ref)} in comparator arm {reference}")
        if few:
            out.loc[k, "note"] = f"not estimable: {' and '.join(few)} {at} (2 needed)"
    fit_arms = [a for a in arms if counts.get(a, 0) >= 2]
    if n_ref < 2 or not fit_arms:
        return out
    df = df[df["TRTP"].isin([reference, *fit_arms])]
    fitted = [arms.index(a) for a in fit_arms]
    if len(df) <= len(fit_arms) + 2:
        out.loc[fitted, "note"] = (f"not estimable: {_subjects(len(df))} with data {at} for a model of "
                                   f"{len(fit_arms) + 2} parameters")
        return out
    X = np.column_stack([np.ones(len(df)), *[(df["TRTP"] == a).to_numpy(float) for a in fit_arms],
                         df["BASE"].to_numpy(float)])
    y = df[on].to_numpy(float)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        out.loc[fitted, "note"] = f"not estimable: no spread in the baseline values {at}"
        return out
    fit = sm.OLS(y, X).fit()
    ci = fit.conf_int()
    for a_i, a in enumerate(fit_arms, start=1):
        k = arms.index(a)
        vals = (fit.params[a_i], ci[a_i, 0], ci[a_i, 1], fit.pvalues[a_i])
        if not np.all(np.isfinite(vals)):
            out.loc[k, "note"] = f"not estimable: no residual variation {at}"
            continue
        out.loc[k, ["estimate", "ci_low", "ci_high", "p"]] = vals
    return out


def kaplan_meier(adtte: pd.DataFrame, paramcd: str, times: list[float]) -> pd.DataFrame:
    """Kaplan-Meier survival per arm at `times` with 95% CI (lifelines), and the number at risk.

    Where the estimate or its interval is not supported by the data the numbers are NaN and `note`
    says why: no subject of the arm followed to that day (the estimate is undefined past the last
    observation), or no event yet (survival 1, but the Greenwood interval has zero width).
    """
    from lifelines import KaplanMeierFitter

    df = adtte[adtte["PARAMCD"] == paramcd]
    rows = []
    for arm, g in df.groupby("TRTP", sort=False):
        km = KaplanMeierFitter().fit(g["AVAL"], event_observed=1 - g["CNSR"])
        sf = km.survival_function_at_times(times).to_numpy()
        ci = km.confidence_interval_survival_function_
        for t, s in zip(times, sf, strict=True):
            row = ci[ci.index <= t].iloc[-1] if (ci.index <= t).any() else ci.iloc[0]
            at_risk = int((g["AVAL"] >= t).sum())
            events = int(((1 - g["CNSR"]) * (g["AVAL"] <= t)).sum())
            r = {"arm": arm, "paramcd": paramcd, "day": float(t), "survival": float(s),
                 "ci_low": float(row.iloc[0]), "ci_high": float(row.iloc[1]), "at_risk": at_risk,
                 "events": events, "note": ""}
            if at_risk == 0 and s > 0:
                r.update(survival=np.nan, ci_low=np.nan, ci_high=np.nan,
                         note=f"not estimable: no subject of arm {arm} followed to day {t:g} "
                              f"(longest follow-up day {g['AVAL'].max():.1f})")
            elif events == 0:
                r.update(ci_low=np.nan, ci_high=np.nan,
                         note="no events by this day: interval not estimable")
            rows.append(r)
    return pd.DataFrame(rows, columns=SURVIVAL_COLUMNS)


def km_curves(adtte: pd.DataFrame, paramcd: str) -> dict[str, pd.DataFrame]:
    """Step-function KM estimate with CI per arm (for plotting)."""
    from lifelines import KaplanMeierFitter

    out = {}
    for arm, g in adtte[adtte["PARAMCD"] == paramcd].groupby("TRTP", sort=False):
        km = KaplanMeierFitter().fit(g["AVAL"], event_observed=1 - g["CNSR"])
        curve = km.survival_function_.join(km.confidence_interval_survival_function_)
        curve.columns = ["survival", "ci_low", "ci_high"]
        out[str(arm)] = curve.reset_index(names="day")
    return out


def _event_of_code(paramcd: str) -> str:
    for name, e in EVENTS.items():
        if e.code == paramcd:
            return name
    raise ValueError(f"unknown time-to-event parameter {paramcd!r}; the catalog's codes are "
                     f"{', '.join(e.code for e in EVENTS.values())}")


def competing_risk_data(adtte: pd.DataFrame, paramcd: str) -> pd.DataFrame:
    """One row per subject of `paramcd` with TRTP, T (day) and E: 0 censored, 1 the event of `paramcd`,
    2 a competing event (a terminal event: death or transplant, from the catalog).

    A subject censored for the event is a competing event at the day of the first terminal event
    (ADTTE rows OS, TTTX with CNSR 0) if that day is not after the censoring day; else stays censored.
    An event of interest on the same day as a terminal event counts as the event of interest.
    Subjects are matched on REPLICATE (when present) and USUBJID.
    """
    name = _event_of_code(paramcd)
    if name not in COMPETED_EVENTS:
        raise ValueError(f"{paramcd} ({name}) has no competing event: cumulative incidence with competing "
                         f"{' and '.join(TERMINAL_EVENTS)} is for {', '.join(EVENTS[n].code for n in COMPETED_EVENTS)}")
    own = adtte[adtte["PARAMCD"] == paramcd]
    out = pd.DataFrame({"TRTP": own["TRTP"].to_numpy(), "T": own["AVAL"].to_numpy(float),
                        "E": np.where(own["CNSR"].to_numpy() == 0, 1, 0)})
    comp = adtte[adtte["PARAMCD"].isin([EVENTS[n].code for n in TERMINAL_EVENTS]) & (adtte["CNSR"] == 0)]
    if comp.empty:
        return out
    if "USUBJID" not in adtte.columns:
        raise ValueError("ADTTE needs USUBJID to match a subject's competing events (OS, TTTX) to its "
                         f"{paramcd} row")
    key = [c for c in ("REPLICATE", "USUBJID") if c in adtte.columns]
    first = comp.groupby(key)["AVAL"].min()
    day = first.reindex(pd.MultiIndex.from_frame(own[key]) if len(key) > 1 else own[key[0]]).to_numpy(float)
    competing = (out["E"].to_numpy() == 0) & np.isfinite(day) & (day <= out["T"].to_numpy())
    out.loc[competing, "T"] = day[competing]
    out.loc[competing, "E"] = 2
    return out


def _untie(t: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Days with each event of interest that shares its day with a competing event moved a hair earlier.

    lifelines' Aalen-Johansen fitter jitters such ties at random (and reseeds numpy's global generator to do
    it). Moving the events of interest just before the tie instead (by less than half the smallest gap
    between days, so nobody else enters or leaves the risk set in between) gives the tied estimate
    exactly: S(t-) d1/n for the incidence at the tie and S(t-)(1 - d1/n)(1 - d2/(n - d1)) = S(t-)(1 - (d1 + d2)/n)
    for event-free survival after it."""
    t = t.astype(float).copy()
    tied = (e == 1) & np.isin(t, t[e == 2])
    if tied.any():
        days = np.unique(t)
        gap = float(np.diff(days).min()) if days.size > 1 else 1.0
        t[tied] -= min(1e-6, gap / 2)
    return t


def _cif_fit(t: np.ndarray, e: np.ndarray) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of code 1 (lifelines) with its 95% CI, 1 - KM of code 1 with
    code 2 censored, and the overall event-free survival, on lifelines' timeline (every distinct day)."""
    from lifelines import AalenJohansenFitter, KaplanMeierFitter

    t = _untie(t, e)
    # lifelines sets the incidence of its first row (day 0) to 0, losing events on day 0: fit on days + 1, whose
    # timeline is 0 and then each distinct day + 1, and give the rows their own days back (the origin row as day 0)
    days = np.concatenate([[min(0.0, float(t.min()))], np.unique(t)])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # log(0) of the log-log interval before the first event
        aj = AalenJohansenFitter(alpha=0.05).fit(t + 1.0, e, event_of_interest=1)
        km = KaplanMeierFitter().fit(t + 1.0, event_observed=(e == 1))
        overall = KaplanMeierFitter().fit(t + 1.0, event_observed=(e != 0))
    rows = {len(aj.cumulative_density_), len(km.survival_function_), len(overall.survival_function_)}
    if rows != {len(days)}:
        raise RuntimeError(f"lifelines' timelines have {sorted(rows)} rows, {len(days)} expected")
    ci = aj.confidence_interval_.to_numpy(float)
    # lifelines names its bounds the other way round (exp(-exp(.)) is decreasing): take them by size
    curve = pd.DataFrame({"cif": aj.cumulative_density_.iloc[:, 0].to_numpy(float),
                          "ci_low": np.fmin(ci[:, 0], ci[:, 1]), "ci_high": np.fmax(ci[:, 0], ci[:, 1]),
                          "one_minus_km": 1.0 - km.survival_function_.iloc[:, 0].to_numpy(float),
                          "event_free": overall.survival_function_.iloc[:, 0].to_numpy(float)},
                         index=pd.Index(days, name="day"))
    curve.loc[~np.isfinite(curve["ci_low"]) | ~np.isfinite(curve["ci_high"]), ["ci_low", "ci_high"]] = np.nan
    return curve


def cumulative_incidence(adtte: pd.DataFrame, paramcd: str, times: list[float]) -> pd.DataFrame:
    """Cumulative incidence per arm at `times` of the event of `paramcd` with death and transplant as
    competing events (Aalen-Johansen, lifelines `AalenJohansenFitter`), with its 95% CI (lifelines:
    Greenwood-type variance, log(-log) transform), and beside it 1 - Kaplan-Meier of the same event with
    the competing events censored, which overstates the incidence when death competes.

    `paramcd` must be a competed event (`COMPETED_EVENTS`: a single event that does not end follow-up);
    the competing events are the catalog's terminal events (`competing_risk_data`). n_at_risk is the
    number still followed (no event of any kind, not censored) at the day; events and competing count
    events of interest and competing events by the day. As in `kaplan_meier`, the numbers are NaN with a
    `note` past the longest follow-up, and the interval is NaN while no event has happened. No test
    between arms is made (a Gray test is not in lifelines).
    """
    data = competing_risk_data(adtte, paramcd)
    rows = []
    for arm, g in data.groupby("TRTP", sort=False):
        t, e = g["T"].to_numpy(float), g["E"].to_numpy(int)
        curve = _cif_fit(t, e)
        days = curve.index.to_numpy()
        for day in times:
            k = max(int(np.searchsorted(days, day, side="right")) - 1, 0)
            c = curve.iloc[k]
            at_risk = int((t >= day).sum())
            events, competing = int(((e == 1) & (t <= day)).sum()), int(((e == 2) & (t <= day)).sum())
            r = {"arm": arm, "paramcd": paramcd, "day": float(day), "cif": float(c["cif"]),
                 "ci_low": float(c["ci_low"]), "ci_high": float(c["ci_high"]),
                 "one_minus_km": float(c["one_minus_km"]), "n_at_risk": at_risk, "events": events,
                 "competing": competing, "note": ""}
            if at_risk == 0 and c["event_free"] > 0:
                r.update(cif=np.nan, ci_low=np.nan, ci_high=np.nan, one_minus_km=np.nan,
                         note=f"not estimable: no subject of arm {arm} followed to day {day:g} "
                              f"(longest follow-up day {t.max():.1f})")
            elif events == 0:
                r.update(ci_low=np.nan, ci_high=np.nan, note="no events by this day: interval not estimable")
            elif not np.isfinite(r["ci_low"]):
                r["note"] = ("interval not estimable: on some day every subject still at risk had an event "
                             "(lifelines' variance is infinite)")
            rows.append(r)
    return pd.DataFrame(rows, columns=CIF_COLUMNS)


def cif_curves(adtte: pd.DataFrame, paramcd: str) -> dict[str, pd.DataFrame]:
    """Step-function cumulative incidence (Aalen-Johansen) with 95% CI and 1 - KM per arm (for plotting):
    columns day, cif, ci_low, ci_high, one_minus_km."""
    data = competing_risk_data(adtte, paramcd)
    out = {}
    for arm, g in data.groupby("TRTP", sort=False):
        curve = _cif_fit(g["T"].to_numpy(float), g["E"].to_numpy(int))
        out[str(arm)] = curve.drop(columns="event_free").reset_index()
    return out


def logrank(adtte: pd.DataFrame, paramcd: str) -> dict:
    """Log-rank test across all arms (lifelines multivariate log-rank)."""
    from lifelines.statistics import multivariate_logrank_test

    df = adtte[adtte["PARAMCD"] == paramcd]
    events = int((1 - df["CNSR"]).sum())
    if df["TRTP"].nunique() < 2 or events == 0:
        why = "only one arm" if df["TRTP"].nunique() < 2 else "no events in any arm"
        return {"paramcd": paramcd, "statistic": np.nan, "p": np.nan, "events": events,
                "note": f"not estimable: {why}"}
    res = multivariate_logrank_test(df["AVAL"], df["TRTP"], 1 - df["CNSR"])
    return {"paramcd": paramcd, "statistic": float(res.test_statistic), "p": float(res.p_value), "events": events,
            "note": ""}


def cox(adtte: pd.DataFrame, paramcd: str, reference: str) -> pd.DataFrame:
    """Cox proportional-hazards hazard ratio of each arm versus `reference` (lifelines), with 95% CI.

    With no events in an arm the partial likelihood has no finite maximum: that arm's HR is NaN
    and `note` says why, rather than reporting a number the data do not support.
    """
    from lifelines import CoxPHFitter

    df = adtte[adtte["PARAMCD"] == paramcd]
    arms = [a for a in pd.unique(df["TRTP"]) if a != reference]
    out = pd.DataFrame({"paramcd": paramcd, "arm": arms, "reference": reference, "hr": np.nan, "ci_low": np.nan,
                        "ci_high": np.nan, "p": np.nan, "note": ""}, columns=COX_COLUMNS)
    ev = (1 - df["CNSR"]).groupby(df["TRTP"]).sum()
    fit_arms = [a for a in arms if ev.get(a, 0) > 0]
    if ev.get(reference, 0) == 0 and not fit_arms:
        out["note"] = "not estimable: no events in any arm"
        return out
    data = pd.DataFrame({"T": df["AVAL"].to_numpy(float), "E": (1 - df["CNSR"]).to_numpy(int)})
    for a in arms:
        data[f"arm_{a}"] = (df["TRTP"] == a).to_numpy(float)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cph = CoxPHFitter().fit(data, duration_col="T", event_col="E")
    except Exception as exc:  # lifelines raises ConvergenceError subclasses of several kinds
        out["note"] = f"not estimable: Cox fit failed ({type(exc).__name__})"
        return out
    summ = cph.summary
    for k, a in enumerate(arms):
        row = summ.loc[f"arm_{a}"]
        if ev.get(a, 0) == 0 or ev.get(reference, 0) == 0:
            which = f"arm {a}" if ev.get(a, 0) == 0 else f"comparator arm {reference}"
            out.loc[k, "note"] = f"not estimable: no events in {which}"
            continue
        out.loc[k, ["hr", "ci_low", "ci_high", "p"]] = (row["exp(coef)"], row["exp(coef) lower 95%"],
                                                       row["exp(coef) upper 95%"], row["p"])
    return out


def ae_table(ae: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """Subjects (n, %) with any AE, grade 1-2, grade >= 3, serious, related, fatal; and event counts, per arm."""
    rows = []
    for arm, g in adsl.groupby("TRT01P", sort=False):
        n = len(g)
        a = ae[ae["USUBJID"].isin(g["USUBJID"])]
        cats = {"any adverse event": np.ones(len(a), bool), "grade 1-2": a["AETOXGR"].between(1, 2).to_numpy(),
                "grade >= 3": (a["AETOXGR"] >= 3).to_numpy(), "serious": (a["AESER"] == "Y").to_numpy(),
                "related to infusion": (a["AEREL"] == "RELATED").to_numpy(), "fatal": (a["AETOXGR"] == 5).to_numpy()}
        for cat, mask in cats.items():
            k = int(a.loc[mask, "USUBJID"].nunique())
            rows.append({"arm": arm, "category": cat, "n_subjects": k, "n_arm": n,
                         "percent": 100.0 * k / n if n else np.nan, "n_events": int(mask.sum())})
    return pd.DataFrame(rows)


#: labs always summarised in a trial report, besides the endpoints
REPORT_PARAMS = ("Alb", "PTA", "Bil", "IL8", "meld", "child_pugh_points")


def reference_arm(protocol) -> str:
    """The comparator: the control arm if there is one, else the first arm (e.g. the lowest dose)."""
    ctl = protocol.control_arm
    return ctl.name if ctl is not None else protocol.arm[0].name


def survival_days(protocol) -> list[float]:
    """Landmarks for survival tables: 3, 6, 12, 24 months within follow-up (and its end)."""
    fu = float(protocol.follow_up_days)
    days = [d for d in (91.0, 182.0, 365.0, 730.0) if d <= fu]
    return days if fu in days else [*days, fu]


def analyse(tables: dict[str, pd.DataFrame], protocol) -> dict[str, pd.DataFrame]:
    """The whole analysis of one trial: visit summaries, arm comparisons, survival (with the cumulative
    incidence of events that death and transplant compete with), AE tables."""
    ref = reference_arm(protocol)
    names = [a.name for a in protocol.arm]
    params = list(dict.fromkeys([*REPORT_PARAMS, *(e.variable for e in protocol.endpoint if e.variable)]))
    adlb, adtte = tables["adlb"], tables["adtte"]
    comps, km, lr, hr, cif = [], [], [], [], []
    for e in protocol.endpoint:
        if e.kind == "time_to_event":
            from .tables import TTE_PARAMS

            code = TTE_PARAMS[e.event][0]
            km.append(kaplan_meier(adtte, code, survival_days(protocol)).assign(endpoint=e.name))
            lr.append({"endpoint": e.name, **logrank(adtte, code)})
            hr.append(cox(adtte, code, ref).assign(endpoint=e.name))
            if e.event in COMPETED_EVENTS:  # death and transplant compete: cumulative incidence beside KM
                cif.append(cumulative_incidence(adtte, code, survival_days(protocol)).assign(endpoint=e.name))
        else:
            visit = e.visit_day if e.visit_day is not None else protocol.visits.days[-1]
            on = "CHG" if e.kind == "change" else "AVAL"
            comps.append(ancova(adlb, e.variable, visit, ref, on=on, arms=names).assign(endpoint=e.name,
                                                                                      kind=e.kind))

    def cat(xs, columns):  # a table with its columns even when no endpoint of its kind exists (zero rows)
        return pd.concat(xs, ignore_index=True) if xs else pd.DataFrame(columns=columns)
    return {"visits": visit_summary(adlb, params),
            "comparisons": cat(comps, [*COMPARISON_COLUMNS, "endpoint", "kind"]),
            "survival": cat(km, [*SURVIVAL_COLUMNS, "endpoint"]), "logrank": pd.DataFrame(lr, columns=LOGRANK_COLUMNS),
            "cox": cat(hr, [*COX_COLUMNS, "endpoint"]),
            "cumulative_incidence": cat(cif, [*CIF_COLUMNS, "endpoint"]),
            "adverse_events": ae_table(tables["ae"], tables["adsl"])}
