"""The death hazard: its formula (MELD slope, clinical stage, encephalopathy) and its fit to stage mortality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hepatwin.calibrate.cohorts import simulate_cohort
from hepatwin.calibrate.hazard import fit_death_hazard
from hepatwin.calibrate.validation import natural_history_rows
from hepatwin.cli import app
from hepatwin.model import build_model
from hepatwin.model.calibration import CALIBRATION_FILE
from hepatwin.population.config import load_population

COHORT = Path(__file__).resolve().parents[1] / "examples" / "populations" / "cirrhosis_natural_history.toml"


def test_hazard_is_meld_slope_times_stage_and_encephalopathy_ratios():
    # an untreated cohort holds every clinical stage and encephalopathy grade >= 2
    run = simulate_cohort(load_population(COHORT), 300, np.arange(0.0, 366.0, 30.0))
    model = run.model
    d = dict(zip(model.derived_names, model.derived(np.transpose(np.nan_to_num(run.y), (1, 0, 2)),
                                                    run.params.T[:, :, None]), strict=True))
    p = {k: v.value for k, v in build_model().parameters.items()}
    asc, hvpg, he = d["ascites_grade"], d["HVPG"], d["he_grade"]
    assert (asc >= 1).any() and ((asc == 0) & (hvpg >= 10)).any() and ((asc == 0) & (hvpg < 10)).any()
    assert (he >= 2).any()
    stage_ratio = np.where(asc >= 1, p["hr_asc"], np.where(hvpg >= 10.0, p["hr_csph"], 1.0))
    by_hand = p["h_ref"] * np.exp(0.1 * (d["meld_cont"] - 10.0)) * stage_ratio * np.where(he >= 2, 2.6, 1.0)
    # plus the 6-week excess after a variceal bleed (model/events.py), zero for a patient who has not bled
    np.testing.assert_allclose(d["hazard_death"], by_hand + d["hazard_vb_death"] + d["hazard_of_death"], rtol=1e-12)
    assert (d["hazard_vb_death"] > 0).any() and (d["hazard_vb_death"] == 0).any()
    # a patient with ascites and encephalopathy grade >= 2 dies hr_asc * 2.6 times faster than a compensated one
    # without portal hypertension at the same MELD
    k = np.unravel_index(np.argmax(np.where((asc >= 1) & (he >= 2), d["meld_cont"], -np.inf)), asc.shape)
    chronic = d["hazard_death"][k] - d["hazard_vb_death"][k] - d["hazard_of_death"][k]
    ratio = chronic / (p["h_ref"] * np.exp(0.1 * (d["meld_cont"][k] - 10.0)))
    assert ratio == pytest.approx(p["hr_asc"] * 2.6, rel=1e-12)


def test_hazard_fit_reproduces_damico_natural_history_and_holds_out_wiesner():
    fit = fit_death_hazard(COHORT, n=2000)
    assert all(fit.patients[s] >= 100 for s in (1, 2, 3))
    # stage 2 patients die at 3.5%/year even with no excess for varices (hr_csph at the lower end of its range)
    # because their disease progresses; least squares shares that miss with the median survival (2.06 years)
    assert fit.targets_fitted["stage 1 annual mortality (%)"] == pytest.approx(1.0, rel=0.01)
    assert fit.targets_fitted["stage 3 median survival (years)"] == pytest.approx(2.0, rel=0.05)
    assert fit.targets_fitted["stage 2 annual mortality (%)"] == pytest.approx(3.4, rel=0.06)
    assert fit.at_bound("hr_csph") and not fit.reached
    spec = build_model()
    for name, v in fit.fitted.items():
        assert spec.parameters[name].lower <= v <= spec.parameters[name].upper
    # decompensated patients die far faster than compensated ones at the same MELD
    assert fit.fitted["hr_asc"] > 3 * fit.fitted["hr_csph"]
    # the ODE-integrated validation rows of the same cohort agree with the fit, and the MELD-band mortality of
    # Wiesner 2003, not used for fitting, lands within its tolerance in every band, 30-39 and >= 40 included
    rows = {r.id: r for r in natural_history_rows(COHORT, 2000)}
    for rid in ("damico_stage1_annual", "damico_stage2_annual", "damico_median_survival_decompensated"):
        assert rows[rid].passed, rows[rid]
    for band in ("le9", "10_19", "20_29", "30_39", "ge40"):
        assert rows[f"wiesner_meld_{band}"].passed, rows[f"wiesner_meld_{band}"]


def test_cli_calibrate_hazard_prints_the_fit_and_refuses_a_missing_cohort(tmp_path):
    # 2000 patients: the stage-2 ratio runs into the end of its range (hr_csph 1) and stage 2 misses by 1.5%;
    # the command says so, and stores the fit only when told to accept the miss
    target = tmp_path / "calibration.toml"
    target.write_bytes(CALIBRATION_FILE.read_bytes())
    res = CliRunner().invoke(app, ["calibrate", "--target", "hazard", "--cohort", str(COHORT), "--cohort-n", "2000",
                                   "--write", str(target)])
    out = str(res.exception) + res.output
    assert "hr_asc" in res.output and "stage 3 median survival (years)" in res.output and "(published 2)" in res.output
    assert "the fit misses" in out and "at the end of its range: hr_csph" in out
    assert res.exit_code != 0 and "nothing was written" in out and "--accept-miss" in out
    assert target.read_bytes() == CALIBRATION_FILE.read_bytes()
    res = CliRunner().invoke(app, ["calibrate", "--target", "hazard", "--cohort", str(COHORT), "--cohort-n", "2000",
                                   "--write", str(target), "--accept-miss", "--force"])
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output and target.read_bytes() != CALIBRATION_FILE.read_bytes()
    missing = tmp_path / "none.toml"
    res = CliRunner().invoke(app, ["calibrate", "--target", "hazard", "--cohort", str(missing)])
    assert res.exit_code != 0 and "not found" in str(res.exception) + res.output
