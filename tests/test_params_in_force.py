"""Outputs see the parameters in force at their time: a cause control that starts before baseline or during
follow-up changes the derived outputs (injury, ALT, bilirubin, hazards) from that day, in populations, cohorts
and trials as in a single scenario."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hepatwin.calibrate.cohorts import simulate_cohort
from hepatwin.engine.codegen import compile_model
from hepatwin.engine.events import Event
from hepatwin.model import build_model
from hepatwin.plan import derived_in_force, params_in_force
from hepatwin.population.config import load_population

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "hepatwin" / "examples"
SPEC = build_model()
MODEL = compile_model(SPEC)
P = {k: v.value for k, v in SPEC.parameters.items()}


def test_set_events_change_the_outputs_after_their_day_only():
    params = np.repeat(MODEL.param_vector(SPEC.default_values() | {"etio_HBV": 1.0, "inj_scale": 1.5})[None], 2, 0)
    y = np.repeat(MODEL.state_vector(SPEC.healthy_state())[:, None, None], 2, 1).repeat(5, 2)
    t = np.array([0.0, 5.0, 10.0, 11.0, 20.0])
    events = [[Event(10.0, set={"ctl": 1.0})], [Event(-3.0, set={"ctl": 1.0})]]
    inj = dict(zip(MODEL.derived_names, derived_in_force(MODEL, y, params, events, t), strict=True))["inj"]
    untreated, treated = 1.5 * P["k_inj_HBV"], 1.5 * P["k_inj_HBV"] * (1 - P["eff_NA"])
    # patient 0: the output at day 10 sees the value before its event; patient 1 is treated throughout
    np.testing.assert_allclose(inj[0], [untreated, untreated, untreated, treated, treated], rtol=1e-14)
    np.testing.assert_allclose(inj[1], treated, rtol=1e-14)
    p0 = params_in_force(MODEL, params, events, 0.0)
    assert p0[0, MODEL.param_index("ctl")] == 0.0 and p0[1, MODEL.param_index("ctl")] == 1.0


def test_population_baseline_sees_the_antivirals_started_before_it():
    cfg = load_population(EXAMPLES / "populations" / "hbv_decompensated.toml")
    assert cfg.therapy and cfg.therapy[0].start_day < 0
    run = simulate_cohort(cfg, 20, np.array([0.0, 30.0]))
    b = run.baseline
    expected = b["injury_scale"].to_numpy() * P["k_inj_HBV"] * (1 - P["eff_NA"])
    np.testing.assert_allclose(b["inj"].to_numpy(), expected, rtol=1e-12)
    # and ALT follows that injury, not the untreated one
    d = run.derived(slice(0, 20))
    np.testing.assert_allclose(d["ALT"][:, 0], b["ALT"].to_numpy(), rtol=1e-9)
    assert pytest.approx(float(np.median(d["inj"][:, 1]))) == float(np.median(expected))
