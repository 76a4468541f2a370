"""Pictures and reports that do not mislead (issue 18, items 8-13): score steps and integer ticks, minimum
axis spans, one unit per forest panel, Kaplan-Meier censoring marks and numbers at risk, a readable power
plot, scale bars and captions on tissue pictures, and the validation status in the HTML reports."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]


def _integer_ticks(ax) -> bool:
    lo, hi = ax.get_ylim()
    ticks = [t for t in ax.get_yticks() if lo - 1e-9 <= t <= hi + 1e-9]
    return len(ticks) >= 2 and all(abs(t - round(t)) < 1e-9 for t in ticks)


def _fake_result(name: str, meld_shift: int = 0):
    t = np.arange(0.0, 170.0, 1.0)
    meld = np.where(t < 60, 11.0, 12.0) + meld_shift          # one step up on day 60
    ds = xr.Dataset({
        "meld": ("time", meld), "meld_na": ("time", meld + 1), "meld_3": ("time", meld + 2),
        "child_pugh_points": ("time", np.where(t < 100, 8.0, 7.0)), "albi": ("time", -1.6 + 0.001 * t),
        "survival": ("time", 1 - 0.0002 * t), "Na": ("time", 135.0 + t / 170),   # 1 mmol/L drift
        "Alb": ("time", 30.0 + 0.5 * t / 170), "PTA": ("time", 60 + 0.01 * t), "INR": ("time", 1.5 + 0 * t),
        "Bil": ("time", 30 + 0.01 * t), "Cr": ("time", 80 + 0.01 * t),
        "CH_vb": ("time", 1e-4 * t), "CH_hcc": ("time", 5e-5 * t),
    }, coords={"time": t})
    return SimpleNamespace(dataset=ds, scenario=SimpleNamespace(name=name), ok=True,
                           timeline=lambda: [{"day": 1.0, "what": "UC-MSC", "kind": "planned"}])


def _axis(fig, title: str):
    (ax,) = [a for a in fig.axes if a.get_title() == title]
    return ax


def test_score_panels_are_steps_with_integer_ticks_and_small_changes_are_not_magnified():
    from hepatwin.report.plots import MIN_SPAN, figure

    res = [_fake_result("untreated"), _fake_result("msc", 1)]
    scores = figure(res, ["untreated", "msc"], "scores")
    for title in ("MELD", "MELD-Na", "MELD 3.0", "Child-Pugh points"):
        ax = _axis(scores, title)
        assert all(line.get_drawstyle() == "steps-post" for line in ax.get_lines()), title
        assert _integer_ticks(ax), (title, list(ax.get_yticks()))
        assert np.diff(ax.get_ylim())[0] >= MIN_SPAN["meld" if "MELD" in title else "child_pugh_points"] - 1e-9
    assert all(line.get_drawstyle() == "default" for line in _axis(scores, "ALBI score").get_lines())
    assert _axis(scores, "Survival probability").get_ylim()[1] <= 1.0 + 1e-9     # widened, not past 1
    labs = figure(res, ["untreated", "msc"], "labs")
    for title, key in (("Sodium (mmol/L)", "Na"), ("Albumin (g/L)", "Alb")):
        assert np.diff(_axis(labs, title).get_ylim())[0] >= MIN_SPAN[key] - 1e-9, title
    plt.close("all")


def _visits() -> pd.DataFrame:
    rows = []
    for arm, off in (("low", 0.0), ("high", 0.3)):
        for p, base in (("meld", 11.2), ("Na", 135.0), ("Alb", 31.0)):
            for day in (0, 29, 85, 169):
                m = base + off + 0.002 * day
                rows.append({"arm": arm, "param": p, "visit_day": float(day), "mean": m, "ci_low": m - 0.2,
                             "ci_high": m + 0.2, "chg_mean": m - base - off, "chg_ci_low": m - base - off - 0.2,
                             "chg_ci_high": m - base - off + 0.2})
    return pd.DataFrame(rows)


def test_trial_trajectories_step_scores_and_keep_minimum_spans():
    from hepatwin.report.plots import MIN_SPAN
    from hepatwin.report.trial import _trajectories_figure

    for change in (False, True):
        fig = _trajectories_figure(_visits(), ["meld", "Na", "Alb"], change, ["low", "high"])
        meld, na, alb = fig.axes[:3]
        assert all(line.get_drawstyle() == "steps-post" for line in meld.get_lines() if len(line.get_xdata()) > 2)
        assert _integer_ticks(meld)
        assert all(line.get_drawstyle() == "default" for line in na.get_lines() if len(line.get_xdata()) > 2)
        assert np.diff(na.get_ylim())[0] >= MIN_SPAN["Na"] - 1e-9
        assert np.diff(alb.get_ylim())[0] >= MIN_SPAN["Alb"] - 1e-9
        assert na.get_ylabel() == "mmol/L" and alb.get_ylabel() == "g/L"
        # the arms are told apart by more than colour
        styles = {(line.get_linestyle(), line.get_marker()) for line in na.get_lines() if len(line.get_xdata()) > 2}
        assert len(styles) == 2
        plt.close(fig)


def test_forest_plot_has_one_panel_per_endpoint_with_its_unit_and_a_zero_line():
    from hepatwin.report.trial import _forest_figure

    comps = pd.DataFrame([
        {"endpoint": "albumin change", "param": "Alb", "kind": "change", "visit_day": 85.0, "arm": a,
         "reference": "low", "estimate": e, "ci_low": e - 1, "ci_high": e + 1}
        for a, e in (("medium", 1.5), ("high", 0.4))
    ] + [
        {"endpoint": "IL-8 change", "param": "IL8", "kind": "change", "visit_day": 169.0, "arm": "high",
         "reference": "low", "estimate": -4.0, "ci_low": -9.0, "ci_high": 1.0},
        {"endpoint": "MELD", "param": "meld", "kind": "value", "visit_day": 169.0, "arm": "high",
         "reference": "low", "estimate": -0.5, "ci_low": -1.5, "ci_high": 0.6},
    ])
    fig = _forest_figure(comps)
    axes = [a for a in fig.axes if a.get_xlabel()]
    assert len(axes) == 3
    for ax, (endpoint, unit) in zip(axes, (("albumin change", "(g/L)"), ("IL-8 change", "(pg/mL)"),
                                           ("MELD", "(points)")), strict=True):
        label = ax.get_xlabel()
        assert label.startswith(endpoint) and label.endswith(unit), label
        zero = [ln for ln in ax.get_lines() if list(ln.get_xdata()) == [0, 0]]
        assert zero, f"no zero line in {endpoint}"
        lo, hi = ax.get_xlim()
        assert lo < 0 < hi
    plt.close(fig)


def _adtte() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for arm in ("low", "medium", "high"):
        for i in range(8):
            died = arm != "low" and i == 0                       # identical curves for medium and high
            day = 100.0 if died else float(rng.choice([300.0, 500.0, 730.0]))
            rows.append({"PARAMCD": "OS", "TRTP": arm, "AVAL": day, "CNSR": 0 if died else 1,
                         "USUBJID": f"{arm}{i}"})
    return pd.DataFrame(rows)


def test_km_plot_shows_censoring_numbers_at_risk_and_every_arm():
    from hepatwin.report.trial import _km_figure

    fig = _km_figure(_adtte(), "OS", "Overall survival (days)", ["low", "medium", "high"])
    ax = fig.axes[0]
    # censoring marks: marker-only lines at the censored times
    marks = [ln for ln in ax.get_lines() if ln.get_linestyle() == "None" and ln.get_marker() not in (None, "None")]
    assert len(marks) == 3
    # numbers at risk: a second axis under the curves with one row of counts per arm, starting at 8
    texts = " ".join(t.get_text() for a in fig.axes[1:] for t in a.get_xticklabels())
    assert "At risk" in texts and texts.count("8") >= 3, texts
    # coinciding arms stay distinguishable: their curves differ in line style or width
    curves = [ln for ln in ax.get_lines() if ln.get_linestyle() != "None"]
    assert len(curves) == 3
    assert len({(ln.get_linestyle(), ln.get_linewidth(), ln.get_color()) for ln in curves}) == 3
    leg = ax.get_legend()
    assert leg is not None
    fig.canvas.draw()
    # the legend sits outside the plotting area (it does not cover the curves)
    assert leg.get_window_extent().x0 >= ax.get_window_extent().x1 - 1
    plt.close(fig)


def test_power_plot_is_readable_with_ticks_at_the_sizes_run(tmp_path):
    from PIL import Image

    from hepatwin.trial.power import plot_power, power_figure

    rows = []
    for e in ("albumin change", "PTA change", "IL-8 change", "MELD", "overall survival"):
        for c in ("medium vs low", "high vs low"):
            for n in (8, 16, 24):
                rows.append((e, c, n, min(1.0, n / 30), 20, 0.05))
    summary = pd.DataFrame(rows, columns=["endpoint", "comparison", "n_per_arm", "power", "replicates", "mcse"])
    fig = power_figure(summary)
    w, h = fig.get_size_inches()
    assert w <= 10.5 and 2 * 3 <= h <= 2 * 4                # two rows of at most three panels
    panels = [a for a in fig.axes if a.get_visible() and a.axison]
    assert len(panels) == 5
    fig.canvas.draw()
    for ax in panels:
        assert list(ax.get_xticks()) == [8, 16, 24]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "16", "24"]
        leg = ax.get_legend().get_window_extent()
        box = ax.get_window_extent()
        assert leg.y1 <= box.y0 + 1, "legend overlaps the curves"
    plt.close(fig)
    path = tmp_path / "power.png"
    plot_power(summary, path)
    pw, ph = Image.open(path).size
    assert 1000 <= pw <= 1600 and ph >= 0.5 * pw              # not a 2475 x 396 strip


# --- tissue pictures: scale bar and caption -------------------------------------------------------------

def _bar_length(band: np.ndarray, x0: int = 4) -> int:
    """Longest run of dark pixels starting at column x0 in any row of the caption band (the scale bar)."""
    dark = band.astype(int).sum(axis=2) < 150
    best = 0
    for row in dark:
        n = 0
        while x0 + n < row.size and row[x0 + n]:
            n += 1
        best = max(best, n)
    return best


def test_annotate_puts_caption_and_scale_bar_below_an_untouched_picture():
    from hepatwin.tissue.render import annotate, scale_bar

    img = np.random.default_rng(0).integers(0, 255, (64, 256, 3), dtype=np.uint8)
    um_per_px = 25.0 / 4                                          # one 25-um site drawn as 4 x 4 pixels
    out = annotate(img, "demo: day 169, CPA 12.3%", um_per_px)
    assert out.shape[1:] == img.shape[1:] and out.shape[0] > img.shape[0]
    assert np.array_equal(out[:64], img)                          # overlays below the picture, never on it
    um, px = scale_bar(um_per_px, 256)
    assert um in (100.0, 200.0, 500.0, 1000.0) and px == round(um / um_per_px) and px <= 256 / 4
    assert _bar_length(out[64:]) == px
    assert (out[64:].astype(int).sum(axis=2) < 150).sum() > px * 3     # text besides the bar


def test_timelapse_captions_fit_a_256_pixel_frame(tmp_path):
    from PIL import Image, ImageSequence

    from hepatwin.tissue.render import _font, caption_layout, save_timelapse, scale_bar

    label = ("hbv_decompensated_msc: day\u00a0-10957, CPA\u00a014.2% (patient model\u00a014.0%) "
             "(research software, not clinical advice)")
    size, lines = caption_layout(label, 256)
    assert " ".join(lines) == label                               # nothing dropped
    assert any("day\u00a0-10957," in line for line in lines)      # the day is not split over two lines
    assert all(_font(size).getlength(line) <= 256 - 8 for line in lines)
    frames = [np.full((256, 256, 3), 200 + k, np.uint8) for k in range(3)]
    labels = [label, label.replace("-10957", "0"), label.replace("-10957", "169")]
    path = save_timelapse(tmp_path / "t.gif", frames, labels, um_per_px=25.0 * 4)
    gif = Image.open(path)
    pics = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]
    assert len(pics) == 3 and {p.shape for p in pics} == {pics[0].shape} and pics[0].shape[1] == 256
    _, px = scale_bar(100.0, 256)
    for p in pics:
        band = p[256:]
        assert (band.astype(int).sum(axis=2) < 150).any()         # a caption is there
        assert (band[:, -3:] > 240).all()                         # and does not run off the right edge
        assert _bar_length(band) == px


def test_tissue_run_pictures_carry_caption_and_scale_bar(tmp_path):
    from PIL import Image

    from hepatwin.scenario import load_scenario
    from hepatwin.tissue import run as tissue_run
    from hepatwin.tissue.render import scale_bar
    from hepatwin.tissue.snapshots import load_snapshots, render_snapshot

    sc = load_scenario(ROOT / "examples" / "scenarios" / "hbv_decompensated_msc.toml")
    cfg = tissue_run.TissueConfig(size=32, history_dt_days=2.0, frames=2, snapshot_days=[0.0])
    man = tissue_run.run_tissue(sc, cfg, tmp_path)
    ds = load_snapshots(tmp_path)
    for stain, key in (("sirius", "sirius_dayp000000_0"), ("he", "he_dayp000000_0")):
        png = np.asarray(Image.open(tmp_path / man["files"][key]).convert("RGB"))
        bare = render_snapshot(ds, 0.0, stain, caption=False, scale=png.shape[1] // 32)
        h, w = bare.shape[:2]
        assert png.shape[1] == w and png.shape[0] > h
        assert np.array_equal(png[:h], bare)                      # the picture itself as drawn without overlays
        assert _bar_length(png[h:]) == scale_bar(25.0 * 32 / w, w)[1]
        assert np.array_equal(png, render_snapshot(ds, 0.0, stain, scale=w // 32))   # `tissue render` agrees
    gif = Image.open(tmp_path / "timelapse.gif")
    frame = np.asarray(gif.convert("RGB"))
    assert frame.shape[0] > frame.shape[1] and (frame[frame.shape[1]:].astype(int).sum(axis=2) < 150).any()


def test_snapshot_label_names_day_and_cpa():
    from hepatwin.tissue.render import snapshot_label

    lab = snapshot_label("hbv", -365.0, 12.345)
    assert "day\u00a0-365" in lab and "CPA\u00a012.3%" in lab


# --- reports: how far to trust them ----------------------------------------------------------------------

def _docs_table() -> dict[str, bool]:
    rows = {}
    text = (ROOT / "docs" / "validation.md").read_text()
    for line in text.split("## The table", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 7 and cells[0] not in ("id", "---"):
            rows[cells[0]] = cells[5].strip("*") == "PASS"
    return rows


def test_recorded_validation_result_is_the_documented_one():
    from hepatwin.calibrate.validation import FITTED
    from hepatwin.report.trust import GROUPS, RECORD

    assert RECORD["rows"] == _docs_table()
    assert set(FITTED) <= set(RECORD["rows"])
    grouped = [i for _, _, pre in GROUPS for i in RECORD["rows"] if i.startswith(pre)]
    assert sorted(grouped) == sorted(RECORD["rows"])              # every row in exactly one group


def test_trial_and_compare_reports_say_how_far_to_trust_them(tmp_path, monkeypatch):
    import re

    from hepatwin.report.html import compare_report
    from hepatwin.trial import load_protocol, run_trial
    from hepatwin.trial.outputs import write_trial

    proto, pop = load_protocol(ROOT / "examples" / "trials" / "zhongnan2024.toml")
    write_trial(run_trial(proto, pop), tmp_path / "trial")
    html = (tmp_path / "trial" / "report.html").read_text()
    sec = html.split('id="trust"', 1)[1].split("<h2>", 1)[0]
    for row, result in (("qin_surv6m_paper_low", "PASS"), ("qin_il8_d169", "FAIL"), ("zhang_alb_w48", "FAIL"),
                        ("childpugh_C_2y", "FAIL"), ("childpugh_C_1y", "PASS"), ("damico_stage1_annual", "PASS")):
        assert re.search(rf">{row}</td>\s*<td[^>]*>{result}<", sec), row
    assert "hepatwin validate" in sec and "validation.md" in sec

    res = [_fake_result("untreated"), _fake_result("msc")]
    for r in res:
        r.status, r.message, r.scenario.description = "ok", "", "fake"
    compare_report(res, ["a.toml", "b.toml"], tmp_path / "cmp", days=(0,))
    sec = (tmp_path / "cmp" / "report.html").read_text().split('id="trust"', 1)[1]
    assert "qin_alb_d85_high" in sec and "wiesner_meld_le9" in sec and "qin_sae" not in sec   # no AEs shown

    # a calibration the record was not made with: nothing is shown as passing
    other = tmp_path / "calibration.toml"
    other.write_text("[parameters]\n")
    monkeypatch.setenv("HEPATWIN_CALIBRATION", str(other))
    compare_report(res, ["a.toml", "b.toml"], tmp_path / "cmp2", days=(0,))
    sec = (tmp_path / "cmp2" / "report.html").read_text().split('id="trust"', 1)[1].split("<h2>", 1)[0]
    assert "PASS" not in sec and "not checked" in sec and "hepatwin validate" in sec
