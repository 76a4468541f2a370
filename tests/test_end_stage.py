"""End-stage disease and ACLF from the patient's own state: hepatocyte replicative capacity spent by
injury-driven divisions, the hepatorenal creatinine rise, acute hepatitis (HBV flare, alcoholic hepatitis) as an
ACLF precipitant, the CLIF-C ACLF score, and the refusal of a precipitant on a liver without cirrhosis."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli_helpers import refused, run
from hepatwin.calibrate.cohorts import simulate_cohort
from hepatwin.cli import app
from hepatwin.clinical.aclf import clif_c_aclf, clif_c_ofs
from hepatwin.model import build_model
from hepatwin.population.config import PopulationConfig, load_population
from hepatwin.scenario import parse_scenario
from hepatwin.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "src" / "hepatwin" / "examples"
P = {k: v.value for k, v in build_model().parameters.items()}

CIRRHOSIS = {
    "name": "HBV cirrhosis, untreated",
    "patient": {"etiology": "HBV", "sex": "male", "weight_kg": 65, "age_years": 45,
                "history": {"years": 25, "injury_scale": 1.5}},
    "simulation": {"end_day": 120, "output_step_days": 1.0},
}


def hill(x, k, n):
    return x**n / (x**n + k**n)


def _run(data: dict):
    res = simulate(parse_scenario(copy.deepcopy(data), data["name"]))
    assert res.ok, res.message
    return res.dataset


def test_replicative_capacity_is_spent_by_divisions_beyond_turnover_only():
    ds = _run(CIRRHOSIS | {"simulation": {"end_day": 720, "output_step_days": 1.0}})
    rc, div, t = ds["Rc"].values, ds["div"].values, ds["time"].values
    # dRc/dt = -k_sen Rc max(0, div - kd0 (1 + div_free)), checked by central differences on the daily output
    rate = -P["k_sen"] * rc * np.maximum(0.0, div - P["kd0"] * (1 + P["div_free"]))
    fd = np.gradient(rc, t)
    np.testing.assert_allclose(fd[1:-1], rate[1:-1], rtol=0.02, atol=1e-9)
    assert (np.diff(rc) <= 1e-12).all() and rc[-1] < rc[0] < 1.0
    # an untreated liver keeps dividing faster than normal turnover: the capacity, and with it the hepatocyte
    # mass, fall from the patient's own state
    assert ds["H"].values[-1] < ds["H"].values[0]
    # once antivirals remove the injury, divisions fall back towards turnover and the loss slows down
    treated = copy.deepcopy(CIRRHOSIS) | {"therapy": [{"kind": "antiviral", "start_day": -3650}],
                                          "simulation": {"end_day": 720, "output_step_days": 1.0}}
    ts = _run(treated)
    loss_untreated = math.log(rc[0] / rc[-1])
    loss_treated = math.log(ts["Rc"].values[0] / ts["Rc"].values[-1])
    assert loss_treated < 0.5 * loss_untreated


def test_healthy_liver_keeps_its_capacity():
    ds = _run({"name": "healthy", "patient": {"etiology": "HBV", "sex": "female", "weight_kg": 60,
                                              "history": {"years": 0, "injury_scale": 0.0}},
               "simulation": {"end_day": 3650, "output_step_days": 365.25}})
    assert np.all(ds["Rc"].values == 1.0)


def test_creatinine_rises_with_ascites_and_failing_function_by_the_hepatorenal_formula():
    ds = _run(CIRRHOSIS)
    asc, fn, ai = ds["Asc"].values, ds["Fn"].values, ds["AI"].values
    by_hand = P["Cr0"] * (1 + P["k_cr"] * hill(asc, P["K_cr_asc"], 2)
                          + P["k_hrs"] * hill(asc, P["asc_g2"], 2) * hill(np.maximum(0, 1 - fn), P["K_hrs"], 8)
                          + P["k_cr_ai"] * ai)
    np.testing.assert_allclose(ds["Cr"].values, by_hand, rtol=1e-10)
    # a hand-computed point: 1.5 L of ascites (grade-2 volume), 10% of hepatic function left, no insult
    h1 = 1.5**2 / (1.5**2 + P["K_cr_asc"] ** 2)
    expected = 75.0 * (1 + 0.6 * h1 + 4.0 * 0.5 * 0.9**8 / (0.9**8 + 0.8**8))
    got = P["Cr0"] * (1 + P["k_cr"] * hill(1.5, P["K_cr_asc"], 2) + P["k_hrs"] * hill(1.5, P["asc_g2"], 2)
                      * hill(0.9, P["K_hrs"], 8))
    assert got == pytest.approx(expected, rel=1e-12) and expected / 88.4 > 2.0   # kidney failure of end-stage


def test_untreated_cohort_reaches_end_stage_meld_over_five_years():
    cfg = load_population(EXAMPLES / "populations" / "cirrhosis_natural_history.toml")
    run = simulate_cohort(cfg, 400, np.array([0.0, 365.25, 5 * 365.25]))
    m = run.model
    y = np.transpose(np.nan_to_num(run.y), (1, 0, 2))
    d = dict(zip(m.derived_names, m.derived(y, run.params.T[:, :, None]), strict=True))
    meld, h = d["meld_cont"], y[m.state_names.index("H")]
    ok = run.ok
    # MELD 30-40 is reached (at baseline or later) by a share of patients, and disease progresses on average
    assert (meld[ok] >= 30).any(axis=1).mean() > 0.05
    assert np.median(meld[ok, 2] - meld[ok, 0]) > 0 and np.median(h[ok, 2] - h[ok, 0]) < 0


def test_hbv_flare_precipitates_aclf_and_kills_through_organ_failure():
    flare = copy.deepcopy(CIRRHOSIS) | {"event": [{"kind": "hbv_flare", "day": 20}]}
    ds, base = _run(flare), _run(CIRRHOSIS)
    t = ds["time"].values
    k = int(np.searchsorted(t, 21.0))
    assert ds["N_flare"].values[k] == 1 and ds["AH"].values[k] > 0.8
    assert ds["ALT"].values[k] > 4 * base["ALT"].values[k]            # acute hepatitis: ALT > 4x the day before
    assert ds["aclf_grade"].values[k:k + 7].max() >= 1               # organ failures after the insult
    assert ds["survival"].values[-1] < base["survival"].values[-1] - 0.05
    # the excess hazard of organ failures is carried by the insult: none without one
    assert np.all(base["hazard_of_death"].values == 0.0)
    np.testing.assert_allclose(ds["hazard_of_death"].values,
                               P["h_of"] * ds["organ_failures"].values * np.minimum(ds["AI"].values, 1.0),
                               rtol=1e-12)


def test_clif_c_aclf_score_is_the_published_formula_of_the_state():
    ds = _run(copy.deepcopy(CIRRHOSIS) | {"event": [{"kind": "hbv_flare", "day": 20}]})
    k = int(np.searchsorted(ds["time"].values, 21.0))
    x = {v: ds[v].values[k] for v in ("Bil_mgdl", "Cr_mgdl", "he_grade", "INR", "MAP", "PF", "WBC")}
    ofs = clif_c_ofs(x["Bil_mgdl"], x["Cr_mgdl"], int(x["he_grade"]), x["INR"], x["MAP"], pao2_fio2=x["PF"])
    assert ds["clif_c_aclf"].values[k] == pytest.approx(clif_c_aclf(ofs, 45.0, x["WBC"]), rel=1e-12)
    # by hand: 10 (0.33 OFs + 0.04 age + 0.63 ln WBC - 2)
    assert ds["clif_c_aclf"].values[k] == pytest.approx(
        10 * (0.33 * ofs + 0.04 * 45 + 0.63 * math.log(x["WBC"]) - 2), rel=1e-12)


def test_a_precipitant_on_a_liver_without_cirrhosis_is_refused(tmp_path):
    f = tmp_path / "early.toml"
    f.write_text('name = "early fibrosis"\n[patient]\netiology = "HBV"\nsex = "male"\nweight_kg = 65\n'
                 'history = { years = 3, injury_scale = 1.0 }\n[simulation]\nend_day = 60\n'
                 '[[event]]\nkind = "infection"\nday = 10\n')
    out = tmp_path / "out"
    refused(run("simulate", f, "--out", out), "event[0].kind", "'infection'", "expected >= 4")
    assert not out.exists()


def test_hbv_aclf_population_enrols_patients_in_aclf_after_their_flare(tmp_path):
    cfg = load_population(EXAMPLES / "populations" / "hbv_aclf.toml")
    run = simulate_cohort(cfg, 60, np.array([0.0, 28.0]))
    b = run.baseline
    assert (b["Bil_mgdl"] >= 5).all() and (b["INR"] >= 1.5).all() and (b["stage"] >= 4).all()
    assert (b["N_flare"] == 1).all() and (b["AH"] > 0.5).all()       # the flare of day -7, fading
    assert (b["aclf_grade"] >= 1).mean() > 0.5
    # a precipitant without a cirrhosis criterion is refused when the file is read
    text = (EXAMPLES / "populations" / "hbv_aclf.toml").read_text()
    bad = text.replace('name = "cirrhosis (F4)"\nvariable = "stage"', 'name = "fibrosis"\nvariable = "CPA"')
    assert bad != text
    f = tmp_path / "bad.toml"
    f.write_text(bad)
    with pytest.raises(ValueError, match=r"event\[0\]\.kind 'hbv_flare' is an acute insult .* stage >= 4"):
        load_population(f)


def test_population_event_before_the_history_starts_is_refused():
    data = {"name": "x", "etiology": "HBV", "history": {"years": {"dist": "uniform", "low": 1, "high": 2},
                                                        "injury_scale": {"dist": "fixed", "value": 1.0}},
            "event": [{"kind": "hcc", "day": -1000}]}
    with pytest.raises(ValueError, match=r"event\[0\]\.day -1000 is before the shortest disease history"):
        PopulationConfig.model_validate(data)


def test_aclf_trial_runs_and_reports_survival_and_clif_c_aclf(tmp_path):
    out = tmp_path / "trial"
    res = CliRunner().invoke(app, ["trial", "run", str(EXAMPLES / "trials" / "hbv_aclf_msc.toml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    adlb = pd.read_parquet(next(out.rglob("adlb.parquet")))
    assert "CLIFCACL" in set(adlb["PARAMCD"])
    assert "died" in res.output
