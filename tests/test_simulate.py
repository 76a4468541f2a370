"""simulate(): results content, units, doses, routes, determinism, outputs on disk."""

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import xarray as xr

from hepatwin.clinical import meld
from hepatwin.plan import plan_run
from hepatwin.scenario import parse_scenario
from hepatwin.simulate import simulate


def test_result_has_states_observables_scores_with_units(demo_pair):
    _, msc = demo_pair
    ds = msc.dataset
    assert msc.ok
    assert ds["Alb"].attrs["units"] == "g/L" and ds["PTA"].attrs["units"] == "percent"
    assert ds["Bil"].attrs["units"] == "umol/L" and ds["HVPG"].attrs["units"] == "mmHg"
    for v in ("child_pugh_points", "child_pugh_class", "meld", "meld_na", "meld_3", "albi", "albi_grade",
              "CPA", "stage", "INR", "ascites_grade", "he_grade", "hazard_death", "survival"):
        assert v in ds, v
    assert "not clinical advice" in ds.attrs["disclaimer"]


def test_scores_are_the_clinical_functions_of_the_simulated_labs(demo_pair):
    _, msc = demo_pair
    row = msc.at(85)
    assert row["meld"] == meld(row["Bil_mgdl"], row["INR"], row["Cr_mgdl"])


def test_dose_per_kg_equals_total_cells_times_weight(scenario_dict):
    a = parse_scenario(scenario_dict)
    scenario_dict["regimen"][0].update(dose=5e7 / 65, dose_unit="cells/kg")
    b = parse_scenario(scenario_dict)
    ea, eb = plan_run(a).events, plan_run(b).events
    dose_a = [sum(e.add.values()) for e in ea if e.add]
    dose_b = [sum(e.add.values()) for e in eb if e.add]
    assert np.allclose(dose_a, [5e7] * 3) and np.allclose(dose_b, dose_a)


def test_route_decides_where_cells_go(scenario_dict):
    scenario_dict["simulation"].pop("output_step_days", None)   # output_days replace the step
    scenario_dict["simulation"]["output_days"] = [0, 1, 1.01, 2]
    scenario_dict["simulation"]["end_day"] = 20
    iv = simulate(parse_scenario(scenario_dict)).dataset
    scenario_dict["regimen"][0]["route"] = "hepatic_artery"
    ha = simulate(parse_scenario(scenario_dict)).dataset
    t = 1.01
    assert iv["Mlung"].sel(time=t) > 5 * iv["Mliver"].sel(time=t)
    assert ha["Mliver"].sel(time=t) > 2 * ha["Mlung"].sel(time=t)
    # cells are cleared within days: almost nothing viable two weeks after the last infusion
    scenario_dict["simulation"].update(output_days=[0, 15, 29], end_day=30)
    late = simulate(parse_scenario(scenario_dict)).dataset
    assert late["msc_total"].sel(time=29) < 1e-3 * 5e7  # < 0.1% of the day-15 infusion


def test_same_inputs_give_identical_results(scenario_dict):
    a = simulate(parse_scenario(scenario_dict)).dataset
    b = simulate(parse_scenario(scenario_dict)).dataset
    for v in a.data_vars:
        assert np.array_equal(a[v].values, b[v].values), v


def test_effect_outlasts_cells(demo_pair):
    base, msc = demo_pair
    ds = msc.dataset
    assert ds["msc_total"].sel(time=29) < 1e-3 * ds["msc_total"].sel(time=16)
    assert msc.at(57)["Alb"] - base.at(57)["Alb"] > 1.0


def test_cli_simulate_writes_every_output(tmp_path):
    from pathlib import Path

    scen = Path(__file__).resolve().parents[1] / "examples" / "scenarios" / "hbv_decompensated_msc.toml"
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "hepatwin.cli", "simulate", str(scen), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for f in ("results.parquet", "results.csv", "results.nc", "manifest.json", "plots/labs.png", "plots/scores.png"):
        assert (out / f).stat().st_size > 0, f
    man = json.loads((out / "manifest.json").read_text())
    assert man["status"] == "ok" and man["hepatwin_version"] and len(man["scenario_sha256"]) == 64
    assert {"setup_s", "solve_s", "write_s"} <= set(man["timings_s"])
    assert man["solver"]["method"] == "LSODA" and man["solver"]["rtol"] == 1e-6
    tidy = pd.read_parquet(out / "results.parquet")
    assert set(tidy.columns) >= {"time_day", "variable", "value", "unit"}
    alb = tidy[(tidy.variable == "Alb") & (tidy.time_day == 85)]
    nc = xr.open_dataset(out / "results.nc")
    assert math.isclose(float(alb.value.iloc[0]), float(nc["Alb"].sel(time=85)), rel_tol=1e-12)
    assert nc["Alb"].attrs["units"] == "g/L"
    nc.close()
    assert not list(out.glob("**/*.partial"))


def test_age_covariate_reduces_regenerative_capacity(scenario_dict):
    scenario_dict["simulation"].pop("output_step_days", None)
    scenario_dict["simulation"].update(output_days=[0, 30], end_day=30)
    scenario_dict["patient"]["age_years"] = 50
    young = simulate(parse_scenario(scenario_dict)).dataset
    scenario_dict["patient"]["age_years"] = 70
    old = simulate(parse_scenario(scenario_dict)).dataset
    # kp_eff = kp * (1 - 0.01/year * (70 - 50) years) = 0.8 kp
    assert np.isclose(float(old["kp_eff"][0] / young["kp_eff"][0]), 0.8)
