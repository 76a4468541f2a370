"""Trial report: CONSORT counts, lab trajectories by arm with CIs, Kaplan-Meier curves, forest plot,
adverse-event tables, and the research-use disclaimer."""

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

LABELS = {"Alb": "Albumin (g/L)", "PTA": "Prothrombin activity (%)", "Bil": "Bilirubin (umol/L)",
          "IL8": "IL-8 (pg/mL)", "meld": "MELD", "child_pugh_points": "Child-Pugh points", "INR": "INR",
          "Cr": "Creatinine (umol/L)", "Na": "Sodium (mmol/L)", "meld_na": "MELD-Na", "albi": "ALBI",
          "Asc": "Ascites (L)", "HVPG": "HVPG (mmHg)", "CPA": "CPA (%)", "IL6": "IL-6 (pg/mL)",
          "TNF": "TNF-a (pg/mL)", "IL10": "IL-10 (pg/mL)", "meld_3": "MELD 3.0"}


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
    n = len(params)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.3 * rows), squeeze=False)
    for ax, p in zip(axes.flat, params, strict=False):
        d = visits[visits["param"] == p]
        for arm in arms:
            g = d[d["arm"] == arm]
            m, lo, hi = (("chg_mean", "chg_ci_low", "chg_ci_high") if change else ("mean", "ci_low", "ci_high"))
            ax.plot(g["visit_day"], g[m], marker="o", label=str(arm))
            ax.fill_between(g["visit_day"], g[lo], g[hi], alpha=0.15)
        if change:
            ax.axhline(0, color="k", lw=0.6)
        ax.set_title(("change in " if change else "") + LABELS.get(p, p), fontsize=10)
        ax.set_xlabel("study day")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def _km(curves: dict[str, pd.DataFrame], title: str, path: Path) -> str:
    fig, ax = plt.subplots(figsize=(6, 4))
    for arm, c in curves.items():
        ax.step(c["day"], c["survival"], where="post", label=arm)
        ax.fill_between(c["day"], c["ci_low"], c["ci_high"], step="post", alpha=0.12)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("study day")
    ax.set_ylabel("probability")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _forest(comps: pd.DataFrame, path: Path) -> str:
    d = comps.dropna(subset=["estimate"]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(d), 2) + 1.2))
    y = range(len(d))[::-1]
    for yi, (_, r) in zip(y, d.iterrows(), strict=True):
        ax.plot([r["ci_low"], r["ci_high"]], [yi, yi], color="C0")
        ax.plot(r["estimate"], yi, "s", color="C0")
    ax.axvline(0, color="k", lw=0.6)
    ax.set_yticks(list(y), [f"{r.endpoint} day {r.visit_day:g}: {r.arm} vs {r.reference}" for r in d.itertuples()],
                  fontsize=8)
    ax.set_xlabel("adjusted difference (ANCOVA on baseline), 95% CI")
    return _save(fig, path)


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
                 tables: dict[str, pd.DataFrame], out_dir: str | Path, protocol_file: str = "") -> Path:
    """Write `report.html` with its figures under `figures/`."""
    from ..trial.analysis import km_curves
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
            figs.append({"title": f"Kaplan-Meier: {e.name}", "data": _km(km_curves(tables["adtte"], code), label,
                                                                          out / "figures" / f"km_{code}.png")})
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
        arms=arms, consort=_table(consort.drop(columns=["replicate"])), screening=_table(screening),
        figures=figs, comparisons=_table(analysis["comparisons"]), survival=_table(analysis["survival"]),
        logrank=_table(analysis["logrank"]), cox=_table(analysis["cox"]),
        adverse=_table(analysis["adverse_events"]),
        visits=_table(analysis["visits"][["arm", "param", "visit_day", "n", "mean", "sd", "ci_low", "ci_high",
                                          "chg_mean", "chg_ci_low", "chg_ci_high", "chg_p"]]),
    )
    return write_text(out / "report.html", html)
