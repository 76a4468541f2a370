"""Matplotlib figures of labs, scores and MSC mechanisms, for one or several results."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from ..io.atomic import atomic_path

#: figure name -> list of (variable, panel title)
PANELS: dict[str, list[tuple[str, str]]] = {
    "labs": [("Alb", "Albumin (g/L)"), ("PTA", "Prothrombin activity (%)"), ("INR", "INR"),
             ("Bil", "Bilirubin (µmol/L)"), ("Cr", "Creatinine (µmol/L)"), ("Na", "Sodium (mmol/L)")],
    "scores": [("child_pugh_points", "Child-Pugh points"), ("meld", "MELD"), ("meld_na", "MELD-Na"),
               ("meld_3", "MELD 3.0"), ("albi", "ALBI score"), ("survival", "Survival probability")],
    "liver": [("CPA", "CPA (%)"), ("HVPG", "HVPG (mmHg)"), ("H", "Hepatocyte mass (fraction)"),
              ("E", "Endothelial function"), ("Asc", "Ascites (L)"), ("A", "Activated HSC (fraction)")],
    "msc": [("msc_total", "Viable MSCs (cells)"), ("msc_sat", "MSC effect (0-1)"), ("e_im", "Immunomodulation"),
            ("IL8", "IL-8 (pg/mL)"), ("TNF", "TNF-α (pg/mL)"), ("IL10", "IL-10 (pg/mL)")],
}

#: outputs that only take whole numbers: drawn as steps with integer ticks, never as slopes
INTEGER_OUTPUTS = frozenset({"child_pugh_points", "meld", "meld_na", "meld_3", "ascites_grade", "he_grade",
                             "stage", "albi_grade"})

#: smallest y-axis span per output (its own unit): a change smaller than this is not clinically large and
#: must not fill the panel (a 1 mmol/L sodium drift drawn as a cliff)
MIN_SPAN: dict[str, float] = {
    "Alb": 10.0, "PTA": 20.0, "INR": 0.5, "Bil": 20.0, "Cr": 40.0, "Na": 10.0,
    "child_pugh_points": 4.0, "meld": 6.0, "meld_na": 6.0, "meld_3": 6.0, "ascites_grade": 3.0, "he_grade": 3.0,
    "stage": 4.0, "albi_grade": 2.0, "albi": 0.5, "survival": 0.2,
    "CPA": 5.0, "HVPG": 5.0, "H": 0.2, "E": 0.2, "A": 0.2, "Asc": 2.0,
    "msc_sat": 0.2, "e_im": 0.2, "IL8": 20.0, "IL6": 10.0, "TNF": 10.0, "IL10": 10.0,
}
#: outputs bounded above (probabilities, fractions): the widened axis does not pass the bound
_UPPER = {"survival": 1.0, "H": 1.0, "E": 1.0, "A": 1.0, "msc_sat": 1.0}


def is_integer_output(name: str) -> bool:
    """Whether `name` only takes whole numbers (scores, grades, stage)."""
    return name in INTEGER_OUTPUTS


def style_axis(ax, name: str, *, change: bool = False) -> None:
    """Integer ticks for integer outputs, and at least MIN_SPAN[name] of y axis (centred on the data; an
    axis of a non-negative value is not widened below 0 nor a probability above 1 unless `change`)."""
    if is_integer_output(name):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    span = MIN_SPAN.get(name)
    if span is None:
        return
    if np.diff(ax.get_ylim())[0] >= span:
        return
    lo, hi = ax.dataLim.intervaly        # the data's range: the axis's own margins are not bounds
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return
    mid = (lo + hi) / 2
    new_lo, new_hi = mid - span / 2, mid + span / 2
    if not change:
        if lo >= 0 > new_lo:
            new_lo, new_hi = 0.0, span
        top = _UPPER.get(name)
        if top is not None and hi <= top < new_hi:
            new_lo, new_hi = top - span, top
    ax.set_ylim(new_lo, new_hi)


def figure(results: Sequence, labels: Sequence[str], fig_name: str):
    """The 2 x 3 panels of figure `fig_name` with each result overlaid (a matplotlib Figure)."""
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), constrained_layout=True)
    for ax, (var, title) in zip(axes.flat, PANELS[fig_name], strict=True):
        for res, label in zip(results, labels, strict=True):
            ds = res.dataset
            if var in ds:
                # a score holds its value until the next change: a step, not a slope
                ax.plot(ds["time"].values, ds[var].values, label=label, lw=1.6,
                        drawstyle="steps-post" if is_integer_output(var) else "default")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("study day")
        ax.grid(alpha=0.3)
        if var == "msc_total":
            ax.set_yscale("symlog", linthresh=1e5)
        else:
            style_axis(ax, var)
    labelled = [ax for ax in axes.flat if ax.get_legend_handles_labels()[0]]
    if labelled:
        labelled[0].legend(fontsize=8)
    fig.suptitle(f"hepatwin: {fig_name} (research simulation, not clinical advice)", fontsize=11)
    return fig


def plot_results(results: Sequence, labels: Sequence[str], out_dir: str | Path,
                 figures: Sequence[str] = tuple(PANELS)) -> dict[str, Path]:
    """One PNG per figure with each result overlaid; returns figure name -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for fig_name in figures:
        fig = figure(results, labels, fig_name)
        path = out / f"{fig_name}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
        plt.close(fig)
        written[fig_name] = path
    return written


def plot_result(result, out_dir: str | Path) -> dict[str, Path]:
    """Figures of one result."""
    return plot_results([result], [result.scenario.name], out_dir)
