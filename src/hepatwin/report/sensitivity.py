"""Sensitivity and attribution reports: bar charts of Sobol/eFAST indices or Morris mu* with their 95% CIs, the
Morris mu*-sigma plane, Sobol convergence, indices over time, the Shapley split of the MSC effect between
mechanisms (stacked bars, waterfalls, per-patient spread), tables, and the research-use disclaimer.

Figures are PNG files under `figures/`, referenced from `report.html` by relative path: keep the folder with
the page."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import DISCLAIMER, __version__
from ..io.atomic import write_text
from .trial import QUANTITIES, _fmt, _save, _table

#: the index a method ranks parameters by, and its label
MAIN = {"sobol": "ST", "efast": "ST", "morris": "mu_star"}
LABELS = {"S1": "S1 (first order)", "ST": "ST (total order)", "mu_star": "μ*", "sigma": "σ", "mu": "μ"}
#: Okabe-Ito colours (readable with colour-blindness): mechanisms in their order
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
UP, DOWN, TOTAL = "#009E73", "#D55E00", "#555555"
TOP_BARS, TOP_TABLE, TOP_LABELS, TOP_CONVERGENCE, TOP_TIME = 15, 10, 10, 8, 6


# ---------------------------------------------------------------------------------------------- helpers


def _unit(output: str) -> str:
    """The unit of an output text (`change:Alb@85` -> g/L, `prob:death@730` -> probability), '' if unknown."""
    kind, _, rest = output.rpartition(":")
    if kind == "prob":
        return "probability"
    return QUANTITIES.get(rest.partition("@")[0], ("", ""))[1]


def _with_unit(label: str, unit: str) -> str:
    return f"{label} ({unit})" if unit else label


def _series_day(output: str) -> tuple[str, float]:
    """`change:Alb@85` -> ("change:Alb", 85.0); a text without a readable day is its own series."""
    series, at, day = output.rpartition("@")
    try:
        return (series, float(day)) if at else (output, math.nan)
    except ValueError:
        return output, math.nan


def _tidy(indices: pd.DataFrame) -> pd.DataFrame:
    """The indices with `series` and `day` (derived from the output text when the run did not add them)."""
    d = indices.copy()
    if "series" not in d or "day" not in d:
        parsed = [_series_day(str(o)) for o in d["output"]]
        d["series"] = [s for s, _ in parsed]
        d["day"] = [t for _, t in parsed]
    d["output"] = d["output"].astype(str)
    return d


class _Files:
    """Unique PNG file names under `figures/` (output texts hold ':' and '@', not wanted in file names)."""

    def __init__(self, out: Path):
        self.out, self.used = out, set()

    def save(self, fig, stem: str, name: str, title: str) -> dict:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{stem}_{name}").strip("_")
        base, k = slug, 2
        while slug in self.used:
            slug, k = f"{base}_{k}", k + 1
        self.used.add(slug)
        _save(fig, self.out / "figures" / f"{slug}.png")     # closes the figure
        return {"title": title, "src": f"figures/{slug}.png"}


def _note_if_flat(ax, values, what: str = "all zero") -> bool:
    """Write `what` across `ax` when no value is non-zero (so the figure still says something); True then."""
    v = np.asarray(values, dtype=float)
    if v.size and np.any(np.isfinite(v) & (v != 0)):
        return False
    undefined = v.size and not np.isfinite(v).any()      # e.g. Sobol indices of an output that did not vary
    ax.text(0.5, 0.5, "not defined (does the output vary?)" if undefined else what, transform=ax.transAxes,
            ha="center", va="center", fontsize=11, color="0.35")
    return True


def _pm(v: float, c: float) -> str:
    """'value ± conf' (the interval to 2 digits, as the command line prints it), or the value alone."""
    return f"{_fmt(v)} ± {c:.2g}" if np.isfinite(c) else _fmt(v)


def _wide(d: pd.DataFrame) -> pd.DataFrame:
    """One output's indices as one row per parameter (order of appearance): columns INDEX and INDEX_conf."""
    d = d.drop_duplicates(["parameter", "index"], keep="last")
    order = list(dict.fromkeys(d["parameter"]))
    v = d.pivot(index="parameter", columns="index", values="value")
    c = d.pivot(index="parameter", columns="index", values="conf").add_suffix("_conf")
    return v.join(c).reindex(order)


