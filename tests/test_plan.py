"""The planning layer (hepatwin.plan) is the one place that sets the model's special parameters; its plans for
every example input follow the contract: burn-in from a healthy liver with hazards switched on at day 0, or a
restart from the patient's own day-0 state with hazards on from the start."""

import glob
from pathlib import Path

import numpy as np
import pytest

from hepatwin.engine.codegen import compile_model
from hepatwin.model import ETIOLOGIES, build_model
from hepatwin.plan import plan_history, plan_restart, plan_run
from hepatwin.population import load_population
from hepatwin.population.generate import sample, simulate_baseline
from hepatwin.scenario import Regimen, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SPEC = build_model()
MODEL = compile_model(SPEC)


def _p(P, name):
    return P[:, MODEL.param_index(name)]


@pytest.mark.parametrize("path", sorted(glob.glob(str(ROOT / "examples" / "scenarios" / "*.toml"))))
def test_scenario_plans(path):
    scen = load_scenario(path)
    plan = plan_run(scen, SPEC)
    assert plan.params[ETIOLOGIES[scen.patient.etiology][0]] == 1.0 and plan.params["age"] == scen.patient.age_years
    assert plan.t_start == -scen.patient.history.years * 365.25 and plan.params["hz_on"] == 0.0
    assert any(e.time == 0.0 and e.set.get("hz_on") == 1.0 for e in plan.events)
    assert len([e for e in plan.events if e.add]) == sum(len(r.days) for r in scen.regimen) + len(scen.event)
    assert [e.time for e in plan.events] == sorted(e.time for e in plan.events)


@pytest.mark.parametrize("path", sorted(glob.glob(str(ROOT / "examples" / "populations" / "*.toml"))))
def test_cohort_plans(path):
    cfg = load_population(path)
    cand = sample(cfg, np.arange(6))
    reg = [Regimen(dose=5e7, dose_unit="cells", days=[1, 8])]
    hist = plan_history(cfg, cand, SPEC, MODEL, reg)
    assert np.array_equal(hist.t_start, -cand["years"].to_numpy() * 365.25)
    assert (_p(hist.params, "hz_on") == 0).all() and (_p(hist.params, ETIOLOGIES[cfg.etiology][0]) == 1).all()
    assert np.array_equal(_p(hist.params, "inj_scale"), cand["injury_scale"].to_numpy())
    assert np.allclose(hist.y0, MODEL.state_vector(SPEC.healthy_state()))
    for evs in hist.events:   # the two infusions and the population's own events before baseline (a flare...)
        assert sum(e.set.get("hz_on") == 1.0 for e in evs) == 1 and sum(bool(e.add) for e in evs) == 2 + len(cfg.event)
    # the state events draw from each patient's own streams: distinct seeds, finite first thresholds
    for trig in SPEC.triggers.values():
        seeds, first = _p(hist.params, trig.seed), _p(hist.params, trig.threshold)
        assert len(set(seeds)) == len(seeds) and np.all(np.isfinite(first)) and np.all(first > 0)
    base = simulate_baseline(cfg, cand).assign(patient_id=cand["patient_id"].to_numpy(),
                                               weight_kg=cand["weight_kg"].to_numpy(),
                                               injury_scale=cand["injury_scale"].to_numpy(),
                                               age_years=cand["age_years"].to_numpy(),
                                               years=cand["years"].to_numpy(),
                                               **{k: cand[k].to_numpy() for k in cfg.parameters})
    own = [reg if j % 2 else [] for j in range(len(base))]
    rest = plan_restart(cfg, base, SPEC, MODEL, control_on=False, therapy_days=[30.0], regimens=own)
    assert (rest.t_start == 0).all() and (_p(rest.params, "hz_on") == 1).all() and (_p(rest.params, "ctl") == 0).all()
    assert np.array_equal(rest.y0, base[MODEL.state_names].to_numpy(float))
    for trig in SPEC.triggers.values():   # by default keyed by the population's seed and the patient id, as above
        assert np.array_equal(_p(rest.params, trig.seed), _p(hist.params, trig.seed))
    for j, evs in enumerate(rest.events):
        assert [e.time for e in evs if e.set.get("ctl") == 1.0] == [30.0]
        assert sum(bool(e.add) for e in evs) == (2 if j % 2 else 0)
