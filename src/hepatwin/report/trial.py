"""Trial report: CONSORT counts, lab trajectories by arm with CIs, Kaplan-Meier curves, cumulative incidence
with competing events beside 1 - Kaplan-Meier, forest plot, adverse-event tables, and the research-use
disclaimer."""

from __future__ import annotations

import base64
import io
import math
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from .. import DISCLAIMER, __version__
from ..io.atomic import atomic_path, write_text
from .plots import is_integer_output, style_axis
from .trust import trust_section

#: output -> (name, unit) of the report's figures; a score's unit is "points"
QUANTITIES = {"Alb": ("Albumin", "g/L"), "PTA": ("Prothrombin activity", "%"), "Bil": ("Bilirubin", "µmol/L"),
              "IL8": ("IL-8", "pg/mL"), "meld": ("MELD", "points"), "child_pugh_points": ("Child-Pugh", "points"),
              "INR": ("INR", "ratio"), "Cr": ("Creatinine", "µmol/L"), "Na": ("Sodium", "mmol/L"),
              "meld_na": ("MELD-Na", "points"), "albi": ("ALBI", "score"), "Asc": ("Ascites", "L"),
              "HVPG": ("HVPG", "mmHg"), "CPA": ("CPA", "%"), "IL6": ("IL-6", "pg/mL"), "TNF": ("TNF-α", "pg/mL"),
              "IL10": ("IL-10", "pg/mL"), "meld_3": ("MELD 3.0", "points")}
LABELS = {k: f"{n} ({u})" for k, (n, u) in QUANTITIES.items()}
#: arm styles: colour, line style, marker, width; arms that coincide stay visible (dashes over a wider line)
ARM_STYLES = [("#0072B2", "-", "o", 2.6), ("#D55E00", "--", "s", 1.9), ("#009E73", ":", "^", 2.2),
              ("#CC79A7", "-.", "D", 1.6), ("#E69F00", (0, (5, 2, 1, 2)), "v", 1.8), ("#56B4E9", "-", "x", 1.2)]


def _arm_order(order: list[str], present) -> list[str]:
    """The protocol's arm order, limited to arms in the data, then any other arm found there."""
    present = list(dict.fromkeys(str(a) for a in present))
    return [a for a in order if a in present] + [a for a in present if a not in order]


def _style(k: int) -> dict:
    c, ls, m, lw = ARM_STYLES[k % len(ARM_STYLES)]
    return {"color": c, "linestyle": ls, "marker": m, "linewidth": lw}


def _save(fig, path: Path) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return base64.b64encode(data).decode()


def _trajectories(visits: pd.DataFrame, params: list[str], change: bool, path: Path, arms: list[str]) -> str:
    return _save(_trajectories_figure(visits, params, change, arms), path)


def _trajectories_figure(visits: pd.DataFrame, params: list[str], change: bool, arms: list[str]):
    """Per-visit mean (or change from baseline) with 95% CI by arm, one panel per output."""
    n = len(params)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.3 * rows), squeeze=False)
    m, lo, hi = (("chg_mean", "chg_ci_low", "chg_ci_high") if change else ("mean", "ci_low", "ci_high"))
    arms = _arm_order(arms, visits["arm"])
    for ax, p in zip(axes.flat, params, strict=False):
        d = visits[visits["param"] == p]
        steps = is_integer_output(p)    # a score between visits is the last one measured, not a slope
        dx = 0.006 * max(float(d["visit_day"].max() - d["visit_day"].min()), 1.0) if len(d) else 0.0
        for k, arm in enumerate(arms):
            g = d[d["arm"].astype(str) == arm]
            st = _style(k)
            # arms a little apart on x (the markers and bars of coinciding arms would hide each other)
            x = g["visit_day"] + (k - (len(arms) - 1) / 2) * dx
            ax.plot(x, g[m], label=str(arm), markersize=4, drawstyle="steps-post" if steps else "default", **st)
            ax.fill_between(x, g[lo], g[hi], alpha=0.12, color=st["color"], step="post" if steps else None)
        if change:
            ax.axhline(0, color="k", lw=0.6)
        name, unit = QUANTITIES.get(p, (p, ""))
        ax.set_title(("change in " if change else "") + name, fontsize=10)
        ax.set_ylabel(unit)
        ax.set_xlabel("study day")
        style_axis(ax, p, change=change)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=len(arms), fontsize=8, title="arm")
    fig.set_layout_engine("constrained")
    return fig


def _km(adtte: pd.DataFrame, paramcd: str, title: str, path: Path, arms: list[str]) -> str:
    return _save(_km_figure(adtte, paramcd, title, arms), path)