def _top(w: pd.DataFrame, col: str, k: int) -> pd.DataFrame:
    if col not in w:
        return w.iloc[:0]
    return w.sort_values(col, ascending=False, na_position="last", kind="stable").head(k)


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("hepatwin", "report/templates"),
                              autoescape=jinja2.select_autoescape())


def _run_rows(inputs: dict, extra: dict) -> list[tuple[str, str]]:
    """The run table: the caller's `inputs`, then what the result adds that they do not already name."""
    rows = [(str(k), str(v)) for k, v in inputs.items()]
    have = {k.lower() for k, _ in rows}
    return rows + [(k, v) for k, v in extra.items() if k.lower() not in have]


# ---------------------------------------------------------------------------------------------- sensitivity figures


def _bars_figure(w: pd.DataFrame, output: str, method: str):
    """Horizontal bars of the top parameters by the method's main index with 95% CIs: S1 and ST (Sobol, eFAST)
    or mu* (Morris)."""
    main = MAIN[method]
    top = _top(w, main, TOP_BARS)
    n = max(len(top), 1)
    fig, ax = plt.subplots(figsize=(7.5, 1.3 + 0.36 * n))
    y = np.arange(len(top))[::-1]                 # the largest at the top
    shown = ["S1", "ST"] if method != "morris" else ["mu_star"]
    h = 0.8 / len(shown)
    colours = {"S1": "#56B4E9", "ST": "#0072B2", "mu_star": "#0072B2"}
    values = []
    for k, idx in enumerate(shown):
        v = top[idx].to_numpy(float) if idx in top else np.full(len(top), np.nan)
        c = top[f"{idx}_conf"].to_numpy(float) if f"{idx}_conf" in top else np.full(len(top), np.nan)
        values.extend(v)
        # ST above S1 within a parameter's pair
        ax.barh(y + (k - (len(shown) - 1) / 2) * h, np.nan_to_num(v), height=h, color=colours[idx],
                xerr=np.nan_to_num(c), error_kw={"ecolor": "k", "capsize": 2, "lw": 0.8}, label=LABELS[idx])
    ax.set_yticks(y, list(top.index), fontsize=8)
    ax.set_ylim(-0.7, max(len(top), 1) - 0.3)
    ax.axvline(0, color="k", lw=0.6)
    unit = _unit(output)
    if method == "morris":
        ax.set_xlabel(_with_unit("μ*: mean |elementary effect| across the parameter's range, 95% CI", unit))
    else:
        ax.set_xlabel(f"{'Sobol' if method == 'sobol' else 'eFAST'} index (fraction of the variance of {output}), "
                      "95% CI")
    if _note_if_flat(ax, values):
        ax.set_xlim(0, 1)
    elif len(shown) > 1:
        ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"{_with_unit(output, unit)}: top {len(top)} of {len(w)} parameters by {LABELS[main]}",
                 fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.set_layout_engine("constrained")
    return fig


