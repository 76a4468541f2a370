"""Labs trials report (model/labs.py) and the scores computed from them (clinical/panel.py): formulas by hand,
directions that must hold, and the trial tables that carry them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from hepatwin import load_scenario, simulate
from hepatwin.clinical.panel import lab_scores
from hepatwin.model import build_model
from hepatwin.model.catalog import LABS, SCORE_VARIABLES, SCORES
from hepatwin.scenario import parse_scenario
from hepatwin.trial import load_protocol, run_trial
from hepatwin.trial.tables import build_tables

ROOT = Path(__file__).resolve().parents[1]
UNTREATED = ROOT / "examples" / "scenarios" / "hbv_decompensated_untreated.toml"
P = {k: v.value for k, v in build_model().parameters.items()}


@pytest.fixture(scope="module")
def course():
    return simulate(UNTREATED).dataset


def test_lab_formulas_by_hand(course):
    ds = course
    dmg, perf, fn = ds["dmg"].values, ds["perf"].values, ds["Fn"].values
    np.testing.assert_allclose(ds["ALT"].values, P["ALT0"] * (1 + P["k_alt"] * dmg), rtol=1e-12)
    np.testing.assert_allclose(ds["AST"].values, P["AST0"] * (1 + P["k_ast"] * dmg) / np.maximum(perf, 0.05),
                               rtol=1e-12)
    np.testing.assert_allclose(ds["CHE"].values, P["CHE0"] * fn, rtol=1e-12)
    hyper = ds["HVPG"].values ** 2 / (P["K_spl"] ** 2 + ds["HVPG"].values ** 2)
    np.testing.assert_allclose(ds["PLT"].values, P["PLT0"] * (1 - P["s_spl"] * hyper) * np.sqrt(fn), rtol=1e-12)
    np.testing.assert_allclose(ds["WBC"].values, P["WBC0"] * (1 - P["s_wbc"] * hyper) * (1 + P["w_wbc_ai"] *
                                                                                         ds["AI"].values), rtol=1e-12)
    np.testing.assert_allclose(ds["LSM"].values, np.minimum(2.48 + 1.29 * ds["HVPG"].values + 0.26 * ds["CPA"].values,
                                                            75.0), rtol=1e-12)


def test_scores_from_the_labs_by_hand(course):
    ds = course
    age = 50.0   # the example patient
    # FIB-4 = age x AST / (platelets x sqrt(ALT)); APRI = (AST / 40) x 100 / platelets
    np.testing.assert_allclose(ds["fib4"].values, age * ds["AST"].values / (ds["PLT"].values
                                                                             * np.sqrt(ds["ALT"].values)), rtol=1e-12)
    np.testing.assert_allclose(ds["apri"].values, ds["AST"].values / 40 * 100 / ds["PLT"].values, rtol=1e-12)
    # CLIF-C AD = 10 x (0.03 age + 0.66 ln(Cr mg/dL) + 1.71 ln(INR) + 0.88 ln(WBC) - 0.05 Na + 8)
    cr = ds["Cr"].values / 88.4
    want = 10 * (0.03 * age + 0.66 * np.log(cr) + 1.71 * np.log(ds["INR"].values) + 0.88 * np.log(ds["WBC"].values)
                 - 0.05 * ds["Na"].values + 8)
    np.testing.assert_allclose(ds["clif_c_ad"].values, want, rtol=1e-12)
    # one hand-computed panel: age 55, AST 40, ALT 30, platelets 150 -> FIB-4 = 2200 / (150 x 5.4772) = 2.678
    one = lab_scores({"Bil": np.array([17.1]), "Alb": np.array([40.0]), "INR": np.array([1.0]),
                      "Cr": np.array([88.4]), "Na": np.array([140.0]), "AST": np.array([40.0]),
                      "ALT": np.array([30.0]), "PLT": np.array([150.0]), "WBC": np.array([8.0])},
                     female=False, age_years=55.0, ascites_grade=np.array([0]), he_grade=np.array([0]))
    assert one["fib4"][0] == pytest.approx(2.678, abs=5e-4) and one["meld"][0] == 6.0
    assert one["child_pugh_points"][0] == 5 and one["apri"][0] == pytest.approx(40 / 40 * 100 / 150)


def _variant(**patient):
    data = load_scenario(UNTREATED).model_dump(mode="json")
    data["patient"].update(patient)
    return data


def test_directions_that_must_hold():
    # cirrhosis: AST/ALT above 1, platelets below 150 with clinically significant portal hypertension
    cirr = simulate(UNTREATED).dataset
    assert (cirr["AST"].values / cirr["ALT"].values > 1).all()
    assert (cirr["PLT"].values[cirr["HVPG"].values >= 12] < 150).all()
    # a short history without cause control: active hepatitis, ALT above the reference limit, AST/ALT below 1
    data = _variant(history={"years": 2, "injury_scale": 3.0})
    data["therapy"] = []
    early = simulate(parse_scenario(data, "early")).dataset
    assert early["ALT"].values[0] > 45 and early["AST"].values[0] / early["ALT"].values[0] < 1
    assert early["PLT"].values[0] > cirr["PLT"].values[0] and early["CHE"].values[0] > cirr["CHE"].values[0]
    # primary biliary cholangitis: ALP and GGT above the reference limits, lower with UDCA
    data = _variant(etiology="PBC")
    data["therapy"] = []
    chol = simulate(parse_scenario(data, "cholestatic")).dataset
    data["therapy"] = [{"kind": "udca", "start_day": 0}]
    udca = simulate(parse_scenario(data, "udca")).dataset
    assert chol["ALP"].values[-1] > 120 and chol["GGT"].values[-1] > 40
    assert udca["ALP"].values[-1] < chol["ALP"].values[-1] and udca["GGT"].values[-1] < chol["GGT"].values[-1]


def test_trials_observe_the_new_labs_and_scores():
    proto, pop = load_protocol(ROOT / "examples" / "trials" / "zhongnan2024.toml")
    tables = build_tables(run_trial(proto, pop, replicates=1))
    codes = set(tables["lb"]["LBTESTCD"])
    assert {LABS[v].code for v in ("ALT", "AST", "ALP", "GGT", "CHE", "PLT", "WBC")} <= codes
    assert {SCORES[s].code for s in ("fib4", "apri", "clif_c_ad")} <= codes
    assert {"fib4", "apri", "clif_c_ad"} <= set(SCORE_VARIABLES)
    adlb = tables["adlb"]
    plt = adlb[(adlb["PARAM"] == "PLT") & adlb["AVAL"].notna()]["AVAL"]
    assert len(plt) > 0 and plt.between(10, 400).all()
    # every new lab has a sourced CV within its range
    for v in ("ALT", "AST", "ALP", "GGT", "CHE", "PLT", "WBC"):
        lab = LABS[v]
        assert lab.cv_low <= lab.cv <= lab.cv_high and lab.cv_source.startswith(("doi:", "PMID:")), v
        assert math.isclose(lab.cv, 1.12 * lab.cv_low, rel_tol=0.01), v
