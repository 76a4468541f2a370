"""Sensitivity and attribution reports from hand-made results: the page names the top parameters, mechanisms,
warnings and disclaimer; every figure it shows exists and is not blank; the method's own figures are there."""

from __future__ import annotations

import html
import re
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from hepatwin import DISCLAIMER
from hepatwin.report.sensitivity import attribution_report, sensitivity_report

PARAMS = [f"par_{k:02d}" for k in range(20)]    # no name inside another
WARNING = "change:Alb@85: ST of par_03 moved 0.2 -> 0.4 from N = 128 to 256: not converged"
MECHANISMS = ["immunomodulation", "anti_fibrosis", "regeneration", "microcirculation", "anti_cell_death"]


def _sobol_like(outputs: dict[str, np.ndarray], indices=("S1", "ST")) -> pd.DataFrame:
    """Tidy indices: `outputs` maps output text -> the main index of each parameter; S1 = 0.7 ST."""
    rows = []
    for out, st in outputs.items():
        series, _, day = out.rpartition("@")
        for p, v in zip(PARAMS, st, strict=True):
            for idx in indices:
                rows.append({"output": out, "parameter": p, "index": idx, "value": v * (0.7 if idx == "S1" else 1),
                             "conf": 0.1 * v + 0.01, "series": series, "day": float(day)})
    return pd.DataFrame(rows)


def _ranking(shift: int) -> np.ndarray:
    """Decreasing indices over PARAMS rolled by `shift` (par_19 last when shift = 0)."""
    return np.roll(np.linspace(0.6, 0.0, len(PARAMS)), shift)


def _pages(path: Path) -> tuple[str, list[Path]]:
    text = path.read_text(encoding="utf-8")
    srcs = re.findall(r'<img src="([^"]+)"', text)
    return text, [path.parent / s for s in srcs]


def _check_figures(files: list[Path]) -> None:
    assert files
    for f in files:
        assert f.is_file(), f
        assert f.suffix == ".png" and f.read_bytes()[:4] == b"\x89PNG", f
        img = mpimg.imread(f)
        assert img.ndim == 3 and img[..., :3].std() > 0.01, f"blank figure {f}"


@pytest.fixture(scope="module")
def sobol_page(tmp_path_factory):
    out = tmp_path_factory.mktemp("sobol")
    ind = _sobol_like({"change:Alb@29": _ranking(2), "change:Alb@85": _ranking(0), "prob:death@730": _ranking(5),
                       "Na@85": np.zeros(len(PARAMS))})
    conv = []
    for o in ("change:Alb@85", "prob:death@730"):
        st = ind[(ind["output"] == o) & (ind["index"] == "ST")]
        for n, wobble in ((64, 0.05), (128, 0.02), (256, 0.0)):
            conv.append(pd.DataFrame({"output": o, "parameter": st["parameter"], "n": n,
                                      "value": st["value"] + wobble, "conf": 0.03}))
    res = {"method": "sobol", "n": 256, "simulations": 256 * 42, "seconds": 12.5, "warnings": [WARNING],
           "indices": ind, "convergence": pd.concat(conv, ignore_index=True)}
    page = sensitivity_report(res, out, title="demo sobol", inputs={"scenario": "demo.toml", "seed": "0"})
    return page, res


def test_sobol_page_shows_top_parameters_warnings_and_disclaimer(sobol_page):
    page, _ = sobol_page
    text, files = _pages(page)
    plain = html.unescape(text)
    assert page.name == "report.html"
    assert DISCLAIMER in plain and WARNING in plain and "demo.toml" in plain
    for p in PARAMS[:10]:          # the top 10 of change:Alb@85 by ST are in its table
        assert p in text
    # par_19 is last in every output shown; its ST is not in any top-10 table (day 29 is not shown)
    assert "par_19" not in text
    # the table lists the top of change:Alb@85 in order, value ± CI
    section = text.split("<h3>change:Alb@85")[1].split("<h3>")[0]
    assert re.findall(r"par_\d\d", section) == PARAMS[:10]
    assert "0.6 ± 0.07" in section
    _check_figures(files)


def test_sobol_figures_convergence_time_and_last_day_only(sobol_page):
    page, _ = sobol_page
    text, files = _pages(page)
    names = {f.name for f in files}
    fig = page.parent / "figures"
    assert {"indices_change_Alb_85.png", "convergence_change_Alb_85.png", "over_time_change_Alb.png",
            "indices_prob_death_730.png", "convergence_prob_death_730.png", "indices_Na_85.png"} <= names
    # a two-day series: bars for its last day only, the page says so; one-day outputs have no time figure
    assert not (fig / "indices_change_Alb_29.png").exists()
    assert "Last day of change:Alb" in text
    assert not any(n.startswith("over_time_prob") for n in names)
    assert not any(n.startswith("mu_sigma") for n in names)
    # no convergence data for Na@85: no convergence figure; every written figure is on the page
    assert "convergence_Na_85.png" not in names
    assert {p.name for p in fig.glob("*.png")} == names


