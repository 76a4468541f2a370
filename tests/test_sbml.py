"""SBML export: libsbml finds no errors, and libRoadRunner simulates it to the engine's answer."""

import copy
import subprocess
import sys

import libsbml
import numpy as np
import pytest
import roadrunner

from hepatwin.checks import decompensated_hbv
from hepatwin.io.sbml import export_sbml, export_scenario
from hepatwin.model import build_model
from hepatwin.scenario import parse_scenario
from hepatwin.simulate import simulate

DAYS = [0.0, 0.5, 3.0, 10.0, 29.0, 57.0, 85.0, 169.0]  # not on infusion days (pre- vs post-event convention)


def _scenarios():
    msc = decompensated_hbv(1e8, end_day=169, output_days=DAYS)
    alcohol = {
        "name": "alcohol hepatic artery",
        "patient": {"etiology": "alcohol", "history": {"years": 12, "injury_scale": 1.5}, "age_years": 61},
        "therapy": [{"kind": "abstinence", "start_day": 20}],
        "regimen": [{"cell_source": "bone_marrow", "dose": 1e6, "dose_unit": "cells/kg", "route": "hepatic_artery",
                     "days": [2, 30]}],
        "simulation": {"end_day": 169, "output_days": DAYS, "knockouts": ["microcirculation"]},
    }
    spec = build_model()
    baseline = {n: v * 1.0 for n, v in spec.healthy_state().items()}
    baseline.update(H=0.6, Cx=14.0, Cs=2.0, A=0.2, Alb=30.0, PTA=65.0, Asc=1.0, E=0.7)
    portal = {
        "name": "baseline-state portal vein",
        "patient": {"etiology": "HCV", "baseline": baseline, "sex": "female"},
        "therapy": [{"kind": "antiviral", "start_day": 0}],
        "regimen": [{"cell_source": "adipose", "dose": 5e7, "route": "portal_vein", "days": [1, 8, 15, 22]}],
        "simulation": {"end_day": 169, "output_days": DAYS},
    }
    out = []
    for s in (msc, alcohol, portal):
        s = copy.deepcopy(s)
        s["simulation"].update(rtol=1e-10, atol=1e-12)
        out.append(parse_scenario(s))
    return out


@pytest.mark.parametrize("index", [0, 1, 2])
def test_roadrunner_matches_engine(index):
    scen = _scenarios()[index]
    report = export_scenario(scen)
    assert report.errors == []
    print(f"libsbml warnings ({len(report.warnings)}):", *sorted(set(report.warnings)), sep="\n  ")
    ours = simulate(scen, engine="numba")
    assert ours.ok
    rr = roadrunner.RoadRunner(report.sbml)
    # rtol 1e-9, not 1e-10: with 1e-10 / 1e-12 CVODE stopped with CV_CONV_FAILURE at the first infusion of the
    # MSC scenario, but only in the first RoadRunner instance of a process (a second instance of the same SBML,
    # or a second simulate after reset, ran through; 1e-9, 1e-8 and 1e-11 all ran through), so a knife-edge of
    # the integrator, not of the model. Both are far tighter than the 1e-4 agreement asserted below.
    rr.integrator.relative_tolerance = 1e-9
    rr.integrator.absolute_tolerance = 1e-12
    spec = build_model()
    names = spec.state_names + [n for n in spec.observables if n not in ("stage", "ascites_grade", "he_grade")]
    rr.timeCourseSelections = ["time", *names]
    t0 = ours.solver["t_start_day"]
    times = [d - t0 for d in DAYS]
    res = rr.simulate(times=times) if times[0] == 0.0 else rr.simulate(times=[0.0, *times])[1:]
    # at an event time hepatwin reports the pre-event value and SBML the post-event one: skip those
    keep = np.array([d not in {e["day"] for e in ours.events} for d in DAYS])
    for i, name in enumerate(names):
        a = np.asarray(res[:, i + 1])[keep]
        b = ours.dataset[name].values[keep]
        floor = 1e-4 * (spec.states[name].typical if name in spec.states else max(np.abs(b).max(), 1e-300))
        rel = np.abs(a - b) / np.maximum(np.abs(b), floor)
        assert rel.max() < 1e-4, (scen.name, name, rel.max(), a, b)


def test_plain_model_exports_and_validates():
    report = export_sbml(build_model())
    doc = libsbml.readSBMLFromString(report.sbml)
    assert doc.getLevel() == 3 and doc.getVersion() == 2
    m = doc.getModel()
    spec = build_model()
    assert m.getNumParameters() >= len(spec.parameters) + len(spec.states) + len(spec.derived)
    assert m.getNumRules() == len(spec.states) + len(spec.derived) + 1
    assert m.getParameter("k_alb").getUnits() == "u_1_day"
    ud = m.getUnitDefinition("u_1_day")
    assert ud.getUnit(0).getKind() == libsbml.UNIT_KIND_SECOND and ud.getUnit(0).getExponent() == -1
    assert m.getParameter("Mlung").getUnits() == "u_cell"


def test_cli_export_sbml_with_events(tmp_path):
    from pathlib import Path

    scen = Path(__file__).resolve().parents[1] / "examples" / "scenarios" / "hbv_decompensated_msc.toml"
    out = tmp_path / "m.xml"
    p = subprocess.run([sys.executable, "-m", "hepatwin.cli", "export", "sbml", str(out), str(scen)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "0 error(s)" in p.stdout
    m = libsbml.readSBMLFromFile(str(out)).getModel()
    assert m.getNumEvents() == 5  # antiviral start, hazard counting from day 0, three infusions