def _km_figure(adtte: pd.DataFrame, paramcd: str, title: str, arms: list[str]):
    """Kaplan-Meier curves by arm (lifelines) with censoring marks, 95% CI and numbers at risk below."""
    from lifelines import KaplanMeierFitter

    d = adtte[adtte["PARAMCD"] == paramcd]
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    fitters = []
    for k, arm in enumerate(_arm_order(arms, d["TRTP"])):
        g = d[d["TRTP"].astype(str) == arm]
        st = _style(k)
        km = KaplanMeierFitter(label=str(arm)).fit(g["AVAL"], event_observed=1 - g["CNSR"])
        # identical curves (no events in either arm) stay apart: each arm's own dash and width, drawn in order
        km.plot_survival_function(ax=ax, show_censors=True, ci_alpha=0.08, color=st["color"],
                                  linestyle=st["linestyle"], linewidth=st["linewidth"], zorder=3 + k,
                                  censor_styles={"marker": "|", "ms": 9, "mew": 1.4})
        fitters.append(km)
    ax.set_ylim(0, 1.04)
    return _finish_time_to_event(fig, ax, title, "probability without event", fitters)


def _cif(adtte: pd.DataFrame, paramcd: str, title: str, path: Path, arms: list[str]) -> str:
    return _save(_cif_figure(adtte, paramcd, title, arms), path)


def _cif_figure(adtte: pd.DataFrame, paramcd: str, title: str, arms: list[str]):
    """Cumulative incidence (Aalen-Johansen, death and transplant competing) by arm as steps with 95% CI and
    censoring marks, 1 - Kaplan-Meier of the same event (competing events censored) thin and dashed in the
    arm's colour, and numbers at risk and events below; styles as in the Kaplan-Meier figure."""
    import numpy as np
    from lifelines import KaplanMeierFitter
    from matplotlib import patheffects

    from ..trial.analysis import cif_curves, competing_risk_data

    data = competing_risk_data(adtte, paramcd)
    curves = cif_curves(adtte, paramcd)
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    fitters, top = [], 0.0
    for k, arm in enumerate(_arm_order(arms, data["TRTP"])):
        g = data[data["TRTP"].astype(str) == arm]
        t, e = g["T"].to_numpy(float), g["E"].to_numpy(int)
        c = curves[arm]
        st = _style(k)
        days = c["day"].to_numpy(float)
        ax.step(days, c["cif"], where="post", color=st["color"], linestyle=st["linestyle"],
                linewidth=st["linewidth"], zorder=3 + k, label=f"{arm}: cumulative incidence")
        ax.fill_between(days, c["ci_low"], c["ci_high"], step="post", alpha=0.08, color=st["color"])
        # over the incidence curves, outlined in white so it shows where the two agree
        ax.step(days, c["one_minus_km"], where="post", color=st["color"], linestyle=(0, (4, 3)), linewidth=1.0,
                zorder=10 + k, label=f"{arm}: 1 − Kaplan-Meier",
                path_effects=[patheffects.withStroke(linewidth=2.4, foreground="white")])
        censored = np.sort(t[e == 0])
        at = np.clip(np.searchsorted(days, censored, side="right") - 1, 0, None)
        ax.plot(censored, c["cif"].to_numpy()[at], linestyle="None", marker="|", ms=9, mew=1.4, color=st["color"],
                zorder=3 + k)
        top = max(top, float(np.nanmax(c[["cif", "ci_high", "one_minus_km"]].to_numpy(float))))
        fitters.append(KaplanMeierFitter(label=str(arm)).fit(t, event_observed=(e == 1)))
    ax.set_ylim(0, min(1.04, max(0.1, 1.1 * top)))
    return _finish_time_to_event(fig, ax, title, "probability of event", fitters)


def _finish_time_to_event(fig, ax, title: str, ylabel: str, fitters: list):
    """The common frame of the Kaplan-Meier and cumulative-incidence figures: day axis from 0, the legend
    outside on the right, numbers at risk and events below."""
    from lifelines.plotting import add_at_risk_counts

    ax.set_xlim(left=0)
    ax.set_xlabel("study day")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="arm (| censored)")
    if fitters:
        add_at_risk_counts(*fitters, ax=ax, fig=fig, rows_to_show=["At risk", "Events"])
    fig.tight_layout()
    return fig


def _forest(comps: pd.DataFrame, path: Path) -> str:
    return _save(_forest_figure(comps), path)


