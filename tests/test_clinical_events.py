"""Clinical events that change the patient (model/events.py): variceal bleeding and HCC, through scenarios,
populations and trials."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import refused, run
from hepatwin import load_scenario, simulate
from hepatwin.model import build_model
from hepatwin.model.events import BLEED_TAIL, REVERTER_INTERCEPT, REVERTER_SLOPE
from hepatwin.scenario import ScenarioError, parse_scenario
from hepatwin.trial import load_protocol, run_trial
from hepatwin.trial.tables import build_tables

ROOT = Path(__file__).resolve().parents[1]
UNTREATED = ROOT / "examples" / "scenarios" / "hbv_decompensated_untreated.toml"


def _with(scen, **update):
    data = scen.model_dump(mode="json")
    for key, value in update.items():
        if key in ("random_events", "seed", "end_day"):
            data["simulation"][key] = value
        else:
            data[key] = value
    return parse_scenario(data, "test")


def test_reverter_six_week_mortality_by_hand():
    # logit(p) = -5.312 + 0.207 MELD: MELD 11 -> p = 1/(1 + e^(5.312 - 2.277)) = 1/(1 + e^3.035) = 0.0459
    p = 1 / (1 + math.exp(-(REVERTER_INTERCEPT + REVERTER_SLOPE * 11)))
    assert p == pytest.approx(0.04587, abs=5e-5)
    # and the excess cumulative hazard over 6 weeks is -ln(1 - p) = ln(1 + e^(logit))
    assert -math.log(1 - p) == pytest.approx(math.log1p(math.exp(REVERTER_INTERCEPT + REVERTER_SLOPE * 11)))


def test_a_bleed_adds_the_six_week_mortality_of_its_meld():
    """A bleed on day 30: survival to day 72 falls by the factor (1 - p6w(MELD)), within the drift of the MELD
    over those 6 weeks and the 5% of the excess left after them."""
    scen = load_scenario(UNTREATED)
    base = simulate(scen).dataset
    bled = simulate(_with(scen, event=[{"kind": "variceal_bleeding", "day": 30}])).dataset
    t = base["time"].values
    i30, i72 = np.searchsorted(t, 30), np.searchsorted(t, 72)
    # pre-event: the same up to the solver (the run with the event stops its steps at day 30)
    assert bled["survival"].values[i30] == pytest.approx(base["survival"].values[i30], rel=1e-7)
    # the 6-week excess: the bleed's recency, weighted so that it integrates to 1 over 42 days, times
    # -ln(1 - p6w(MELD)) at the patient's MELD of the day (the insult raises the MELD for some days)
    k = build_model().parameters["k_vbr"].value
    # VBr = e^(-k (t - 30)) after the bleed; k / (1 - tail) x its integral over 42 days = 1 (e^(-42 k) = tail)
    np.testing.assert_allclose(bled["VBr"].values[i30 + 1:i72 + 1], np.exp(-k * (t[i30 + 1:i72 + 1] - 30)), rtol=1e-5)
    assert math.exp(-42 * k) == pytest.approx(BLEED_TAIL)
    w = bled["VBr"].values[i30 + 1:i72 + 1] * k / (1 - BLEED_TAIL)
    meld = bled["meld_cont"].values[i30 + 1:i72 + 1]
    by_hand = w * np.log1p(np.exp(REVERTER_INTERCEPT + REVERTER_SLOPE * meld))
    np.testing.assert_allclose(bled["hazard_vb_death"].values[i30 + 1:i72 + 1], by_hand, rtol=1e-9)
    def lost(m):   # -ln(1 - p6w) at MELD m
        return math.log1p(math.exp(REVERTER_INTERCEPT + REVERTER_SLOPE * m))
    excess = np.trapezoid(bled["hazard_vb_death"].values[i30:i72 + 1], t[i30:i72 + 1])
    # between the excess at the MELD before the bleed and at the highest MELD after it
    assert lost(float(bled["meld_cont"].values[i30])) * 0.97 <= excess <= lost(float(meld.max()))
    # the patient who bled loses at least Reverter's 6-week mortality against the one who did not
    ratio = bled["survival"].values[i72] / base["survival"].values[i72]
    assert ratio <= math.exp(-lost(float(bled["meld_cont"].values[i30])) * 0.97)
    assert float(bled["N_vb"].values[i30 + 1]) == 1.0 and float(base["N_vb"].values[-1]) == 0.0
    # the acute insult raises IL-6 (systemic inflammation) and fades
    il6_b, il6_a = bled["IL6"].values, base["IL6"].values
    assert il6_b[i30 + 3] > 1.2 * il6_a[i30 + 3] and abs(il6_b[-1] / il6_a[-1] - 1) < 0.05
    # no trace before the bleed: the 6-week excess is gone after about 6 weeks (5% left)
    assert float(bled["hazard_vb_death"].values[i30 + 43]) < 1.05 * BLEED_TAIL * float(
        bled["hazard_vb_death"].values[i30 + 1])


def test_hazards_follow_their_gates_over_a_population(tmp_path):
    """No bleeding hazard below HVPG 12 mmHg; no HCC hazard before cirrhosis (stage 4); both only from day 0."""
    from hepatwin.population import load_population
    from hepatwin.population.large import read_chunks, run_chunks

    cfg = load_population(ROOT / "examples" / "populations" / "cirrhosis_natural_history.toml")
    out = run_chunks(cfg, 60, [], tmp_path / "pop", end_day=730, step_days=30,
                     variables=("HVPG", "hazard_vb", "stage", "hazard_hcc", "CH_vb", "N_vb", "N_hcc"))
    df = read_chunks(tmp_path / "pop")
    assert out["failed_patients"] == 0
    assert (df.loc[df["HVPG"] < 12, "hazard_vb"] == 0).all() and (df.loc[df["HVPG"] > 13, "hazard_vb"] > 0).any()
    assert (df.loc[df["stage"] < 4, "hazard_hcc"] == 0).all() and (df.loc[df["stage"] >= 4, "hazard_hcc"] > 0).all()
    # counters only go up, and CH_vb is zero before day 0 (hazards count from baseline)
    assert (df.loc[df["day"] <= 0, "CH_vb"] == 0).all()
    assert (df.sort_values(["patient_id", "day"]).groupby("patient_id")["N_vb"].diff().dropna() >= 0).all()


def test_random_events_of_a_scenario_come_from_its_seed():
    scen = _with(load_scenario(UNTREATED), random_events=True, end_day=3650)
    runs = {seed: simulate(_with(scen, seed=seed)).dataset for seed in (1, 1, 2, 3, 4, 5, 6, 7)}
    n = {seed: float(ds["N_vb"].values[-1]) for seed, ds in runs.items()}
    assert len(runs) == 7 and sum(v > 0 for v in n.values()) >= 1   # ten years at HVPG > 12: some bleed
    again = simulate(_with(scen, seed=1)).dataset
    assert np.array_equal(again["N_vb"].values, runs[1]["N_vb"].values)
    # off (the default): no event happens, the hazards still accumulate
    off = simulate(_with(scen, random_events=False)).dataset
    assert float(off["N_vb"].values[-1]) == 0.0 and float(off["CH_vb"].values[-1]) > 0.1


def test_a_named_event_is_checked_like_any_input(tmp_path):
    scen = load_scenario(UNTREATED)
    with pytest.raises(ScenarioError, match=r"event\[0\]\.kind = .meteor.*variceal_bleeding"):
        _with(scen, event=[{"kind": "meteor", "day": 3}])
    with pytest.raises(ScenarioError, match="after end_day"):
        _with(scen, event=[{"kind": "hcc", "day": 10_000}])
    bad = tmp_path / "bad.toml"
    bad.write_text(UNTREATED.read_text() + '\n[[event]]\nkind = "variceal_bleed"\nday = 30\n')
    refused(run("simulate", bad, "--out", tmp_path / "o"), "variceal_bleed", "variceal_bleeding")
    assert not (tmp_path / "o").exists()


def test_trials_time_the_events_the_engine_fires():
    proto, pop = load_protocol(ROOT / "examples" / "trials" / "zhongnan2024.toml")
    res = run_trial(proto, pop, replicates=8)
    s = res.subjects
    assert s["variceal_bleeding_day"].notna().sum() > 0
    within = s["variceal_bleeding_day"].dropna() <= s.loc[s["variceal_bleeding_day"].notna(), "end_day"]
    assert within.all()
    tte = build_tables(res)["adtte"]
    vb = tte[tte["PARAMCD"] == "TTVB"].set_index("USUBJID")
    got = s.set_index("usubjid")["variceal_bleeding_day"]
    assert ((vb["CNSR"] == 0) == got.notna().reindex(vb.index)).all()
    assert {"TTVB", "TTHCC"} <= set(tte["PARAMCD"])
    # the same seed gives the same events
    again = run_trial(proto, pop, replicates=8).subjects
    assert again["variceal_bleeding_day"].equals(s["variceal_bleeding_day"]) and again["hcc_day"].equals(s["hcc_day"])


def test_the_model_declares_its_events_with_sources():
    spec = build_model()
    assert set(spec.triggers) == {"variceal_bleeding", "infection", "hbv_flare", "alcoholic_hepatitis", "hcc"}
    for name in ("h_vb", "hvpg_bleed", "hr_vb_B", "h_hcc_HBV", "h_hcc_ALD", "hr_hcc_svr", "k_vbr", "h_flare", "h_ah",
                 "k_ah", "k_ah_inj"):
        p = spec.parameters[name]
        assert p.lower <= p.value <= p.upper and p.source, name


def test_the_compare_report_shows_each_patients_events_and_risks(tmp_path):
    bleed = ROOT / "examples" / "scenarios" / "hbv_decompensated_bleed.toml"
    p = run("compare", UNTREATED, bleed, "--out", tmp_path / "c")
    assert p.returncode == 0, p.stderr
    html = (tmp_path / "c" / "report.html").read_text()
    section = html[html.index("<h2>Clinical events"):html.index("<h2>Labs and scores")]
    assert "60: variceal bleeding (given)" in section and "-730: start antiviral" in section
    # the risk of death by the last day is higher for the patient who bled
    risks = [float(x) for x in __import__("re").findall(r"<td>([0-9.]+)%</td>", section)]
    assert len(risks) == 6 and risks[3] > risks[0]


def test_the_timeline_dates_the_events_the_model_made_happen():
    scen = _with(load_scenario(UNTREATED), random_events=True, end_day=3650)
    for seed in range(1, 30):
        res = simulate(_with(scen, seed=seed))
        fired = [e for e in res.timeline() if e["kind"] == "model"]
        if fired:
            break
    assert fired, "no event in 29 ten-year courses"
    n = res.dataset["N_vb"].values + res.dataset["N_hcc"].values + res.dataset["N_inf"].values
    t = res.dataset["time"].values
    assert [e["day"] for e in fired] == [float(t[k]) for k in np.flatnonzero(np.diff(n) > 0.5) + 1]


def test_a_transplant_rule_outside_the_meld_scale_is_refused(tmp_path):
    text = (ROOT / "examples" / "trials" / "zhongnan2024.toml").read_text()
    pop = ROOT / "examples" / "populations"
    bad = tmp_path / "p.toml"
    body = text.replace('population = "../populations/', f'population = "{pop}/')
    bad.write_text(body + "\n[transplant]\nmeld_threshold = -5\n" if "[transplant]" not in body else
                   body.replace("[transplant]", "[transplant]\nmeld_threshold = -5\n", 1))
    err = refused(run("trial", "run", bad, "--out", tmp_path / "o"), "transplant.meld_threshold", "-5")
    assert "greater than or equal to 6" in err and not (tmp_path / "o").exists()


def test_decompensation_by_kind_is_the_onset_of_each_sign_after_baseline():
    from hepatwin.calibrate.cohorts import first_decompensation, simulate_cohort
    from hepatwin.model.catalog import EVENTS
    from hepatwin.population import load_population

    days = np.arange(0.0, 3 * 365.25, 7.0)
    run = simulate_cohort(load_population(ROOT / "examples" / "populations" / "cirrhosis_natural_history.toml"), 150,
                          days)
    comp, first = first_decompensation(run)
    m = run.model
    d = dict(zip(m.derived_names, m.derived(np.transpose(np.nan_to_num(run.y), (1, 0, 2)), run.params.T[:, :, None]),
                 strict=True))
    signs = {"ascites": d["ascites_grade"] >= 2, "overt_encephalopathy": d["he_grade"] >= 2,
             "jaundice": d["Bil_mgdl"] >= 3, "variceal_bleeding": run.y[:, m.state_names.index("N_vb"), :] >= 1}
    assert set(signs) == set(EVENTS["first_decompensation"].of)
    present = np.any([s[:, 0] for s in signs.values()], axis=0)
    assert np.array_equal(comp, ~present)
    for j in range(len(first)):
        new = [np.flatnonzero(s[j])[0] for s in signs.values() if not s[j, 0] and s[j].any()]
        want = days[min(new)] if new else np.nan
        assert (np.isnan(want) and np.isnan(first[j])) or first[j] == want, j
    assert np.isfinite(first).sum() > 0


def test_trial_first_decompensation_is_the_first_of_its_kinds():
    proto, pop = load_protocol(ROOT / "examples" / "trials" / "zhongnan2024.toml")
    s = run_trial(proto, pop, replicates=6).subjects
    kinds = s[["ascites_day", "variceal_bleeding_day", "overt_encephalopathy_day", "jaundice_day"]]
    tte = build_tables(run_trial(proto, pop, replicates=6))["adtte"]
    fdec = tte[tte["PARAMCD"] == "TTFDEC"].set_index("USUBJID")
    want = kinds.min(axis=1).set_axis(s["usubjid"])
    has = want.notna()
    assert ((fdec["CNSR"] == 0) == has.reindex(fdec.index)).all()
    assert np.allclose(fdec.loc[has[has].index, "AVAL"], want[has])


def test_an_insult_on_a_sick_liver_brings_organ_failures_graded_as_the_clinic_grades_them():
    """A bleed and an infection on the same day: organ failures and an ACLF grade that agree with the clinical
    formulas (clinical/aclf.py) at every day, extra mortality while they last, and recovery as the insult fades."""
    from hepatwin.clinical.aclf import aclf_grade

    scen = load_scenario(UNTREATED)
    data = scen.model_dump(mode="json")
    data["patient"]["history"]["injury_scale"] = 2.2
    data["event"] = [{"kind": "variceal_bleeding", "day": 30}, {"kind": "infection", "day": 30}]
    data["simulation"]["end_day"] = 120
    ds = simulate(parse_scenario(data, "insult")).dataset
    want = aclf_grade(ds["Bil_mgdl"].values, ds["Cr_mgdl"].values, ds["he_grade"].values.astype(int),
                      ds["INR"].values, vasopressors=ds["MAP"].values < 70, pao2_fio2=ds["PF"].values)
    np.testing.assert_array_equal(ds["aclf_grade"].values, want)
    t = ds["time"].values
    assert ds["aclf_grade"].values[np.searchsorted(t, 29)] == 0
    assert ds["aclf_grade"].values[np.searchsorted(t, 31)] >= 1 and ds["organ_failures"].values[-1] == 0
    h = ds["hazard_of_death"].values
    assert h[np.searchsorted(t, 31)] == pytest.approx(build_model().parameters["h_of"].value
                                                       * ds["organ_failures"].values[np.searchsorted(t, 31)])


def test_trials_time_aclf_from_its_onset():
    proto, pop = load_protocol(ROOT / "examples" / "trials" / "zhongnan2024.toml")
    res = run_trial(proto, pop, replicates=10)
    s = res.subjects
    assert s["infection_day"].notna().sum() > 0 and s["aclf_day"].notna().sum() > 0
    tte = build_tables(res)["adtte"]
    assert {"TTINF", "TTACLF"} <= set(tte["PARAMCD"])


def test_hcc_lists_a_patient_for_transplant_whatever_the_meld():
    """With a listing MELD no patient reaches, only patients with HCC can be transplanted, and only after it."""
    proto, pop = load_protocol(ROOT / "examples" / "trials" / "zhongnan2024.toml")
    proto = proto.model_copy(update={"transplant": proto.transplant.model_copy(update={
        "meld_threshold": 40.0, "rate_per_year": proto.transplant.rate_per_year.model_copy(update={"value": 0.5})})})
    s = run_trial(proto, pop, replicates=20).subjects
    tx = s[s["transplanted"]]
    assert len(tx) > 0 and tx["hcc_day"].notna().all() and (tx["transplant_day"] >= tx["hcc_day"] - 1).all()
    off = proto.model_copy(update={"transplant": proto.transplant.model_copy(update={"list_hcc": False})})
    assert not run_trial(off, pop, replicates=20).subjects["transplanted"].any()