def _mu_sigma_figure(w: pd.DataFrame, output: str):
    """Morris plane: every parameter a point (mu*, sigma), the top ones by mu* named, sigma/mu* = 0.1 and 1
    dashed (below 0.1 nearly linear, above 1 strongly non-linear or interacting)."""
    fig, ax = plt.subplots(figsize=(7.0, 5.2))
    x = w["mu_star"].to_numpy(float) if "mu_star" in w else np.full(len(w), np.nan)
    s = w["sigma"].to_numpy(float) if "sigma" in w else np.full(len(w), np.nan)
    ax.scatter(np.nan_to_num(x), np.nan_to_num(s), s=22, color="#0072B2", zorder=3)
    xmax = float(np.nanmax(x)) if np.isfinite(x).any() else 0.0
    ymax = float(np.nanmax(s)) if np.isfinite(s).any() else 0.0
    xmax = xmax if xmax > 0 else 1.0
    line = np.array([0.0, 1.08 * xmax])
    for r, ls in ((0.1, "--"), (1.0, (0, (6, 3)))):
        ax.plot(line, r * line, ls=ls, color="0.4", lw=1.0, label=f"σ/μ* = {r:g}")
    if _note_if_flat(ax, np.concatenate([x, s])):
        ax.set_xlim(0, 1)        # every point at the origin: names there would only overprint each other
        ax.set_ylim(0, 1)
    else:
        for k, (name, row) in enumerate(_top(w, "mu_star", TOP_LABELS).iterrows()):
            # neighbours in rank are often neighbours on the plane: their names alternate above and below
            ax.annotate(str(name), (np.nan_to_num(row["mu_star"]), np.nan_to_num(row.get("sigma", 0.0))),
                        xytext=(4, 3 if k % 2 == 0 else -9), textcoords="offset points", fontsize=7)
        ax.set_xlim(0, 1.12 * xmax)
        ax.set_ylim(0, 1.15 * max(ymax, 0.1 * xmax))
    unit = _unit(output)
    ax.set_xlabel(_with_unit("μ*: mean |elementary effect|", unit))
    ax.set_ylabel(_with_unit("σ: spread of the elementary effects", unit))
    ax.set_title(f"{output}: Morris μ*-σ ({len(w)} parameters, top {min(TOP_LABELS, len(w))} by μ* named)",
                 fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    fig.set_layout_engine("constrained")
    return fig


def _convergence_figure(conv: pd.DataFrame, ranked: list[str], output: str):
    """ST at N/4, N/2 and N (log2 axis) with 95% CIs for the top parameters, each a little apart on x."""
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    ns = sorted({int(n) for n in conv["n"]})
    values = []
    for k, p in enumerate(ranked):
        g = conv[conv["parameter"] == p].sort_values("n")
        shift = 2 ** ((k - (len(ranked) - 1) / 2) * 0.025)   # so that the error bars do not hide each other
        ax.errorbar(g["n"].to_numpy(float) * shift, g["value"], yerr=np.nan_to_num(g["conf"].to_numpy(float)),
                    marker="o", ms=4, capsize=2, lw=1.2, color=PALETTE[k % len(PALETTE)], label=p)
        values.extend(g["value"])
    ax.set_xscale("log", base=2)
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.minorticks_off()
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel("base sample size N (log2 scale)")
    ax.set_ylabel("ST (total-order index), 95% CI")
    ax.set_title(f"{output}: convergence of ST, top {len(ranked)} parameters", fontsize=10)
    if not _note_if_flat(ax, values):
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="parameter")
    ax.grid(alpha=0.3)
    fig.set_layout_engine("constrained")
    return fig


def _time_figure(d: pd.DataFrame, series: str, method: str):
    """The main index against day for the series' top parameters (by their largest value over days), the 95%
    CI shaded."""
    main = MAIN[method]
    d = d[d["index"] == main].drop_duplicates(["parameter", "day"], keep="last")
    peak = d.groupby("parameter", sort=False)["value"].max().sort_values(ascending=False, kind="stable")
    ranked = list(peak.index[:TOP_TIME])
    fig, ax = plt.subplots(figsize=(7.8, 4.6))
    values = []
    for k, p in enumerate(ranked):
        g = d[d["parameter"] == p].sort_values("day")
        colour = PALETTE[k % len(PALETTE)]
        v, c = g["value"].to_numpy(float), g["conf"].to_numpy(float)
        ax.plot(g["day"], v, marker="o", ms=4, lw=1.6, color=colour, label=p)
        if np.isfinite(c).any():
            ax.fill_between(g["day"], v - np.nan_to_num(c), v + np.nan_to_num(c), color=colour, alpha=0.15)
        values.extend(v)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel("study day")
    unit = _unit(series)
    ax.set_ylabel(_with_unit(LABELS[main], unit if method == "morris" else "") + ", 95% CI shaded")
    ax.set_title(f"{_with_unit(series, unit)}: {LABELS[main]} over time, top {len(ranked)} parameters",
                 fontsize=10)
    if not _note_if_flat(ax, values):
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="parameter")
    ax.grid(alpha=0.3)
    fig.set_layout_engine("constrained")
    return fig


def _top_table(w: pd.DataFrame, method: str) -> dict:
    """The top parameters by the main index: value ± 95% CI half-width."""
    shown = ["S1", "ST"] if method != "morris" else ["mu_star", "sigma", "mu"]
    top = _top(w, MAIN[method], TOP_TABLE)
    rows = []
    for rank, (name, r) in enumerate(top.iterrows(), start=1):
        rows.append({"rank": rank, "parameter": str(name),
                     **{LABELS[i]: _pm(r.get(i, math.nan), r.get(f"{i}_conf", math.nan)) for i in shown}})
    return _table(pd.DataFrame(rows, columns=["rank", "parameter", *(LABELS[i] for i in shown)]))


