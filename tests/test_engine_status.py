"""Both engines report a patient's outcome with the same status vocabulary (engine/status.py) and a message
that says what it means; a failed patient is data, not an exception."""

from pathlib import Path

import numpy as np

from hepatwin.engine import SolverSettings, Status, compile_model, solve
from hepatwin.engine.batched import STATUS_NAMES, compile_batched, solve_batch
from hepatwin.engine.status import CODES, MESSAGES, describe
from hepatwin.model import build_model
from hepatwin.plan import plan_run
from hepatwin.scenario import load_scenario
from hepatwin.simulate import simulate

MSC = Path(__file__).resolve().parents[1] / "examples" / "scenarios" / "hbv_decompensated_msc.toml"


def test_one_vocabulary_for_both_engines():
    assert set(STATUS_NAMES.values()) == {s.value for s in Status} == {s.value for s in CODES.values()}
    assert all(MESSAGES[s] for s in Status if s is not Status.OK) and describe(Status.OK, "x") == ""


def test_a_patient_out_of_budget_fails_alike_in_both_engines():
    spec = build_model()
    model = compile_model(spec)
    plan = plan_run(load_scenario(MSC), spec)
    y0, p = model.state_vector(plan.initial), model.param_vector(plan.params)
    ref = solve(model, y0, p, plan.t_start, plan.t_out, plan.events, SolverSettings(max_rhs_evals=50))
    assert ref.status is Status.MAX_STEPS and "more steps" in ref.message and "50" in ref.message
    bm = compile_batched(spec)
    sol = solve_batch(bm, y0[None], p[None], np.array([plan.t_start]), plan.t_out, [plan.events], max_rhs=50)
    assert STATUS_NAMES[int(sol.status[0])] == Status.MAX_STEPS
    ok = simulate(load_scenario(MSC), engine="numba")
    assert ok.status == Status.OK and ok.message == ""