def test_morris_page_has_the_mu_sigma_plane(tmp_path):
    ind = _sobol_like({"change:PTA@85": _ranking(3)}, indices=("mu_star", "sigma", "mu"))
    ind.loc[ind["index"] != "mu_star", "conf"] = np.nan
    res = {"method": "morris", "n": 20, "simulations": 420, "seconds": 3.0, "warnings": [], "indices": ind,
           "convergence": None}
    page = sensitivity_report(res, tmp_path, title="demo morris", inputs={"method": "morris"})
    text, files = _pages(page)
    names = {f.name for f in files}
    assert names == {"indices_change_PTA_85.png", "mu_sigma_change_PTA_85.png"}
    assert "<h2>Warnings</h2>\n<p>none</p>" in text
    section = text.split("<h3>change:PTA@85")[1]
    assert re.findall(r"par_\d\d", section)[:10] == PARAMS[3:13]     # the largest mu* rolled to par_03
    assert "μ*" in text and "σ" in text
    _check_figures(files)


def test_efast_page_and_a_two_day_series(tmp_path):
    ind = _sobol_like({"Alb@29": _ranking(0), "Alb@85": _ranking(1)})
    res = {"method": "efast", "n": 65, "simulations": 1300, "seconds": 1.0, "warnings": [], "indices": ind,
           "convergence": None}
    page = sensitivity_report(res, tmp_path, title="demo efast", inputs={})
    text, files = _pages(page)
    assert {f.name for f in files} == {"over_time_Alb.png", "indices_Alb_85.png"}
    assert "eFAST" in text
    _check_figures(files)


def test_indices_without_series_columns_are_split_from_the_output_text(tmp_path):
    ind = _sobol_like({"IL8@29": _ranking(0), "IL8@85": _ranking(1)}).drop(columns=["series", "day"])
    res = {"method": "sobol", "n": 8, "simulations": 8, "seconds": 0.1, "warnings": [], "indices": ind,
           "convergence": None}
    _, files = _pages(sensitivity_report(res, tmp_path, title="t", inputs={}))
    assert {f.name for f in files} == {"over_time_IL8.png", "indices_IL8_85.png"}


# ---------------------------------------------------------------------------------------------- attribution


def _attribution() -> dict:
    shares = {"change:Alb@85": [2.0, -0.5, 1.0, 0.25, 0.05], "change:IL8@85": [-30.0, 4.0, -1.0, 0.0, 2.0],
              "Na@85": [0.0] * 5}
    return {"endpoints": {k: {"total": float(sum(v)), "shares": dict(zip(MECHANISMS, v, strict=True))}
                          for k, v in shares.items()},
            "mechanisms": MECHANISMS, "runs": 32}


def _per_patient() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for patient in range(5):
        for out in ("change:Alb@85", "change:IL8@85"):
            shares = rng.normal(0, 1, len(MECHANISMS))
            rows += [{"patient": patient, "output": out, "mechanism": m, "share": s, "total": shares.sum()}
                     for m, s in zip(MECHANISMS, shares, strict=True)]
    return pd.DataFrame(rows)


def _check_column(text: str) -> dict[str, str]:
    """endpoint -> its 'sum of shares − total' cell on the 'this run' rows (or the only rows)."""
    table = text.split("<h2>Shares by endpoint</h2>")[1].split("</table>")[0]
    head = [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table)]
    col = head.index("sum of shares − total")
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
        cells = [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        if "statistic" not in head or cells[head.index("statistic")] == "this run":
            out[cells[0]] = cells[col]
    return out


def test_attribution_page_figures_and_check_column(tmp_path):
    res = _attribution()
    page = attribution_report(res, tmp_path, title="demo attribution", inputs={"scenario": "msc.toml"})
    text, files = _pages(page)
    assert DISCLAIMER in html.unescape(text)
    for m in MECHANISMS:
        assert m in text
    assert {f.name for f in files} == {"shares_all.png", "waterfall_change_Alb_85.png",
                                       "waterfall_change_IL8_85.png", "waterfall_Na_85.png"}
    checks = _check_column(text)
    assert set(checks) == set(res["endpoints"])
    assert all(abs(float(v)) < 1e-9 for v in checks.values())
    assert "−25" in text or "-25" in text     # the IL-8 total
    _check_figures(files)


def test_attribution_check_column_shows_a_gap(tmp_path):
    res = _attribution()
    res["endpoints"]["change:Alb@85"]["total"] += 0.5     # shares no longer add up to the total
    checks = _check_column(attribution_report(res, tmp_path, title="t", inputs={}).read_text(encoding="utf-8"))
    assert float(checks["change:Alb@85"]) == pytest.approx(-0.5)


def test_attribution_per_patient_boxes_and_quartiles(tmp_path):
    pp = _per_patient()
    page = attribution_report(_attribution(), tmp_path, title="t", inputs={}, per_patient=pp)
    text, files = _pages(page)
    names = {f.name for f in files}
    assert {"per_patient_change_Alb_85.png", "per_patient_change_IL8_85.png"} <= names
    assert "per_patient_Na_85.png" not in names
    assert "median of 5 patients" in text and "interquartile range" in text
    v = pp[(pp["output"] == "change:IL8@85") & (pp["mechanism"] == "regeneration")]["share"]
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    assert f"{med:.3g}" in text and f"{q1:.3g} to {q3:.3g}" in text
    assert all(abs(float(x)) < 1e-9 for x in _check_column(text).values())
    _check_figures(files)