def sensitivity_report(res: dict, out_dir: str | Path, *, title: str, inputs: dict) -> Path:
    """Write `report.html` (figures in `figures/`) of `res` from `hepatwin.sensitivity.run.run_sensitivity`;
    `inputs` are the run's settings shown in its table (name -> text). Returns the page's path."""
    out = Path(out_dir)
    files = _Files(out)
    method = str(res["method"])
    d = _tidy(res["indices"])
    conv = res.get("convergence")
    # a series measured on several days: one figure over time, and the per-output charts of its last day only
    days = d.dropna(subset=["day"]).groupby("series", sort=False)["day"].unique()
    multi = {s: sorted(float(t) for t in v) for s, v in days.items() if len(v) > 1}
    over_time = []
    for s, ds in multi.items():
        fig = files.save(_time_figure(d[d["series"] == s], s, method), "over_time", s,
                         f"{s}: {LABELS[MAIN[method]]} over time")
        over_time.append({"series": s, "days": ", ".join(f"{t:g}" for t in ds), "last": f"{ds[-1]:g}",
                          "figure": fig})
    sections = []
    for output, g in d.groupby("output", sort=False):
        series, day = g["series"].iloc[0], float(g["day"].iloc[0])
        if series in multi and day != multi[series][-1]:
            continue
        w = _wide(g)
        figs = [files.save(_bars_figure(w, output, method), "indices", output,
                           f"{output}: {'μ*' if method == 'morris' else 'S1 and ST'} of the top parameters")]
        if method == "morris":
            figs.append(files.save(_mu_sigma_figure(w, output), "mu_sigma", output, f"{output}: Morris μ*-σ"))
        if method == "sobol" and conv is not None and not conv.empty:
            c = conv[conv["output"].astype(str) == output]
            if not c.empty:
                ranked = [p for p in _top(w, "ST", TOP_CONVERGENCE).index if p in set(c["parameter"])]
                figs.append(files.save(_convergence_figure(c, ranked, output), "convergence", output,
                                       f"{output}: convergence of ST"))
        note = (f"Last day of {series} (days {', '.join(f'{t:g}' for t in multi[series])}); the earlier days are "
                "in the figure over time above." if series in multi else "")
        sections.append({"output": output, "unit": _unit(output), "note": note, "figures": figs,
                         "table": _top_table(w, method)})
    parameters = d["parameter"].nunique()
    extra = {"method": method, "N": str(res.get("n", "")), "parameters": str(parameters),
             "simulations": str(res.get("simulations", "")),
             "time": f"{float(res.get('seconds', math.nan)):.1f} s"}
    html = _env().get_template("sensitivity.html").render(
        title=title, disclaimer=DISCLAIMER, version=__version__,
        created=datetime.now(UTC).isoformat(timespec="seconds"), method=method,
        run=_run_rows(inputs, extra), warnings=[str(w) for w in res.get("warnings") or []],
        over_time=over_time, sections=sections, main=LABELS[MAIN[method]],
    )
    return write_text(out / "report.html", html)


# ---------------------------------------------------------------------------------------------- attribution figures


def _colours(mechanisms: list[str]) -> dict[str, str]:
    return {m: PALETTE[k % len(PALETTE)] for k, m in enumerate(mechanisms)}


def _stacked_figure(endpoints: dict, mechanisms: list[str]):
    """One bar per endpoint: its shares as fractions of |total|, positive ones stacked right of 0 and negative
    ones left, the total written at the bar's end. A total of ~0 (shares cancelling) is split by sum |share|."""
    names = list(endpoints)
    colours = _colours(mechanisms)
    fig, ax = plt.subplots(figsize=(9.0, 1.5 + 0.55 * max(len(names), 1)))
    right_end, left_end = 0.0, 0.0
    for row, name in enumerate(names):
        y = len(names) - 1 - row
        e = endpoints[name]
        total = float(e["total"])
        shares = {m: float(e["shares"].get(m, 0.0)) for m in mechanisms}
        spread = sum(abs(v) for v in shares.values())
        scale = abs(total) if abs(total) > 1e-9 * spread and total != 0 else spread
        pos = neg = 0.0
        for m in mechanisms:
            f = shares[m] / scale if scale else 0.0
            if f >= 0:
                ax.barh(y, f, left=pos, color=colours[m], height=0.6, label=m if row == 0 else None)
                pos += f
            else:
                ax.barh(y, f, left=neg, color=colours[m], height=0.6, label=m if row == 0 else None)
                neg += f
        unit = _unit(name)
        text = f"total {_fmt(total)}{' ' + unit if unit else ''}"
        if not spread:
            text += " (no effect)"
        elif scale != abs(total):
            text += " (shares cancel: fractions of Σ|share|)"
        ax.text(pos + 0.02, y, text, va="center", fontsize=8)
        right_end, left_end = max(right_end, pos), min(left_end, neg)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(range(len(names))[::-1], names, fontsize=9)
    ax.set_ylim(-0.7, max(len(names), 1) - 0.3)
    # room on the right for the totals' text
    ax.set_xlim(min(left_end, 0.0) - 0.05, max(right_end, 1.0) + 0.75)
    ax.set_xlabel("share of the total MSC effect (fraction of |total|; negative: against the total)")
    ax.set_title("MSC effect by mechanism (Shapley shares)", fontsize=10)
    if not names:
        _note_if_flat(ax, [], "no endpoint")
    else:
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16 if len(names) > 2 else -0.3),
                  ncol=min(len(mechanisms), 5), title="mechanism", frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.set_layout_engine("constrained")
    return fig


