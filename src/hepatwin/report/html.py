"""HTML report comparing scenarios: labs and scores at visit days, trajectories, disclaimer."""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from .. import DISCLAIMER, __version__
from ..io.atomic import write_text
from .plots import PANELS, plot_results
from .trust import trust_section

#: rows of the visit table: (variable, label)
TABLE_ROWS = [
    ("Alb", "Albumin"), ("PTA", "Prothrombin activity"), ("INR", "INR"), ("Bil", "Bilirubin"),
    ("Cr", "Creatinine"), ("Na", "Sodium"), ("ascites_grade", "Ascites grade"), ("he_grade", "Encephalopathy grade"),
    ("HVPG", "HVPG"), ("CPA", "CPA"), ("stage", "Fibrosis stage (METAVIR-like)"), ("IL8", "IL-8"),
    ("child_pugh_points", "Child-Pugh points"), ("child_pugh_class", "Child-Pugh class"), ("meld", "MELD"),
    ("meld_na", "MELD-Na"), ("meld_3", "MELD 3.0"), ("albi", "ALBI score"), ("albi_grade", "ALBI grade"),
    ("survival", "Survival probability"),
]


def _fmt(v) -> str:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.4g}"


def compare_report(results: Sequence, files: Sequence[str], out_dir: str | Path,
                   days: Sequence[float] = (0, 29, 57, 85, 169), title: str | None = None) -> Path:
    """Write `report.html` (with its PNG figures in `figures/`) comparing `results`."""
    out = Path(out_dir)
    names = [r.scenario.name for r in results]
    figs = plot_results(results, names, out / "figures")
    tables = []
    for day in days:
        rows = []
        for var, label in TABLE_ROWS:
            vals = []
            for r in results:
                ds = r.dataset
                if var in ds and day in ds["time"].values:
                    vals.append(ds[var].sel(time=day).item())
                else:
                    vals.append(None)
            unit = results[0].dataset[var].attrs.get("units", "") if var in results[0].dataset else ""
            diff = ""
            if len(vals) == 2 and all(isinstance(v, float) and not math.isnan(v) for v in vals):
                diff = f"{vals[1] - vals[0]:+.3g}"
            rows.append({"label": label, "unit": "" if unit == "1" else unit, "cells": [_fmt(v) for v in vals],
                         "diff": diff})
        tables.append({"day": f"{day:g}", "rows": rows})
    figures = [{"title": k, "data": base64.b64encode(p.read_bytes()).decode()} for k, p in figs.items()
               if k in PANELS]
    risks = {"death": lambda ds: 1 - ds["survival"].values[-1],
             "variceal bleeding": lambda ds: 1 - math.exp(-ds["CH_vb"].values[-1]),
             "HCC": lambda ds: 1 - math.exp(-ds["CH_hcc"].values[-1])}
    timelines = [{"name": r.scenario.name,
                  "entries": [{"day": f"{e['day']:g}", "what": e["what"], "kind": e["kind"]} for e in r.timeline()],
                  "risks": [f"{100 * f(r.dataset):.1f}%" if r.ok else "-" for f in risks.values()],
                  "last_day": f"{float(r.dataset['time'].values[-1]):g}"}
                 for r in results]
    env = jinja2.Environment(loader=jinja2.PackageLoader("hepatwin", "report/templates"),
                             autoescape=jinja2.select_autoescape())
    html = env.get_template("compare.html").render(
        title=title or " vs ".join(names), disclaimer=DISCLAIMER, version=__version__,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        scenarios=[{"name": r.scenario.name, "file": f, "description": r.scenario.description,
                    "status": r.status, "message": r.message} for r, f in zip(results, files, strict=True)],
        tables=tables, figures=figures, trust=trust_section("compare"), timelines=timelines, risk_names=list(risks),
    )
    return write_text(out / "report.html", html)
