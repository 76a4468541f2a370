"""Reference solver on problems with known answers: exponential decay, bolus events, switches."""

import math

import numpy as np
import pytest

from hepatwin.engine import Event, SolverSettings, compile_model, solve
from hepatwin.spec.model import ModelSpec, Module, Parameter, Process, State


def _decay_model():
    spec = ModelSpec("decay", [Module("m", "", states=[State("X", "cell", 0.0)],
                                      parameters=[Parameter("k", 0.5, "1/day", 0, 1, "assumed: test"),
                                                  Parameter("on", 1.0, "1", 0, 1, "assumed: test", constant=False)],
                                      processes=[Process("loss", "on*k*X", {"X": -1})])])
    return compile_model(spec)


def test_bolus_events_match_analytic_solution():
    m = _decay_model()
    t_out = np.array([0.0, 1.0, 2.0, 3.0, 5.0])
    events = [Event(1.0, add={"X": 100.0}), Event(3.0, add={"X": 50.0})]
    sol = solve(m, np.array([0.0]), np.array([0.5, 1.0]), 0.0, t_out, events,
                SolverSettings(method="LSODA", rtol=1e-10, atol=1e-12))
    assert sol.status == "ok"
    x = sol.y[0]
    # output at an event time is the pre-event value
    assert x[1] == 0.0
    assert math.isclose(x[2], 100 * math.exp(-0.5), rel_tol=1e-7)
    assert math.isclose(x[3], 100 * math.exp(-1.0), rel_tol=1e-7)  # day 3, before the second dose
    assert math.isclose(x[4], (100 * math.exp(-1.0) + 50) * math.exp(-1.0), rel_tol=1e-7)


def test_parameter_switch_is_a_discontinuity():
    m = _decay_model()
    sol = solve(m, np.array([10.0]), np.array([0.5, 1.0]), 0.0, [0.0, 2.0, 4.0], [Event(2.0, set={"on": 0.0})],
                SolverSettings(rtol=1e-10, atol=1e-12))
    assert math.isclose(sol.y[0, 1], 10 * math.exp(-1.0), rel_tol=1e-7)
    assert math.isclose(sol.y[0, 2], sol.y[0, 1], rel_tol=1e-9)  # no decay after the switch


def test_all_methods_agree():
    m = _decay_model()
    ys = [solve(m, np.array([1.0]), np.array([0.5, 1.0]), 0.0, [4.0], settings=SolverSettings(method=meth,
          rtol=1e-9, atol=1e-12)).y[0, 0] for meth in ("LSODA", "BDF", "Radau")]
    assert np.allclose(ys, math.exp(-2.0), rtol=1e-6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_failed_patient_is_data_not_exception():
    spec = ModelSpec("blowup", [Module("m", "", states=[State("X", "1", 1.0)],
                                       parameters=[Parameter("k", 1.0, "1/day", 0, 2, "assumed: test")],
                                       processes=[Process("grow", "k*X*X*X", {"X": 1})])])
    sol = solve(compile_model(spec), np.array([1.0]), np.array([1.0]), 0.0, [0.0, 10.0],
                settings=SolverSettings(max_rhs_evals=20_000))
    assert sol.status != "ok"
    assert sol.message