def _waterfall_figure(name: str, e: dict, mechanisms: list[str]):
    """From 0 ("no MSC effect") one step per mechanism (green up, red down) to the total bar, each labelled."""
    labels = ["no MSC effect", *mechanisms, "total"]
    fig, ax = plt.subplots(figsize=(2.0 + 1.05 * len(labels), 4.6))
    shares = [float(e["shares"].get(m, 0.0)) for m in mechanisms]
    total = float(e["total"])
    ax.hlines(0, -0.4, 0.4, color=TOTAL, lw=3)      # the start: a bar of height 0
    span = max([abs(total), *(abs(v) for v in shares), sum(abs(v) for v in shares)]) or 1.0
    pad = 0.015 * span
    level = 0.0
    for k, v in enumerate(shares, start=1):
        ax.bar(k, v, bottom=level, width=0.7, color=UP if v > 0 else DOWN if v < 0 else "0.6",
               edgecolor="k", lw=0.4)
        ax.plot([k - 1 + 0.35 if k > 1 else 0.4, k - 0.35], [level, level], color="0.5", ls=":", lw=1)
        top = level + v
        ax.text(k, (max(level, top) + pad) if v >= 0 else (min(level, top) - pad), f"{v:+.3g}", ha="center",
                va="bottom" if v >= 0 else "top", fontsize=8)
        level = top
    k = len(labels) - 1
    ax.plot([k - 1 + 0.35, k - 0.35], [level, level], color="0.5", ls=":", lw=1)
    ax.bar(k, total, width=0.7, color=TOTAL, edgecolor="k", lw=0.4)
    ax.text(k, total + pad if total >= 0 else total - pad, f"{total:+.3g}", ha="center",
            va="bottom" if total >= 0 else "top", fontsize=8, fontweight="bold")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(range(len(labels)), labels, rotation=25, ha="right", fontsize=8)
    ax.set_ylabel(_with_unit(f"MSC effect on {name}", _unit(name)))
    if _note_if_flat(ax, [total, *shares]):
        ax.set_ylim(-1, 1)
    else:
        lo = min(0.0, total, *np.cumsum(shares))
        hi = max(0.0, total, *np.cumsum(shares))
        ax.set_ylim(lo - 0.12 * span, hi + 0.12 * span)     # room for the labels
    ax.set_title(f"{name}: from no MSC effect to the total, one mechanism at a time", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.set_layout_engine("constrained")
    return fig


def _patients_figure(name: str, g: pd.DataFrame, mechanisms: list[str]):
    """Per-patient shares by mechanism (and the total) as boxes with every patient a point."""
    colours = _colours(mechanisms)
    groups = [(m, g.loc[g["mechanism"] == m, "share"].to_numpy(float)) for m in mechanisms]
    totals = g.drop_duplicates("patient")["total"].to_numpy(float)
    groups = [(m, v) for m, v in groups if v.size] + [("total", totals)]
    fig, ax = plt.subplots(figsize=(2.0 + 1.05 * len(groups), 4.6))
    ax.boxplot([v for _, v in groups], positions=range(len(groups)), widths=0.55, showfliers=False,
               medianprops={"color": "k"})
    rng = np.random.default_rng(0)      # the same jitter on every run: reproducible figures
    for k, (m, v) in enumerate(groups):
        ax.scatter(k + rng.uniform(-0.15, 0.15, v.size), v, s=14, alpha=0.75, zorder=3,
                   color=colours.get(m, TOTAL))
    ax.axhline(0, color="k", lw=0.8)
    ax.axvline(len(groups) - 1.5, color="0.6", lw=0.8, ls=":")
    ax.set_xticks(range(len(groups)), [m for m, _ in groups], rotation=25, ha="right", fontsize=8)
    ax.set_ylabel(_with_unit(f"share of the MSC effect on {name}", _unit(name)))
    _note_if_flat(ax, np.concatenate([v for _, v in groups]))
    ax.set_title(f"{name}: shares across {g['patient'].nunique()} patients", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.set_layout_engine("constrained")
    return fig


def _iqr(v: np.ndarray) -> tuple[str, str]:
    """(median, 'Q1 to Q3') of `v` as text."""
    if not v.size:
        return "–", "–"
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return _fmt(float(med)), f"{_fmt(float(q1))} to {_fmt(float(q3))}"


def attribution_report(res: dict, out_dir: str | Path, *, title: str, inputs: dict,
                       per_patient: pd.DataFrame | None = None) -> Path:
    """Write `report.html` (figures in `figures/`) of `res` from `hepatwin.sensitivity.attribution`
    ({"endpoints": {NAME: {"total", "shares"}}, "mechanisms", "runs"}); `per_patient` (patient, output,
    mechanism, share, total) adds the spread across patients. Returns the page's path."""
    out = Path(out_dir)
    files = _Files(out)
    endpoints = res["endpoints"]
    mechanisms = list(res["mechanisms"])
    if per_patient is not None:
        per_patient = per_patient.assign(output=per_patient["output"].astype(str),
                                         mechanism=per_patient["mechanism"].astype(str))
        mechanisms += [m for m in dict.fromkeys(per_patient["mechanism"]) if m not in mechanisms]
    figures = [files.save(_stacked_figure(endpoints, mechanisms), "shares", "all",
                          "Shares of the total MSC effect, all endpoints")]
    names = list(endpoints)
    if per_patient is not None:
        names += [o for o in dict.fromkeys(per_patient["output"]) if o not in endpoints]
    per_endpoint = []
    rows = []
    for name in names:
        figs = []
        if name in endpoints:
            e = endpoints[name]
            figs.append(files.save(_waterfall_figure(name, e, mechanisms), "waterfall", name,
                                   f"{name}: waterfall of the MSC effect"))
            shares = [float(e["shares"].get(m, math.nan)) for m in mechanisms]
            total = float(e["total"])
            rows.append([name, "this run", *shares, total, float(np.nansum(shares)) - total])
        if per_patient is not None:
            g = per_patient[per_patient["output"] == name]
            if not g.empty:
                figs.append(files.save(_patients_figure(name, g, mechanisms), "per_patient", name,
                                       f"{name}: shares across patients"))
                stats = [_iqr(g.loc[g["mechanism"] == m, "share"].to_numpy(float)) for m in mechanisms]
                totals = g.drop_duplicates("patient")["total"].to_numpy(float)
                sums = g.groupby("patient")["share"].sum() - g.groupby("patient")["total"].first()
                n = g["patient"].nunique()
                rows.append([name, f"median of {n} patients", *(s[0] for s in stats), _iqr(totals)[0],
                             # medians do not add up; the check is the largest per-patient gap
                             f"max |gap| {_fmt(float(sums.abs().max()))}"])
                rows.append([name, "interquartile range", *(s[1] for s in stats), _iqr(totals)[1], "–"])
        per_endpoint.append({"name": name, "figures": figs})
    columns = ["endpoint", "statistic", *mechanisms, "total", "sum of shares − total"]
    table = pd.DataFrame(rows, columns=columns)
    if per_patient is None:
        table = table.drop(columns="statistic")
    extra = {"mechanisms": ", ".join(mechanisms), "knock-out runs": str(res.get("runs", ""))}
    if per_patient is not None:
        extra["patients"] = str(per_patient["patient"].nunique())
    html = _env().get_template("attribution.html").render(
        title=title, disclaimer=DISCLAIMER, version=__version__,
        created=datetime.now(UTC).isoformat(timespec="seconds"), run=_run_rows(inputs, extra),
        figures=figures, endpoints=per_endpoint, table=_table(table), left=2 if per_patient is not None else 1,
        patients=per_patient is not None,
    )
    return write_text(out / "report.html", html)