def _forest_figure(comps: pd.DataFrame):
    """One panel per endpoint (so one unit per x axis), each labelled with the endpoint and its unit; arms
    against the comparator with 95% CI and a zero line."""
    d = comps.dropna(subset=["estimate"]).reset_index(drop=True)
    groups = list(d.groupby(["endpoint", "param"], sort=False))
    heights = [max(len(g), 1) + 1.2 for _, g in groups]
    fig, axes = plt.subplots(len(groups), 1, figsize=(7.5, 0.42 * sum(heights) + 0.9 * len(groups)),
                             squeeze=False, height_ratios=heights)
    for ax, ((endpoint, param), g) in zip(axes[:, 0], groups, strict=True):
        y = list(range(len(g)))[::-1]
        ax.hlines(y, g["ci_low"], g["ci_high"], color="C0")
        ax.plot(g["estimate"], y, "s", color="C0")
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(y, [f"{r.arm} vs {r.reference}" for r in g.itertuples()], fontsize=8)
        ax.set_ylim(-0.8, len(g) - 0.2)
        name, unit = QUANTITIES.get(param, (param, ""))
        what = "change from baseline to" if "kind" in g and g["kind"].iloc[0] == "change" else "value at"
        ax.set_xlabel(f"{endpoint}: difference in {name}, {what} day {g['visit_day'].iloc[0]:g} ({unit})",
                      fontsize=9)
        lo, hi = min(g["ci_low"].min(), 0.0), max(g["ci_high"].max(), 0.0)
        pad = 0.08 * (hi - lo or 1.0)
        ax.set_xlim(lo - pad, hi + pad)
    fig.suptitle("Adjusted difference vs comparator (ANCOVA on baseline), 95% CI", fontsize=10)
    fig.set_layout_engine("constrained")
    return fig


def _fmt(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "yes" if v else "no"
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, int):
        return str(v)
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.4g}"


def _table(df: pd.DataFrame) -> dict:
    return {"columns": list(df.columns), "rows": [[_fmt(v) for v in row] for row in df.itertuples(index=False)]}


def trial_report(protocol, analysis: dict[str, pd.DataFrame], consort: pd.DataFrame, screening: pd.DataFrame,
                 tables: dict[str, pd.DataFrame], out_dir: str | Path, protocol_file: str = "", *,
                 consort_note: str = "") -> Path:
    """Write `report.html` with its figures under `figures/`; `consort` is the CONSORT table for people
    (`hepatwin.trial.tables.consort_table`), `consort_note` the sentence stating its period."""
    from ..trial.analysis import COMPETED_EVENTS, TERMINAL_EVENTS
    from ..trial.tables import TTE_PARAMS

    out = Path(out_dir)
    figs = []
    params = list(dict.fromkeys(analysis["visits"]["param"]))
    order = [a.name for a in protocol.arm]
    figs.append({"title": "Labs and scores by arm (mean, 95% CI)",
                 "data": _trajectories(analysis["visits"], params, False, out / "figures" / "labs.png", order)})
    figs.append({"title": "Change from baseline by arm (mean, 95% CI)",
                 "data": _trajectories(analysis["visits"], params, True, out / "figures" / "change.png", order)})
    for e in protocol.endpoint:
        if e.kind == "time_to_event":
            code, label = TTE_PARAMS[e.event]
            figs.append({"title": f"Kaplan-Meier: {e.name}",
                         "data": _km(tables["adtte"], code, label, out / "figures" / f"km_{code}.png", order)})
            if e.event in COMPETED_EVENTS:
                competing = " and ".join(TERMINAL_EVENTS)
                figs.append({"title": f"Cumulative incidence: {e.name} ({competing} competing)",
                             "data": _cif(tables["adtte"], code, f"{label}\ncumulative incidence, {competing} "
                                          "competing", out / "figures" / f"cif_{code}.png", order)})
    if not analysis["comparisons"].empty and analysis["comparisons"]["estimate"].notna().any():
        figs.append({"title": "Forest plot of arm comparisons",
                     "data": _forest(analysis["comparisons"], out / "figures" / "forest.png")})
    env = jinja2.Environment(loader=jinja2.PackageLoader("hepatwin", "report/templates"),
                             autoescape=jinja2.select_autoescape())
    arms = [{"name": a.name, "n": a.n, "control": a.control,
             "regimen": "; ".join(f"{r.cell_source} {r.dose:.3g} {r.dose_unit} {r.route} days "
                                  f"{', '.join(f'{d:g}' for d in r.days)}" for r in a.regimen) or
             "standard medical therapy only"} for a in protocol.arm]
    html = env.get_template("trial.html").render(
        title=protocol.name, description=protocol.description, reference=protocol.reference, file=protocol_file,
        disclaimer=DISCLAIMER, version=__version__, created=datetime.now(UTC).isoformat(timespec="seconds"),
        arms=arms, consort=_table(consort.drop(columns=["replicate"], errors="ignore")), consort_note=consort_note,
        screening=_table(screening),
        figures=figs, comparisons=_table(analysis["comparisons"]), survival=_table(analysis["survival"]),
        logrank=_table(analysis["logrank"]), cox=_table(analysis["cox"]),
        cif=_table(analysis.get("cumulative_incidence", pd.DataFrame())),
        competing=" and ".join(t.replace("_", " ") for t in TERMINAL_EVENTS),
        adverse=_table(analysis["adverse_events"]), trust=trust_section("trial"),
        visits=_table(analysis["visits"][["arm", "param", "visit_day", "n", "mean", "sd", "ci_low", "ci_high",
                                          "chg_mean", "chg_ci_low", "chg_ci_high", "chg_p"]]),
    )
    return write_text(out / "report.html", html)
