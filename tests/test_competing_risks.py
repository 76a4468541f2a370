"""Competing-risk cumulative incidence (Aalen-Johansen) of events that death and transplant pre-empt, beside
1 - Kaplan-Meier: hand-computed cases, the no-competing-event identity, the inequality, and the trial report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hepatwin.model.catalog import EVENTS
from hepatwin.trial import parse_protocol, run_trial
from hepatwin.trial.analysis import (
    COMPETED_EVENTS,
    TERMINAL_EVENTS,
    cif_curves,
    competing_risk_data,
    cumulative_incidence,
    kaplan_meier,
    survival_days,
)
from hepatwin.trial.outputs import write_trial
from test_trial import small_protocol


def _adtte(subjects: list[tuple[str, str, float]], paramcd: str = "TTVB", arm: str = "a",
           replicate: int | None = None) -> pd.DataFrame:
    """ADTTE rows (event of interest, OS, TTTX) of subjects given as (id, what, day): what is "event",
    "death", "transplant" or "censored"; the event row is censored at a death or transplant, as in a trial."""
    rows = []
    for sid, what, day in subjects:
        for code, happened in ((paramcd, what == "event"), ("OS", what == "death"),
                               ("TTTX", what == "transplant")):
            rows.append({"USUBJID": sid, "TRTP": arm, "PARAMCD": code, "AVAL": day, "CNSR": 0 if happened else 1})
    out = pd.DataFrame(rows)
    if replicate is not None:
        out.insert(0, "REPLICATE", replicate)
    return out


def test_catalog_decides_what_competes():
    # terminal: the catalog events that are also a way of leaving the trial
    assert set(TERMINAL_EVENTS) == {"death", "transplant"}
    # competed: every event the engine fires and every other single event that does not end follow-up
    assert {n for n, e in EVENTS.items() if e.counter} <= set(COMPETED_EVENTS)
    assert "decompensation" in COMPETED_EVENTS
    assert not {n for n, e in EVENTS.items() if e.of} & set(COMPETED_EVENTS)
    for code in ("OS", "TTTX", "TFS", "DFS", "HCCFS"):
        with pytest.raises(ValueError, match=code):
            cumulative_incidence(_adtte([("s1", "event", 5.0)], paramcd=code), code, [10.0])


def test_aalen_johansen_by_hand_with_one_competing_death():
    # one arm, 6 subjects: bleed day 2, death day 3 (competing), censored day 4, bleed day 5, censored day 6,
    # bleed day 8. S = event-free (any event) survival just before the day, n = at risk, d1 = bleeds.
    #   day 2: n 6, S 1,   d1 1 -> CIF = 1 * 1/6                    = 1/6;   S after = 5/6
    #   day 3: n 5, death      -> CIF stays 1/6;                             S after = 5/6 * 4/5 = 2/3
    #   day 4: censored        -> n 3 at day 5
    #   day 5: n 3, S 2/3, d1 1 -> CIF = 1/6 + 2/3 * 1/3 = 1/6 + 2/9 = 7/18; S after = 2/3 * 2/3 = 4/9
    #   day 6: censored        -> n 1 at day 8
    #   day 8: n 1, S 4/9, d1 1 -> CIF = 7/18 + 4/9 * 1/1           = 15/18 = 5/6
    # 1 - KM with the death censored: KM = 5/6 at day 2, * 2/3 at day 5 = 5/9, * 0 at day 8
    #   -> 1 - KM = 1/6, 4/9, 1
    adtte = _adtte([("s1", "event", 2.0), ("s2", "death", 3.0), ("s3", "censored", 4.0), ("s4", "event", 5.0),
                    ("s5", "censored", 6.0), ("s6", "event", 8.0)])
    out = cumulative_incidence(adtte, "TTVB", [1.0, 2.0, 4.0, 5.0, 7.0, 8.0])
    assert out["cif"].tolist() == pytest.approx([0.0, 1 / 6, 1 / 6, 7 / 18, 7 / 18, 5 / 6], abs=1e-12)
    assert out["one_minus_km"].tolist() == pytest.approx([0.0, 1 / 6, 1 / 6, 4 / 9, 4 / 9, 1.0], abs=1e-12)
    assert out["n_at_risk"].tolist() == [6, 6, 4, 3, 1, 1]
    assert out["events"].tolist() == [0, 1, 1, 2, 2, 3]
    assert out["competing"].tolist() == [0, 0, 1, 1, 1, 1]
    assert (out["arm"] == "a").all() and (out["paramcd"] == "TTVB").all()
    # before the first event: no interval, and the note says so; after it a proper interval around the estimate
    assert np.isnan(out["ci_low"].iloc[0]) and out["note"].iloc[0].startswith("no events")
    row = out.iloc[3]
    assert 0 < row["ci_low"] < row["cif"] < row["ci_high"] < 1 and row["note"] == ""


def test_a_tie_with_a_competing_event_and_a_censoring_is_the_tied_estimate():
    # a bleed, a death and a censoring on day 10 (events before censorings on the same day), a transplant on
    # day 20, a bleed on day 30, a censoring on day 40:
    #   day 10: n 6, S 1, d1 1, d2 1 -> CIF = 1/6;                 S after = 1 - 2/6 = 2/3; then 1 censored -> n 3
    #   day 20: n 3, transplant      -> CIF stays 1/6;             S after = 2/3 * 2/3 = 4/9
    #   day 30: n 2, S 4/9, d1 1     -> CIF = 1/6 + 4/9 * 1/2 = 7/18
    # 1 - KM (death and transplant censored): KM = 5/6 at day 10, * 1/2 at day 30 = 5/12 -> 1 - KM = 7/12.
    # lifelines would jitter the tied bleed and death at random (a bleed moved past the censoring gives
    # 1/5 * ... instead of 1/6) and reseed numpy's global generator; neither may happen.
    adtte = _adtte([("A", "event", 10.0), ("B", "death", 10.0), ("C", "censored", 10.0),
                    ("D", "transplant", 20.0), ("E", "event", 30.0), ("F", "censored", 40.0)])
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    out = cumulative_incidence(adtte, "TTVB", [10.0, 25.0, 30.0, 40.0])
    assert np.array_equal(np.random.get_state()[1], before)
    assert out["cif"].tolist() == pytest.approx([1 / 6, 1 / 6, 7 / 18, 7 / 18], abs=1e-12)
    assert out["one_minus_km"].tolist() == pytest.approx([1 / 6, 1 / 6, 7 / 12, 7 / 12], abs=1e-12)
    assert out["competing"].tolist() == [1, 2, 2, 2]


def test_an_event_on_day_0_counts():
    # lifelines zeroes the incidence of its first row; an event on day 0 is still 1 of 2 (then 1 of 1 at day 5)
    out = cumulative_incidence(_adtte([("s1", "event", 0.0), ("s2", "death", 3.0), ("s3", "event", 5.0)]),
                               "TTVB", [0.0, 4.0, 5.0])
    # day 0: 1/3; day 3: death, S = 2/3 * 1/2 = 1/3; day 5: n 1, CIF = 1/3 + 1/3 * 1 = 2/3
    assert out["cif"].tolist() == pytest.approx([1 / 3, 1 / 3, 2 / 3], abs=1e-12)
    assert out["one_minus_km"].tolist() == pytest.approx([1 / 3, 1 / 3, 1.0], abs=1e-12)


def _random_adtte(rng, n: int, p_death: float, arms=("control", "msc")) -> pd.DataFrame:
    frames = []
    for arm in arms:
        event = rng.exponential(400.0, n).round(0)             # whole days: ties among events and censorings
        death = np.where(rng.random(n) < p_death, rng.exponential(300.0, n).round(0), np.inf)
        censor = rng.uniform(50.0, 720.0, n).round(0)
        subjects = []
        for k in range(n):
            first = min(event[k], death[k], censor[k])
            what = "event" if first == event[k] else "death" if first == death[k] else "censored"
            subjects.append((f"{arm}-{k}", what, float(first)))
        frames.append(_adtte(subjects, arm=arm))
    return pd.concat(frames, ignore_index=True)


def test_without_competing_events_the_incidence_is_one_minus_kaplan_meier():
    adtte = _random_adtte(np.random.default_rng(5), 60, p_death=0.0)
    assert not (competing_risk_data(adtte, "TTVB")["E"] == 2).any()
    for arm, c in cif_curves(adtte, "TTVB").items():
        assert len(c) > 20, arm
        np.testing.assert_allclose(c["cif"], c["one_minus_km"], atol=1e-12)
    times = [30.0, 91.0, 182.0, 365.0, 600.0]
    cif = cumulative_incidence(adtte, "TTVB", times)
    km = kaplan_meier(adtte, "TTVB", times)      # the trial's own Kaplan-Meier, an independent estimate
    assert cif["arm"].tolist() == km["arm"].tolist()
    np.testing.assert_allclose(cif["cif"], 1.0 - km["survival"], atol=1e-12)
    assert cif["n_at_risk"].tolist() == km["at_risk"].tolist() and cif["events"].tolist() == km["events"].tolist()


def test_with_competing_deaths_the_incidence_is_below_one_minus_kaplan_meier():
    adtte = _random_adtte(np.random.default_rng(7), 60, p_death=0.6)
    data = competing_risk_data(adtte, "TTVB")
    assert (data["E"] == 2).sum() > 20 and (data["E"] == 1).sum() > 20
    for arm, c in cif_curves(adtte, "TTVB").items():
        assert (c["cif"] <= c["one_minus_km"] + 1e-12).all(), arm
        assert (c["cif"] < c["one_minus_km"] - 0.02).any(), arm     # KM overstates once deaths have happened
        assert (np.diff(c["cif"]) >= -1e-12).all() and c["cif"].iloc[-1] <= 1.0
    out = cumulative_incidence(adtte, "TTVB", [91.0, 365.0, 500.0, 700.0])
    gone = out["n_at_risk"] == 0            # past the longest follow-up of an arm: NaN with the reason
    assert gone.any() and out.loc[gone, "cif"].isna().all()
    assert out.loc[gone, "note"].str.startswith("not estimable: no subject of arm").all()
    out = out[~gone]
    assert (out["cif"] <= out["one_minus_km"]).all() and (out["cif"] < out["one_minus_km"]).any()
    # the interval lies in [0, 1] around the estimate (lifelines labels its bounds the other way round)
    ok = out.dropna(subset=["ci_low"])
    assert len(ok) and ((ok["ci_low"] <= ok["cif"]) & (ok["cif"] <= ok["ci_high"])).all()
    assert ((ok["ci_low"] >= 0) & (ok["ci_high"] <= 1)).all()


def test_competing_events_are_matched_within_a_replicate():
    # the same subject id in two replicates: the death of replicate 0 is not a competing event in replicate 1
    r0 = _adtte([("s1", "death", 5.0), ("s2", "event", 7.0)], replicate=0)
    r1 = _adtte([("s1", "censored", 5.0), ("s2", "event", 7.0)], replicate=1)
    data = competing_risk_data(pd.concat([r0, r1], ignore_index=True), "TTVB")
    assert data["E"].tolist() == [2, 1, 0, 1]


def test_trial_with_a_bleeding_endpoint_reports_cumulative_incidence(tmp_path):
    d = small_protocol(follow_up_days=720, endpoint=[
        {"name": "bleeding", "kind": "time_to_event", "event": "variceal_bleeding"},
        {"name": "survival", "kind": "time_to_event", "event": "death"}])
    proto, pop = parse_protocol(d)
    res = run_trial(proto, pop)
    analysis = write_trial(res, tmp_path)
    cif = analysis["cumulative_incidence"]
    # one table for the bleeding endpoint only (death is not pre-empted by a competing event here)
    assert set(cif["endpoint"]) == {"bleeding"} and set(cif["paramcd"]) == {"TTVB"}
    days = survival_days(proto)
    assert set(cif["arm"]) == {"control", "msc"} and sorted(set(cif["day"])) == days
    # counts from the subjects themselves: bleeds by the day, and deaths or transplants before any bleed
    s = res.subjects
    bled = s["variceal_bleeding_day"].notna()
    pre_empted = ~bled & (s["died_in_follow_up"] | s["transplanted"])
    assert bled.any() and pre_empted.any(), "the trial needs a bleed and a competing death for this test"
    end = s[["death_day", "transplant_day"]].min(axis=1)
    for r in cif.itertuples():
        a = s["arm"] == r.arm
        assert r.events == int((a & bled & (s["variceal_bleeding_day"] <= r.day)).sum())
        assert r.competing == int((a & pre_empted & (end <= r.day)).sum())
    assert (cif["cif"] <= cif["one_minus_km"] + 1e-12).all()
    assert (cif["cif"] < cif["one_minus_km"]).any()
    # written beside the other analysis tables, and in the report: a figure and the table
    assert (tmp_path / "analysis" / "cumulative_incidence.csv").exists()
    assert (tmp_path / "figures" / "cif_TTVB.png").stat().st_size > 10_000
    assert not (tmp_path / "figures" / "cif_OS.png").exists()
    html = (tmp_path / "report.html").read_text()
    assert 'alt="Cumulative incidence: bleeding (death and transplant competing)"' in html
    assert "<h3>Cumulative incidence with competing events</h3>" in html
    table = html.split("<h3>Cumulative incidence with competing events</h3>", 1)[1].split("</table>", 1)[0]
    assert "<th>one_minus_km</th>" in table and "<th>n_at_risk</th>" in table
    assert table.count("<td>TTVB</td>") == len(cif)


def test_cif_figure_draws_incidence_and_dashed_one_minus_km_per_arm():
    import matplotlib.pyplot as plt

    from hepatwin.report.trial import _cif_figure

    adtte = _random_adtte(np.random.default_rng(3), 30, p_death=0.6)
    fig = _cif_figure(adtte, "TTVB", "Time to variceal bleeding (days)", ["control", "msc"])
    ax = fig.axes[0]
    curves = [ln for ln in ax.get_lines() if ln.get_linestyle() != "None"]
    labels = [ln.get_label() for ln in curves]
    assert labels == ["control: cumulative incidence", "control: 1 − Kaplan-Meier", "msc: cumulative incidence",
                      "msc: 1 − Kaplan-Meier"]
    for arm in ("control", "msc"):
        inc, km = (next(ln for ln in curves if ln.get_label() == f"{arm}: {w}")
                   for w in ("cumulative incidence", "1 − Kaplan-Meier"))
        assert inc.get_color() == km.get_color() and km.get_linestyle() == "--"
        assert max(km.get_ydata()) > max(inc.get_ydata())        # KM overstates: deaths compete here
    marks = [ln for ln in ax.get_lines() if ln.get_linestyle() == "None" and ln.get_marker() == "|"]
    assert len(marks) == 2
    texts = " ".join(t.get_text() for a in fig.axes[1:] for t in a.get_xticklabels())
    assert "At risk" in texts and "Events" in texts
    plt.close(fig)
