"""Matplotlib figures of labs, scores and MSC mechanisms, for one or several results."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

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


def plot_results(results: Sequence, labels: Sequence[str], out_dir: str | Path,
                 figures: Sequence[str] = tuple(PANELS)) -> dict[str, Path]:
    """One PNG per figure with each result overlaid; returns figure name -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for fig_name in figures:
        panels = PANELS[fig_name]
        fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), constrained_layout=True)
        for ax, (var, title) in zip(axes.flat, panels, strict=True):
            for res, label in zip(results, labels, strict=True):
                ds = res.dataset
                if var in ds:
                    ax.plot(ds["time"].values, ds[var].values, label=label, lw=1.6)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("study day")
            ax.grid(alpha=0.3)
            if var == "msc_total":
                ax.set_yscale("symlog", linthresh=1e5)
        axes.flat[0].legend(fontsize=8)
        fig.suptitle(f"hepatwin: {fig_name} (research simulation, not clinical advice)", fontsize=11)
        path = out / f"{fig_name}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
        plt.close(fig)
        written[fig_name] = path
    return written


def plot_result(result, out_dir: str | Path) -> dict[str, Path]:
    """Figures of one result."""
    return plot_results([result], [result.scenario.name], out_dir)
